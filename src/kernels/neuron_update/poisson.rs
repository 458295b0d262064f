//! The Poisson part of the neuron update's twin: each neuron's draws of this step, added to its
//! ring entries before its update reads them.

use super::Block;
use crate::kernels::NeuronTables;
use crate::lower::layout::{PoissonRecord, PopRecord};
use crate::lower::poisson::draw_count;
use crate::rng::hash3;
use std::ops::Range;

/// Longest table drawn from by counting thresholds instead of by binary search.
const COUNTED_TABLE: usize = 64;

/// Neurons per pass of a counted draw.
const DRAW_PASS: usize = 256;

/// Adds the population's Poisson draws of this step to the ring entries of neurons `run` of the
/// block, source by source. The kernel adds them per neuron in source order to what it read
/// from the ring; integer sums that wrap are the same in any order, so the sums are its sums.
pub(super) fn add_poisson(
    tables: &NeuronTables,
    pop: &PopRecord,
    step: u32,
    b: &mut Block,
    run: Range<usize>,
) {
    let sources = &tables.poisson
        [pop.poisson_start as usize..(pop.poisson_start + pop.poisson_count) as usize];
    let (first, last) = ((b.first + run.start) as u64, (b.first + run.end) as u64);
    for src in sources {
        // The kernel's test `i >= target_start && i - target_start < target_count`, as a range.
        let lo = first.max(src.target_start as u64);
        let hi = last.min(src.target_start as u64 + src.target_count as u64);
        if lo >= hi {
            continue;
        }
        let table =
            &tables.poisson_cdf[src.cdf_start as usize..(src.cdf_start + src.cdf_len) as usize];
        let targets = (lo as usize - b.first)..(hi as usize - b.first);
        let draw = Draw {
            src,
            table,
            step,
            local: lo as u32 - pop.start,
        };
        let ring = &mut b.ring[targets.start * 2..targets.end * 2];
        // `binomial_table` writes nondecreasing thresholds; a table that is not (none is) is
        // drawn from by the kernel's own search.
        let counted =
            (1..=COUNTED_TABLE).contains(&table.len()) && table.windows(2).all(|w| w[0] <= w[1]);
        if counted {
            pulp::Arch::new().dispatch(CountedDraws { draw, ring });
        } else {
            for (j, entries) in ring.chunks_exact_mut(2).enumerate() {
                let k = src.k_min + draw_count(table, draw.u(j as u32));
                let entry = entries[src.channel as usize].get_mut();
                *entry = entry.wrapping_add((k as i32).wrapping_mul(src.weight_q));
            }
        }
    }
}

/// One source's draws for a run of its targets, the first being pop-local neuron `local`.
struct Draw<'a> {
    src: &'a PoissonRecord,
    table: &'a [u32],
    step: u32,
    local: u32,
}

impl Draw<'_> {
    /// The uniform draw of the run's `j`-th target, as the kernel hashes it.
    #[inline(always)]
    fn u(&self, j: u32) -> u32 {
        hash3(self.src.key, self.local + j, self.step)
    }
}

/// The draws of a short nondecreasing table, counted: the number of thresholds among the first
/// `len - 1` that are at most `u` is the index the kernel's binary search finds (the first
/// `t` with `u < table[t]`, else `len - 1`). Branch-free, so a pass of neurons vectorises.
struct CountedDraws<'a, 'b> {
    draw: Draw<'a>,
    ring: &'b mut [std::sync::atomic::AtomicI32],
}

impl pulp::WithSimd for CountedDraws<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let CountedDraws { draw, ring } = self;
        let thresholds = &draw.table[..draw.table.len() - 1];
        let src = draw.src;
        let channel = src.channel as usize;
        for (pass, ring) in ring.chunks_mut(DRAW_PASS * 2).enumerate() {
            let m = ring.len() / 2;
            let base = (pass * DRAW_PASS) as u32;
            let mut u = [0u32; DRAW_PASS];
            for (j, u) in u[..m].iter_mut().enumerate() {
                *u = draw.u(base + j as u32);
            }
            let mut k = [src.k_min; DRAW_PASS];
            for &t in thresholds {
                for (k, &u) in k[..m].iter_mut().zip(&u[..m]) {
                    *k += u32::from(t <= u);
                }
            }
            for (entries, &k) in ring.chunks_exact_mut(2).zip(&k[..m]) {
                let entry = entries[channel].get_mut();
                *entry = entry.wrapping_add((k as i32).wrapping_mul(src.weight_q));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::poisson::binomial_table;
    use std::sync::atomic::AtomicI32;

    /// Counted draws over `targets` neurons from `table`: each target's count, as read back
    /// from its excitatory ring entry (weight 1).
    fn counted(table: &[u32], k_min: u32, targets: usize) -> Vec<i32> {
        let src = PoissonRecord {
            key: 77,
            k_min,
            weight_q: 1,
            ..Default::default()
        };
        let mut ring: Vec<AtomicI32> = (0..targets * 2).map(|_| AtomicI32::new(0)).collect();
        let draw = Draw {
            src: &src,
            table,
            step: 12,
            local: 5,
        };
        pulp::Arch::new().dispatch(CountedDraws {
            draw,
            ring: &mut ring,
        });
        ring.iter_mut().step_by(2).map(|a| *a.get_mut()).collect()
    }

    #[test]
    fn counting_thresholds_finds_what_the_kernels_search_finds() {
        let mut tables: Vec<(Vec<u32>, u32)> = [(2000, 8e-4), (10, 0.5), (300, 0.02), (1, 0.3)]
            .into_iter()
            .map(|(n, p)| {
                let t = binomial_table(n, p).unwrap();
                (t.thresholds, t.k_min)
            })
            .collect();
        // Ties, a threshold of 0, a last threshold below u32::MAX (draws above all but the
        // last give len - 1), and a table of one entry.
        tables.push((vec![0, 1 << 30, 1 << 30, 3 << 30, 0xe000_0000], 2));
        tables.push((vec![u32::MAX], 4));
        for (table, k_min) in &tables {
            assert!(table.len() <= COUNTED_TABLE);
            // 600 targets: two full passes and part of a third.
            let got = counted(table, *k_min, 600);
            assert_eq!(got.len(), 600);
            for (j, &k) in got.iter().enumerate() {
                let u = hash3(77, 5 + j as u32, 12);
                let want = k_min + draw_count(table, u);
                assert_eq!(k as u32, want, "target {j}, u {u}, table {table:?}");
            }
        }
    }
}
