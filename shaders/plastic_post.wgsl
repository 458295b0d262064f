// STDP when a post neuron fires: one workgroup per spike of the step (indirect, as
// `propagate`), its invocations striding over the plastic synapses onto the neuron that
// fired; each brings its traces to the step, adds `a_minus` to the post trace and its pre trace
// to the weight, within the bounds. Each synapse has one post neuron, which fires at most once a
// step, so no two invocations touch one synapse. Invocation 0 also keeps the spike in the
// spike history that `plastic_pre` reads as spikes arrive.
// CPU twin: src/kernels/plastic_post.rs.

@group(0) @binding(0) var<uniform> globals: PlasticGlobals;
@group(0) @binding(1) var<storage, read_write> control: Control;
@group(0) @binding(2) var<storage, read> spikes: array<u32>;
@group(0) @binding(3) var<storage, read> syns: array<PlasticSyn>;
@group(0) @binding(4) var<storage, read> rules: array<StdpRule>;
@group(0) @binding(5) var<storage, read> decay: array<f32>;
@group(0) @binding(6) var<storage, read> post_ptr: array<u32>;
@group(0) @binding(7) var<storage, read> by_post: array<u32>;
@group(0) @binding(8) var<storage, read_write> state: array<PlasticState>;
@group(0) @binding(9) var<storage, read_write> spike_hist: array<u32>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let now = control.prop_step;
    let count = atomicLoad(&control.spike_count[now % 2u]);
    let slot = now % globals.hist_slots;
    for (var s = wg.x; s < count; s += groups.x) {
        let post = spikes[s];
        if (lid == 0u) {
            spike_hist[slot * globals.n_neurons + s] = post;
        }
        for (var j = post_ptr[post] + lid; j < post_ptr[post + 1u]; j += WORKGROUP_SIZE) {
            let k = by_post[j];
            let syn = syns[k];
            if ((syn.rule & (CUT | MODEL)) != 0u) {
                continue;
            }
            let rule = rules[syn.rule];
            var st = bring(state[k], rule, now);
            st.apost = flush(rn(st.apost + rule.a_minus));
            st.w = bound(flush(rn(st.w + st.apre)), rule.w_min, rule.w_max);
            state[k] = st;
        }
    }
}
