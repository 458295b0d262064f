// At the start of a step, when a network with plastic projections runs on several processes:
// the spikes other processes sent that arrive now, fired `interval` steps ago, join the spike
// history of the step they were fired, after that step's own spikes (`plastic_post` kept those
// then). `plastic_pre` finds them there when they reach plastic synapses onto this process's
// neurons, as it finds its own: the build makes the interval shorter than every plastic delay
// between processes, so a spike is in the history before its first arrival. One invocation:
// a step brings few spikes from elsewhere, and this keeps the count's update in one place.
// CPU twin: src/kernels/plastic_inbox.rs.

@group(0) @binding(0) var<uniform> globals: PlasticGlobals;
@group(0) @binding(1) var<storage, read_write> control: Control;
// As prepare_inbox.wgsl reads it: [first step, steps, offsets of each step's spikes, spikes].
@group(0) @binding(2) var<storage, read> inbox: array<u32>;
@group(0) @binding(3) var<storage, read_write> spike_hist: array<u32>;
@group(0) @binding(4) var<storage, read_write> hist_count: array<u32>;

@compute @workgroup_size(1)
fn main() {
    let step = control.step;
    let k = step - inbox[0];
    if (k >= inbox[1]) {
        return;
    }
    let first = inbox[2u + k];
    let count = inbox[3u + k] - first;
    let slot = (step - globals.interval) % globals.hist_slots;
    let base = hist_count[slot];
    for (var i = 0u; i < count; i++) {
        spike_hist[slot * globals.n_neurons + base + i] = inbox[first + i];
    }
    hist_count[slot] = base + count;
}
