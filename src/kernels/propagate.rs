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
    (g, control): (&Globals, &mut Control),
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
    // As the kernel's first invocation: the next neuron update computes the next step.
    control.step = step.wrapping_add(1);
    let control: &Control = control;
    // Record `j`'s ring entry and weight.
    let entry = |j: u32| {
        let (post, delay, w) = format.decode_window(words, j as u64);
        let slot = ((step + delay) % g.ring_slots) * g.n_neurons + post;
        ((slot * 2 + u32::from(w < 0)) as usize, w)
    };
    let spikes = &spikes[control.prop_first as usize..][..control.prop_count() as usize];
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
        // Many spikes: one task per range of target neurons, each reading every record and
        // adding only those onto its own targets. A task is then the only writer of its ring
        // entries, so it adds with a plain load and store, not a locked add (which would stop
        // the cache misses of one addition from overlapping the next); a record is decoded
        // once per task, which the window decoder makes cheap. Integer addition commutes, so
        // the ring holds the same sums as the kernel's atomic additions.
        let ring: &[AtomicI32] = ring;
        let n = g.n_neurons;
        let tasks = rayon::current_num_threads().max(1) as u32;
        (0..tasks).into_par_iter().for_each(|t| {
            let mine = (n as u64 * t as u64 / tasks as u64) as u32
                ..(n as u64 * (t + 1) as u64 / tasks as u64) as u32;
            for &pre in spikes {
                for j in row_ptr[pre as usize]..row_ptr[pre as usize + 1] {
                    let (post, delay, w) = format.decode_window(words, j as u64);
                    if mine.contains(&post) {
                        let slot = ((step + delay) % g.ring_slots) * n + post;
                        let at = &ring[(slot * 2 + u32::from(w < 0)) as usize];
                        at.store(
                            at.load(Ordering::Relaxed).wrapping_add(w),
                            Ordering::Relaxed,
                        );
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::propagate;
    use crate::lower::layout::{Control, Globals};
    use crate::lower::packing::SynapseFormat;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The ring after delivering `spikes` one record at a time, from the field decoder.
    fn reference(
        g: &Globals,
        c: &Control,
        spikes: &[u32],
        rows: &[u32],
        words: &[u32],
    ) -> Vec<i32> {
        let f = SynapseFormat::for_model(g.n_neurons, g.ring_slots - 1).unwrap();
        let mut ring = vec![0i32; (g.ring_slots * g.n_neurons * 2) as usize];
        for &pre in &spikes[c.prop_first as usize..][..c.prop_count() as usize] {
            for j in rows[pre as usize]..rows[pre as usize + 1] {
                let (post, delay, w) = f.decode(words, j as u64);
                let slot = ((c.prop_step + delay) % g.ring_slots) * g.n_neurons + post;
                let at = (slot * 2 + u32::from(w < 0)) as usize;
                ring[at] = ring[at].wrapping_add(w);
            }
        }
        ring
    }

    #[test]
    fn few_and_many_spikes_on_any_number_of_threads_fill_the_ring_alike() {
        let (n, slots) = (500u32, 8u32);
        let f = SynapseFormat::for_model(n, slots - 1).unwrap();
        // Rows of 0 to 60 records with scattered targets, delays and signed weights.
        let mut rows = vec![0u32];
        for i in 0..n {
            rows.push(rows[i as usize] + (i * 37) % 61);
        }
        let total = *rows.last().unwrap() as u64;
        let mut words = vec![0u32; f.words_for(total) as usize];
        for j in 0..total {
            let w = ((j * 7919) % 2001) as i32 - 1000;
            f.encode(
                &mut words,
                j,
                ((j * 104_729) % n as u64) as u32,
                1 + (j % 7) as u32,
                w,
            );
        }
        let g = Globals {
            n_neurons: n,
            ring_slots: slots,
            record_bits: f.record_bits,
            target_bits: f.target_bits,
            delay_bits: f.delay_bits,
            weight_bits: f.weight_bits,
            ..Globals::default()
        };
        let spikes: Vec<u32> = (0..n).map(|i| (i * 13) % n).collect();
        // 5 spikes (one thread, plain additions) and 200 (tasks by target range), from a
        // list that does not start at 0 (as the inbox's propagation reads it).
        for (first, count) in [(3u32, 5u32), (7, 200)] {
            let mut c = Control {
                prop_step: 5,
                prop_first: first,
                spike_count: [0, count],
                ..Control::default()
            };
            let expected = reference(&g, &c, &spikes, &rows, &words);
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut ring: Vec<AtomicI32> =
                    (0..expected.len()).map(|_| AtomicI32::new(0)).collect();
                pool.install(|| propagate((&g, &mut c), (&spikes, &rows, &words), &mut ring));
                assert_eq!(c.step, 6, "the propagation advances the step");
                let got: Vec<i32> = ring.iter().map(|a| a.load(Ordering::Relaxed)).collect();
                assert_eq!(got, expected, "{count} spikes on {threads} threads");
            }
        }
    }
}
