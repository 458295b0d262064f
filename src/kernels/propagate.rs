//! Twin of shaders/propagate.wgsl.

use crate::lower::layout::{Control, Globals};
use crate::lower::packing::SynapseFormat;
use rayon::prelude::*;
use std::sync::atomic::{AtomicI32, Ordering};

/// Spikes per task of the parallel propagation.
const SPIKES_PER_TASK: usize = 16;

/// Synapse records decoded before their additions, on one thread.
const DECODE_BATCH: usize = 64;

/// Twin of shaders/propagate.wgsl, over all synapses at once. Each record is read from its
/// bit offset in the whole array through one 64-bit window (`SynapseFormat::decode_window`):
/// the kernel finds the same record's fields within its part of the array, field by field,
/// and reads the same values (`lower::packing`'s tests compare the decoders record for
/// record; how the array is split into parts changes where a record is read from, not its
/// value).
pub(crate) fn propagate(
    (g, control): (&Globals, &Control),
    (spikes, row_ptr, words): (&[u32], &[u32], &[u32]),
    ring: &mut [AtomicI32],
) {
    let format = SynapseFormat {
        record_bits: g.record_bits,
        target_bits: g.target_bits,
        delay_bits: g.delay_bits,
        weight_bits: g.weight_bits,
    };
    let step = control.prop_step;
    // Record `j`'s ring entry and weight.
    let entry = |j: u32| {
        let (post, delay, w) = format.decode_window(words, j as u64);
        let slot = ((step + delay) % g.ring_slots) * g.n_neurons + post;
        ((slot * 2 + u32::from(w < 0)) as usize, w)
    };
    let spikes = &spikes[control.prop_first as usize..][..control.prop_count as usize];
    if spikes.len() < 2 * SPIKES_PER_TASK {
        // A few spikes: on this thread, which holds the ring alone, so plain additions. The
        // ring entries a row reaches are scattered and mostly miss the caches: a batch of
        // records is decoded first, then its additions run back to back, independent of
        // each other, so their misses overlap.
        for &pre in spikes {
            let (mut j, end) = (row_ptr[pre as usize], row_ptr[pre as usize + 1]);
            while j < end {
                let batch_end = end.min(j + DECODE_BATCH as u32);
                let mut batch = [(0, 0); DECODE_BATCH];
                for (slot, j) in batch.iter_mut().zip(j..batch_end) {
                    *slot = entry(j);
                }
                for &(at, w) in &batch[..(batch_end - j) as usize] {
                    let sum = ring[at].get_mut();
                    *sum = sum.wrapping_add(w);
                }
                j = batch_end;
            }
        }
    } else {
        // Spikes in parallel, adding with atomics as the kernel does: integer addition
        // commutes, so the ring holds the same sums whatever the order.
        let ring: &[AtomicI32] = ring;
        spikes
            .par_iter()
            .with_min_len(SPIKES_PER_TASK)
            .for_each(|&pre| {
                for j in row_ptr[pre as usize]..row_ptr[pre as usize + 1] {
                    let (at, w) = entry(j);
                    ring[at].fetch_add(w, Ordering::Relaxed);
                }
            });
    }
}
