//! Counts and packs synapses into CSR order (rows by pre neuron), bucket by bucket.
//!
//! Each bucket of consecutive pre neurons (`synapses::Buckets`) is one task, which walks its
//! synapses row by row: first to count its rows and its contribution to the per-target input
//! bounds, then, once the fixed-point scales are known, to write its records into a slice of
//! its own, so the 2 GB record array is written front to back. Partial results are combined in
//! integers, so the plan is the same on any number of threads.

use super::packing::SynapseFormat;
use super::part::Partition;
use super::synapses::BucketSource;
use crate::error::{Error, Result};
use rayon::prelude::*;

/// What one pass over the synapses learns, for the fixed-point scales and the record format.
pub struct Census {
    pub row_ptr: Vec<u32>,
    /// Per target neuron and channel: the sum of |weight| of its synapses, pA.
    pub bound: Vec<[f64; 2]>,
    /// Per target population and channel: sum and count of |weight|, and the largest |weight|.
    pub typical: Vec<[(f64, u64); 2]>,
    pub largest: Vec<[f64; 2]>,
    pub max_delay: u32,
    /// When the network runs on several processes: the synapses onto each process's neurons,
    /// and the shortest delay of any synapse from one process's neurons to another's
    /// (`u32::MAX` without one), alike on every process.
    pub onto: Vec<u64>,
    pub shortest_between: u32,
}

/// The synapses a process keeps when one network runs on several: those onto its own
/// neurons. Its rows from other processes' neurons are delivered `interval` steps late (their
/// spikes arrive with the exchange), so their delays are kept that much shorter (`interval`
/// is at most the shortest delay between two processes' neurons).
#[derive(Clone, Debug)]
pub struct Keep {
    pub owned: std::ops::Range<u32>,
    pub interval: u32,
}

/// The channel of a weight: 0 excitatory (w >= 0), 1 inhibitory.
pub fn channel(w: f64) -> usize {
    usize::from(w < 0.0)
}

/// |weight| in the census's fixed point (2^-20 pA, rounded up). Sums are kept in integers so
/// that partial sums from any number of threads combine to the same bits.
fn census_units(w: f64) -> u128 {
    // Through u64: a direct f64 -> u128 conversion is a slow library call; weights above
    // `MAX_WEIGHT_PA`, which would saturate it, are refused before they get here.
    (w.abs() * (1u64 << 20) as f64).ceil() as u64 as u128
}

/// The largest |weight| the census sums exactly (|w| x 2^20 within u64), about 1.76e13 pA.
pub const MAX_WEIGHT_PA: f64 = u64::MAX as f64 / (1u64 << 20) as f64 / 1.000_001;

fn from_census_units(x: u128) -> f64 {
    x as f64 / (1u64 << 20) as f64
}

/// Partial census of some buckets, in integers.
struct Partial {
    bound: Vec<[u128; 2]>,
    typical: Vec<[(u128, u64); 2]>,
    largest: Vec<[f64; 2]>,
    max_delay: u32,
    onto: Vec<u64>,
    shortest_between: u32,
    bad_weight: Option<(u32, u32, f32)>,
}

impl Partial {
    fn new(n: usize, n_pops: usize, ranks: usize) -> Partial {
        Partial {
            bound: vec![[0; 2]; n],
            typical: vec![[(0, 0); 2]; n_pops],
            largest: vec![[0.0; 2]; n_pops],
            max_delay: 0,
            onto: vec![0; ranks],
            shortest_between: u32::MAX,
            bad_weight: None,
        }
    }

    fn merge(mut self, o: Partial) -> Partial {
        for (a, b) in self.bound.iter_mut().zip(&o.bound) {
            a[0] += b[0];
            a[1] += b[1];
        }
        for p in 0..self.typical.len() {
            for c in 0..2 {
                self.typical[p][c].0 += o.typical[p][c].0;
                self.typical[p][c].1 += o.typical[p][c].1;
                self.largest[p][c] = self.largest[p][c].max(o.largest[p][c]);
            }
        }
        self.max_delay = self.max_delay.max(o.max_delay);
        for (a, b) in self.onto.iter_mut().zip(&o.onto) {
            *a += b;
        }
        self.shortest_between = self.shortest_between.min(o.shortest_between);
        self.bad_weight = self.bad_weight.or(o.bad_weight);
        self
    }
}

/// Counts rows (per bucket: its own pre neurons) and input bounds (integer partial sums merged
/// in any order), in parallel. With `part`, one process's part of a network on several: the
/// rows hold only the synapses onto its own neurons, while the bounds, and so the fixed-point
/// scales, are those of the whole network.
pub fn census(
    synapses: &impl BucketSource,
    pop_index: &[u32],
    n_pops: usize,
    part: Option<&Partition>,
) -> Result<Census> {
    let ranks = part.map_or(1, |p| p.ranks as usize);
    let owned = part.map_or(0..u32::MAX, |p| p.owned());
    let buckets = synapses.buckets();
    let n = buckets.n_neurons as usize;
    let mut row_ptr = vec![0u32; n + 1];
    let mut rows: Vec<&mut [u32]> = Vec::with_capacity(buckets.count);
    let mut rest: &mut [u32] = &mut row_ptr[1..];
    for b in 0..buckets.count {
        let (head, tail) = rest.split_at_mut(buckets.range(b).len());
        rows.push(head);
        rest = tail;
    }
    let total = rows
        .into_par_iter()
        .enumerate()
        .try_fold(
            || Partial::new(n, n_pops, ranks),
            |mut acc, (b, counts)| {
                let first = buckets.range(b).start;
                synapses.for_each_in_bucket(b, |pre_offset, post, weight_pa, delay| {
                    let w = weight_pa as f64;
                    if !w.is_finite() || w.abs() > MAX_WEIGHT_PA {
                        acc.bad_weight
                            .get_or_insert((first + pre_offset, post, weight_pa));
                        return Ok(());
                    }
                    let (ch, p) = (channel(w), pop_index[post as usize] as usize);
                    let units = census_units(w);
                    if owned.contains(&post) {
                        counts[pre_offset as usize] += 1;
                    }
                    if let Some(part) = part {
                        let (from, to) = (part.owner_of(first + pre_offset), part.owner_of(post));
                        acc.onto[to as usize] += 1;
                        if from != to {
                            acc.shortest_between = acc.shortest_between.min(delay as u32);
                        }
                    }
                    acc.bound[post as usize][ch] += units;
                    acc.typical[p][ch].0 += units;
                    acc.typical[p][ch].1 += 1;
                    acc.largest[p][ch] = acc.largest[p][ch].max(w.abs());
                    acc.max_delay = acc.max_delay.max(delay as u32);
                    Ok(())
                })?;
                Ok(acc)
            },
        )
        .try_reduce(|| Partial::new(n, n_pops, ranks), |a, b| Ok(a.merge(b)))?;
    if let Some((pre, post, w)) = total.bad_weight {
        if !w.is_finite() {
            return Err(Error::Validation(format!(
                "synapse {pre} -> {post} has weight {w} pA, which does not fit f32"
            )));
        }
        return Err(Error::Validation(format!(
            "synapse {pre} -> {post} has weight {w:e} pA, above the largest weight lamina \
             accumulates exactly, {MAX_WEIGHT_PA:.3e} pA (input is summed in fixed point, \
             and the build sizes it from the sum of |weight| x 2^20 in 64 bits). Weights are \
             in pA: rescale them"
        )));
    }
    running_sum(&mut row_ptr)?;
    Ok(Census {
        row_ptr,
        bound: total
            .bound
            .iter()
            .map(|b| [from_census_units(b[0]), from_census_units(b[1])])
            .collect(),
        typical: total
            .typical
            .iter()
            .map(|t| {
                [
                    (from_census_units(t[0].0), t[0].1),
                    (from_census_units(t[1].0), t[1].1),
                ]
            })
            .collect(),
        largest: total.largest,
        max_delay: total.max_delay,
        onto: total.onto,
        shortest_between: total.shortest_between,
    })
}

/// Turns row lengths (after a leading 0) into row pointers, refusing more records than a u32
/// indexes.
fn running_sum(row_ptr: &mut [u32]) -> Result<()> {
    let mut acc = 0u64;
    for x in row_ptr.iter_mut().skip(1) {
        acc += *x as u64;
        *x = u32::try_from(acc).map_err(|_| {
            Error::Build("more than 2^32 - 1 synapses; a plan cannot index them".to_string())
        })?;
    }
    Ok(())
}

/// Packs the synapses into the records of `row_ptr`'s rows, with weights quantised by
/// `quantise(post, weight)`. Each bucket fills a word array of its own, covering its record
/// span; the spans are then laid end to end, OR-ing the words two neighbouring buckets share.
pub fn pack(
    synapses: &impl BucketSource,
    row_ptr: &[u32],
    format: &SynapseFormat,
    keep: Option<&Keep>,
    quantise: impl Fn(u32, f32) -> Result<i32> + Sync,
) -> Result<Vec<u32>> {
    let buckets = synapses.buckets();
    let total = *row_ptr.last().unwrap_or(&0) as u64;
    let bits = format.record_bits as u64;
    let mut out = vec![0u32; format.words_for(total) as usize];
    // The word where each bucket's records begin. Bucket b writes words first[b] + 1 up to and
    // including first[b + 1] through a slice of its own; its first word, which it may share with
    // the previous bucket, goes to a separate head word OR-ed in afterwards.
    let first: Vec<usize> = (0..buckets.count)
        .map(|b| (row_ptr[buckets.range(b).start as usize] as u64 * bits / 32) as usize)
        .collect();
    let mut slices = Vec::with_capacity(buckets.count);
    let mut rest: &mut [u32] = &mut out[1..];
    let mut taken = 1usize;
    for b in 0..buckets.count {
        let end = if b + 1 < buckets.count {
            first[b + 1] + 1
        } else {
            taken + rest.len()
        };
        let (head, tail) = rest.split_at_mut(end - taken);
        slices.push(head);
        rest = tail;
        taken = end;
    }
    let heads: Vec<u32> = slices
        .into_par_iter()
        .enumerate()
        .map(|(b, slice)| {
            let range = buckets.range(b);
            let base_bit = first[b] as u64 * 32;
            let mut scratch = [0u32; 4];
            let mut fill: Vec<u32> = row_ptr[range.start as usize..range.end as usize].to_vec();
            synapses.for_each_in_bucket(b, |pre_offset, post, weight_pa, mut delay| {
                if let Some(keep) = keep {
                    if !keep.owned.contains(&post) {
                        return Ok(());
                    }
                    if !keep.owned.contains(&(range.start + pre_offset)) {
                        delay -= keep.interval as u64;
                    }
                }
                let slot = &mut fill[pre_offset as usize];
                let bit = *slot as u64 * bits - base_bit;
                let q = quantise(post, weight_pa)?;
                if bit < 32 {
                    format.encode_at(&mut scratch, bit, post, delay as u32, q);
                } else {
                    format.encode_at(slice, bit - 32, post, delay as u32, q);
                }
                *slot += 1;
                Ok(())
            })?;
            for (k, w) in scratch[1..].iter().enumerate() {
                if let Some(x) = slice.get_mut(k) {
                    *x |= w;
                }
            }
            Ok(scratch[0])
        })
        .collect::<Result<_>>()?;
    for (b, head) in heads.into_iter().enumerate() {
        out[first[b]] |= head;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::synapses::Buckets;

    /// Synapses given bucket by bucket: (pre offset, post, weight, delay).
    struct Given {
        buckets: Buckets,
        lists: Vec<Vec<(u32, u32, f32, u64)>>,
    }

    impl BucketSource for Given {
        fn buckets(&self) -> &Buckets {
            &self.buckets
        }
        fn for_each_in_bucket<F>(&self, b: usize, mut emit: F) -> Result<()>
        where
            F: FnMut(u32, u32, f32, u64) -> Result<()>,
        {
            for &(o, post, w, d) in &self.lists[b] {
                emit(o, post, w, d)?;
            }
            Ok(())
        }
    }

    #[test]
    fn bucketed_packing_equals_one_sequential_pass() {
        // 700 pre neurons (10 buckets), rows of 0..8 synapses given in a scrambled order.
        let n = 700u32;
        let buckets = Buckets::for_neurons(n);
        assert!(buckets.count > 5);
        let mut lists = vec![Vec::new(); buckets.count];
        let mut row_ptr = vec![0u32; n as usize + 1];
        for k in 0..4000u32 {
            let pre = (k * 7919) % n;
            if (pre * 3 + k).is_multiple_of(5) {
                continue;
            }
            let b = buckets.of(pre);
            let offset = pre - buckets.range(b).start;
            row_ptr[pre as usize + 1] += 1;
            lists[b].push((offset, k % 50, k as f32, (1 + k % 5) as u64));
        }
        for i in 0..n as usize {
            row_ptr[i + 1] += row_ptr[i];
        }
        let given = Given { buckets, lists };
        let format = SynapseFormat::for_model(50, 5).unwrap();
        assert_eq!(format.record_bits, 48);
        let packed = pack(&given, &row_ptr, &format, None, |_, w| Ok(w as i32)).unwrap();
        // Reference: one sequential pass in the same order (buckets, then their lists).
        let mut expected = vec![0u32; format.words_for(row_ptr[n as usize] as u64) as usize];
        let mut fill = row_ptr.clone();
        for (b, list) in given.lists.iter().enumerate() {
            for &(o, post, w, d) in list {
                let pre = (given.buckets.range(b).start + o) as usize;
                format.encode(&mut expected, fill[pre] as u64, post, d as u32, w as i32);
                fill[pre] += 1;
            }
        }
        assert_eq!(packed, expected);
        let census = census(&given, &[0; 50], 1, None).unwrap();
        assert_eq!(census.row_ptr, row_ptr);
        assert_eq!(census.max_delay, 5);
    }
}
