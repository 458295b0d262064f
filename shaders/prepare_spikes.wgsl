// One invocation between the neuron update and the propagation of a step: publishes the
// step's spike count, sizes the indirect propagation dispatch, and advances the step counter,
// so a whole chunk of steps needs no host round-trip.
// CPU twin: src/kernels/prepare_spikes.rs.

@group(0) @binding(0) var<storage, read_write> control: Control;
// Workgroup counts of the indirect `propagate` dispatch.
@group(0) @binding(1) var<storage, read_write> propagate_args: array<u32, 3>;

@compute @workgroup_size(1)
fn main() {
    let count = atomicLoad(&control.spike_count);
    control.prop_step = control.step;
    control.prop_count = count;
    atomicStore(&control.spike_count, 0u);
    control.step = control.step + 1u;
    propagate_args[0] = min(count, MAX_GROUPS_PER_DIM);
    propagate_args[1] = 1u;
    propagate_args[2] = 1u;
}
