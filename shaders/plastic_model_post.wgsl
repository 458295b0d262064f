// User-defined synapse models on spiking projections, when a post neuron fires: as
// `plastic_post`, one workgroup per spike of the step (indirect), its invocations striding over
// the synapses onto the neuron that fired; each synapse of a model (`MODEL` set, not `CUT`) has
// its event run: traces brought to the step, post traces up by 1, the model's `on_post`. The
// generator writes, above this text, `model_event` and `model_bound` (a switch over the
// network's models) and each model's functions (src/model/plasticity/spiking.rs).
// `plastic_post`, which runs first, keeps the step's spikes in the history for every plastic
// synapse. CPU twin: src/kernels/plastic_model_post.rs.

@group(0) @binding(0) var<uniform> globals: PlasticGlobals;
@group(0) @binding(1) var<storage, read_write> control: Control;
@group(0) @binding(2) var<storage, read> spikes: array<u32>;
@group(0) @binding(3) var<storage, read> syns: array<PlasticSyn>;
@group(0) @binding(4) var<storage, read> decay: array<f32>;
@group(0) @binding(5) var<storage, read> post_ptr: array<u32>;
@group(0) @binding(6) var<storage, read> by_post: array<u32>;
@group(0) @binding(7) var<storage, read_write> state: array<PlasticState>;
@group(0) @binding(8) var<storage, read> model_syn: array<ModelSyn>;
@group(0) @binding(9) var<storage, read_write> model_vars: array<f32>;
@group(0) @binding(10) var<storage, read> model_params: array<f32>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let now = control.prop_step;
    let count = atomicLoad(&control.spike_count[now % 2u]);
    for (var s = wg.x; s < count; s += groups.x) {
        let post = spikes[s];
        for (var j = post_ptr[post] + lid; j < post_ptr[post + 1u]; j += WORKGROUP_SIZE) {
            let k = by_post[j];
            let rule = syns[k].rule;
            if ((rule & (CUT | MODEL)) != MODEL) {
                continue;
            }
            model_event(rule & ~MODEL, k, now, true);
        }
    }
}
