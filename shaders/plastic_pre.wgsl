// Spikes arriving at STDP synapses at the next step (synapses of user-defined models, `MODEL`,
// are `plastic_model_pre`'s): workgroup k (striding) takes the k-th
// kept spike, counting back from this step's (delay 1) to the oldest kept (the longest
// delay), and its invocations stride over the spike's plastic synapses with exactly that delay.
// Each delivers its weight into the delay ring's slot of the next step (an i32 atomic, as
// `propagate`), then brings its traces to that step, adds `a_plus` to its pre trace and its
// post trace to the weight, within the bounds. A synapse has one delay, and a neuron fires at
// most once a step, so no two invocations touch one synapse.
// CPU twin: src/kernels/plastic_pre.rs.

@group(0) @binding(0) var<uniform> globals: PlasticGlobals;
@group(0) @binding(1) var<storage, read_write> control: Control;
@group(0) @binding(2) var<storage, read> spike_hist: array<u32>;
@group(0) @binding(3) var<storage, read> hist_start: array<u32>;
@group(0) @binding(4) var<storage, read> delay_ptr: array<u32>;
@group(0) @binding(5) var<storage, read> syns: array<PlasticSyn>;
@group(0) @binding(6) var<storage, read> rules: array<StdpRule>;
@group(0) @binding(7) var<storage, read> decay: array<f32>;
@group(0) @binding(8) var<storage, read_write> state: array<PlasticState>;
@group(0) @binding(9) var<storage, read_write> ring: array<atomic<i32>>;

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
            if ((syn.rule & (CUT | MODEL)) != 0u) {
                continue;
            }
            let rule = rules[syn.rule];
            var st = state[j];
            let inhibitory = st.w < 0.0;
            let q = i32(round(st.w * select(syn.scale, syn.scale_in, inhibitory)));
            if (q != 0) {
                atomicAdd(&ring[(slot_now + syn.post) * 2u + select(0u, 1u, inhibitory)], q);
            }
            st = bring(st, rule, now);
            st.apre = flush(rn(st.apre + rule.a_plus));
            st.w = bound(flush(rn(st.w + st.apost)), rule.w_min, rule.w_max);
            state[j] = st;
        }
    }
}
