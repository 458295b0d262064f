//! Twin of shaders/propagate.wgsl.

use super::CpuState;
use crate::lower::Plan;
use rayon::prelude::*;
use std::sync::atomic::Ordering;

/// Spikes per task of the parallel propagation.
const SPIKES_PER_TASK: usize = 16;

/// Twin of shaders/propagate.wgsl, over all synapses at once (the kernel's chunks only split
/// the same records across bindings).
pub(crate) fn propagate(plan: &Plan, words: &[u32], st: &mut CpuState) {
    let g = &plan.globals;
    let step = st.prop_step;
    let ring = &st.ring;
    // Spikes in parallel, adding with atomics as the kernel does: integer addition commutes, so
    // the ring holds the same sums whatever the order.
    let deliver = |&pre: &u32| {
        let pre = pre as usize;
        for j in plan.row_ptr[pre]..plan.row_ptr[pre + 1] {
            let (post, delay, w) = plan.syn_format.decode(words, j as u64);
            let slot = ((step + delay) % g.ring_slots) * g.n_neurons + post;
            ring[(slot * 2 + u32::from(w < 0)) as usize].fetch_add(w, Ordering::Relaxed);
        }
    };
    let spikes = &st.spikes[..st.prop_count as usize];
    if spikes.len() < 2 * SPIKES_PER_TASK {
        spikes.iter().for_each(deliver);
    } else {
        spikes
            .par_iter()
            .with_min_len(SPIKES_PER_TASK)
            .for_each(deliver);
    }
}
