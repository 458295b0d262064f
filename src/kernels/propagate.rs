//! Twin of shaders/propagate.wgsl.

use crate::lower::layout::{Control, Globals};
use crate::lower::packing::SynapseFormat;
use rayon::prelude::*;
use std::sync::atomic::{AtomicI32, Ordering};

/// Spikes per task of the parallel propagation.
const SPIKES_PER_TASK: usize = 16;

/// Twin of shaders/propagate.wgsl, over all synapses at once (the kernel's chunks only split
/// the same records across bindings).
pub(crate) fn propagate(
    (g, control): (&Globals, &Control),
    (spikes, row_ptr, words): (&[u32], &[u32], &[u32]),
    ring: &[AtomicI32],
) {
    let format = SynapseFormat {
        record_bits: g.record_bits,
        target_bits: g.target_bits,
        delay_bits: g.delay_bits,
        weight_bits: g.weight_bits,
    };
    let step = control.prop_step;
    // Spikes in parallel, adding with atomics as the kernel does: integer addition commutes, so
    // the ring holds the same sums whatever the order.
    let deliver = |&pre: &u32| {
        let pre = pre as usize;
        for j in row_ptr[pre]..row_ptr[pre + 1] {
            let (post, delay, w) = format.decode(words, j as u64);
            let slot = ((step + delay) % g.ring_slots) * g.n_neurons + post;
            ring[(slot * 2 + u32::from(w < 0)) as usize].fetch_add(w, Ordering::Relaxed);
        }
    };
    let spikes = &spikes[..control.prop_count as usize];
    if spikes.len() < 2 * SPIKES_PER_TASK {
        spikes.iter().for_each(deliver);
    } else {
        spikes
            .par_iter()
            .with_min_len(SPIKES_PER_TASK)
            .for_each(deliver);
    }
}
