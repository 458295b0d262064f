// User-defined synapse models on spiking projections, when spikes arrive: as `plastic_pre`,
// workgroup k (striding) takes the k-th kept spike and its invocations stride over the spike's
// synapses whose delay makes it arrive next step. Each synapse of a model (`MODEL` set, not
// `CUT`) delivers its weight, clamped to the model's bound, into the delay ring's excitatory
// slot of the next step (an i32 atomic, as `propagate`), then has its event run: traces
// brought to the step, pre traces up by 1, the model's `on_pre`. The generator writes, above
// this text, `model_event` and `model_bound` and each model's functions
// (src/model/plasticity/spiking.rs). CPU twin: src/kernels/plastic_model_pre.rs.

@group(0) @binding(0) var<uniform> globals: PlasticGlobals;
@group(0) @binding(1) var<storage, read_write> control: Control;
@group(0) @binding(2) var<storage, read> spike_hist: array<u32>;
@group(0) @binding(3) var<storage, read> hist_start: array<u32>;
@group(0) @binding(4) var<storage, read> delay_ptr: array<u32>;
@group(0) @binding(5) var<storage, read> syns: array<PlasticSyn>;
@group(0) @binding(6) var<storage, read> decay: array<f32>;
@group(0) @binding(7) var<storage, read_write> state: array<PlasticState>;
@group(0) @binding(8) var<storage, read_write> ring: array<atomic<i32>>;
@group(0) @binding(9) var<storage, read> model_syn: array<ModelSyn>;
@group(0) @binding(10) var<storage, read_write> model_vars: array<f32>;
@group(0) @binding(11) var<storage, read> model_params: array<f32>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let h = globals.hist_slots;
    let n = globals.n_neurons;
    let now = control.prop_step + 1u;
    let slot_now = (now % globals.ring_slots) * n;
    for (var k = wg.x; ; k += groups.x) {
        let spike = kept_spike(k, now);
        if (spike.x == 0u) {
            break;
        }
        let segment = spike.y * h + spike.x;
        for (var j = delay_ptr[segment - 1u] + lid; j < delay_ptr[segment]; j += WORKGROUP_SIZE) {
            let syn = syns[j];
            if ((syn.rule & (CUT | MODEL)) != MODEL) {
                continue;
            }
            let m = syn.rule & ~MODEL;
            let b = model_bound(m);
            let w = bound(state[j].w, -b, b);
            let inhibitory = w < 0.0;
            let q = i32(round(w * select(syn.scale, syn.scale_in, inhibitory)));
            if (q != 0) {
                atomicAdd(&ring[(slot_now + syn.post) * 2u + select(0u, 1u, inhibitory)], q);
            }
            model_event(m, j, now, false);
        }
    }
}
