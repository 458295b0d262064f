// One invocation after `plastic_post`: records how many spikes the step kept in the spike
// history, lays the kept spikes out in the order the arrival kernels take them (by delay d = 1,
// the step's own, to the longest: `hist_start[d - 1] .. hist_start[d]` are the spikes of step
// now - d, with now the next step), and sizes the indirect `plastic_pre` dispatch: one
// workgroup per kept spike, since each may have plastic synapses whose delay makes it arrive
// next step. With the starts computed once here, a workgroup finds its spike by a binary search
// instead of a scan of the whole history.
// CPU twin: src/kernels/plastic_prepare.rs.

@group(0) @binding(0) var<uniform> globals: PlasticGlobals;
@group(0) @binding(1) var<storage, read_write> control: Control;
@group(0) @binding(2) var<storage, read_write> hist_count: array<u32>;
@group(0) @binding(3) var<storage, read_write> hist_start: array<u32>;
@group(0) @binding(4) var<storage, read_write> plastic_args: array<u32, 3>;

@compute @workgroup_size(1)
fn main() {
    let h = globals.hist_slots;
    hist_count[control.prop_step % h] = atomicLoad(&control.spike_count[control.prop_step % 2u]);
    let now = control.prop_step + 1u;
    var total = 0u;
    hist_start[0] = 0u;
    for (var d = 1u; d <= h; d++) {
        total += hist_count[(now % h + h - d) % h];
        hist_start[d] = total;
    }
    plastic_args[0] = min(total, MAX_GROUPS_PER_DIM);
    plastic_args[1] = 1u;
    plastic_args[2] = 1u;
}
