//! Twin of shaders/propagate.wgsl.

use crate::lower::layout::{Control, Globals};
use crate::lower::packing::{records_per_part, SynapseFormat, MAX_PART_BYTES};
use rayon::prelude::*;
use std::sync::atomic::{AtomicI32, Ordering};

/// Spikes per task of the parallel propagation.
const SPIKES_PER_TASK: usize = 16;

/// Twin of shaders/propagate.wgsl, over all synapses at once. The records are read in parts of
/// the largest size a GPU binds (`MAX_PART_BYTES`), each addressed from its own first word in
/// u32 as the kernel addresses its chunk, so the twin computes the same word and bit for every
/// record a kernel of the largest chunks reads (a GPU with smaller bindings splits the same
/// records more finely, which changes which chunk a record is in, not its value).
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
    let per_part = records_per_part(MAX_PART_BYTES, g.record_bits) as u32;
    let step = control.prop_step;
    // Spikes in parallel, adding with atomics as the kernel does: integer addition commutes, so
    // the ring holds the same sums whatever the order.
    let deliver = |&pre: &u32| {
        let pre = pre as usize;
        let (mut j, end) = (row_ptr[pre], row_ptr[pre + 1]);
        // A row may cross from one part into the next.
        while j < end {
            let base = j / per_part * per_part;
            let part_end = end.min(base.saturating_add(per_part));
            let first_word = (base as u64 * g.record_bits as u64 / 32) as usize;
            let part = &words[first_word..];
            for r in j - base..part_end - base {
                let (post, delay, w) = format.decode_in_part(part, r);
                let slot = ((step + delay) % g.ring_slots) * g.n_neurons + post;
                ring[(slot * 2 + u32::from(w < 0)) as usize].fetch_add(w, Ordering::Relaxed);
            }
            j = part_end;
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
