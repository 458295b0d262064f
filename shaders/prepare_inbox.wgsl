// One invocation at the start of a step, when a network runs on several processes: points the
// inbox's propagation at the spikes other processes sent that arrive this step. The inbox is
// written by the host between chunks: [first step, steps, then steps + 1 word offsets into it,
// then the spiking neurons]; the spikes of step `first + k` are words offsets[k] ..
// offsets[k + 1]. Their synapses' delays were shortened by the exchange interval when the
// process's part was built, so they land in the delay ring where a single process puts them.
// CPU twin: src/kernels/prepare_inbox.rs.

@group(0) @binding(0) var<storage, read_write> control: Control;
@group(0) @binding(1) var<storage, read> inbox: array<u32>;
@group(0) @binding(2) var<storage, read_write> inbox_control: Control;
// Workgroup counts of the indirect propagation of the inbox.
@group(0) @binding(3) var<storage, read_write> inbox_args: array<u32, 3>;

@compute @workgroup_size(1)
fn main() {
    let k = control.step - inbox[0];
    var first = 0u;
    var count = 0u;
    if (k < inbox[1]) {
        first = inbox[2u + k];
        count = inbox[3u + k] - first;
    }
    inbox_control.prop_step = control.step;
    inbox_control.prop_first = first;
    atomicStore(&inbox_control.spike_count[control.step % 2u], count);
    inbox_args[0] = min(count, MAX_GROUPS_PER_DIM);
    inbox_args[1] = 1u;
    inbox_args[2] = 1u;
}
