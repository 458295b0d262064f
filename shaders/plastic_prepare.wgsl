// One invocation after `plastic_post`: records how many spikes the step kept in the spike
// history, and sizes the indirect `plastic_pre` dispatch: one workgroup per kept spike, since
// each may have plastic synapses whose delay makes it arrive next step.
// CPU twin: src/kernels/plastic_prepare.rs.

@group(0) @binding(0) var<uniform> globals: PlasticGlobals;
@group(0) @binding(1) var<storage, read_write> control: Control;
@group(0) @binding(2) var<storage, read_write> hist_count: array<u32>;
@group(0) @binding(3) var<storage, read_write> plastic_args: array<u32, 3>;

@compute @workgroup_size(1)
fn main() {
    hist_count[control.prop_step % globals.hist_slots] = control.prop_count;
    var total = 0u;
    for (var s = 0u; s < globals.hist_slots; s++) {
        total += hist_count[s];
    }
    plastic_args[0] = min(total, MAX_GROUPS_PER_DIM);
    plastic_args[1] = 1u;
    plastic_args[2] = 1u;
}
