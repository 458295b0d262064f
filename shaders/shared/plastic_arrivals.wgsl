// What the arrival kernels (`plastic_pre`, `plastic_model_pre`) share: finding their spike.
// Needs `globals` (a PlasticGlobals), `hist_start` and `spike_hist` in scope.

// The k-th kept spike whose plastic synapses may deliver at step `now`, in the order
// `plastic_prepare` laid out: its delay d (the one with hist_start[d - 1] <= k < hist_start[d],
// by binary search) and its pre neuron, read from the history slot of step now - d; d = 0 once
// k is past the last kept spike.
fn kept_spike(k: u32, now: u32) -> vec2<u32> {
    let h = globals.hist_slots;
    if (k >= hist_start[h]) {
        return vec2<u32>(0u, 0u);
    }
    var lo = 1u;
    var hi = h;
    while (lo < hi) {
        let mid = (lo + hi) / 2u;
        if (k < hist_start[mid]) {
            hi = mid;
        } else {
            lo = mid + 1u;
        }
    }
    let slot = (now % h + h - lo) % h;
    return vec2<u32>(lo, spike_hist[slot * globals.n_neurons + k - hist_start[lo - 1u]]);
}
