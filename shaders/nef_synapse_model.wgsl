// The kernel of a user's synapse model (src/model/plasticity). The generator writes, above
// this text, the `INFO_*` offsets into `info` and `NO_POST` (from src/model/plasticity/kernel.rs,
// so the two cannot drift), `N_VARS` (the weight and the state variables) and one function per
// snippet, which
// loads the model's variables into locals, runs the user's statements, and writes the
// read-write ones back; `//@CALLS@` below becomes the calls of the snippets the model has.
// One thread per row segment of the connection's weight matrix, as nef_pes: each synapse is
// updated by exactly one thread, so snippets need no atomics.
// CPU twin: `nef_synapse_model` in src/kernels/nef_synapse_model.rs, which calls the model's Rust twin.

@group(0) @binding(0) var<uniform> globals: NefGlobals;
@group(0) @binding(1) var<storage, read> control: NefControl;
@group(0) @binding(2) var<storage, read> sig: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;
@group(0) @binding(4) var<storage, read> rows: array<SynapseRow>;
// Where the rule's signals are: see `INFO_*` in src/model/plasticity/kernel.rs.
@group(0) @binding(5) var<storage, read> info: array<u32>;

// Trace `k` (pre traces first, then post traces) of neuron `neuron`: the filtered spike train
// times the scale that makes a spike add 1.
fn snippet_trace(k: u32, neuron: u32) -> f32 {
    let at = info[INFO_TRACES + 2u * k];
    return rn(sig[at + neuron] * bitcast<f32>(info[INFO_TRACES + 2u * k + 1u]));
}

fn snippet_param(k: u32) -> f32 {
    return sig[info[INFO_PARAMS] + k];
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let i = nef_row(wg, lid);
    if (i >= arrayLength(&rows)) {
        return;
    }
    let r = rows[i];
    let t = rn(f32(control.step + 1u) * bitcast<f32>(info[INFO_DT]));
    let error = sig[info[INFO_ERR] + r.post];
    let post_out = info[INFO_POST_OUT];
    let post_spiked = post_out != NO_POST && sig[post_out + r.post] != 0.0;
    let state = info[INFO_STATE];
    let stride = info[INFO_STRIDE];
    for (var j = 0u; j < r.cols; j++) {
        let pre = r.pre + j;
        let syn = r.syn + j;
        var v: array<f32, N_VARS>;
        v[0] = w[r.w_off + j];
        for (var k = 1u; k < N_VARS; k++) {
            v[k] = w[state + (k - 1u) * stride + syn];
        }
        let pre_spiked = sig[info[INFO_PRE_OUT] + pre] != 0.0;
//@CALLS@
        w[r.w_off + j] = v[0];
        for (var k = 1u; k < N_VARS; k++) {
            w[state + (k - 1u) * stride + syn] = v[k];
        }
    }
}
