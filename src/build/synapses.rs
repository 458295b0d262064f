//! Draws the synapses of every block with counter-based randomness, in parallel.
//!
//! A block's random streams are keyed by its content (population names, slice ranges, rule,
//! weight and delay specs) and, among blocks with identical content, by their occurrence
//! number. So a block draws the same synapses whether it sits alone in a projection or next to
//! others, and whatever order the network was built in (seed 004). Blocks are drawn in the order
//! of their keys, each split into work units (a range of pre neurons, of post neurons, or of
//! synapse numbers) with a stream each; units run on any number of threads and are collected in
//! order, so the result does not depend on the thread count.

use crate::build::fixed_point::round_half_away;
use crate::error::{Error, Result};
use crate::model::{Block, Connectivity, Dist, Network, Values};
use crate::rng::{stream, KeyHasher, StreamRng};
use rand::Rng;
use rayon::prelude::*;
use std::collections::HashMap;
use std::ops::Range;

/// One drawn synapse, kept in the bucket of its pre neuron (12 bytes: the full-scale
/// microcircuit holds 3e8 of these while it is lowered, and zeroing fresh pages is the largest
/// single cost of building it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Synapse {
    /// Global index of the target neuron.
    pub post: u32,
    pub weight_pa: f32,
    /// Pre neuron, relative to the first neuron of its bucket.
    pub pre_offset: u16,
    pub delay_steps: u16,
}

/// Synapses per stream for `FixedTotalNumber`.
const TOTAL_NUMBER_CHUNK: u64 = 4096;
/// Pre (or post) neurons per work unit for the per-neuron rules.
const NEURONS_PER_UNIT: u64 = 64;

/// A piece of one block drawn by one task: the streams `streams` of block `block`.
struct Unit {
    block: usize,
    key: u64,
    streams: Range<u64>,
}

/// Consecutive ranges of pre neurons: synapses are sorted into them as they are drawn, and the
/// CSR rows of each are then counted and packed by one task (`build::csr`).
#[derive(Clone, Debug)]
pub struct Buckets {
    pub n_neurons: u32,
    pub count: usize,
    /// Bucket of each pre neuron: a table, as a division per synapse costs more than the draw.
    of: Vec<u32>,
    /// First pre neuron of each bucket, and one past the last.
    starts: Vec<u32>,
}

impl Buckets {
    /// About 64 pre neurons a bucket (the microcircuit's rows then fill ~1.5 MB, which stays
    /// in cache while the bucket is packed), at most 1024 buckets unless a bucket would hold
    /// more than 65,536 neurons.
    pub fn for_neurons(n_neurons: u32) -> Buckets {
        // A synapse keeps its pre neuron as a u16 offset in its bucket: at most 65,536 a bucket.
        let count = (n_neurons as usize / 64)
            .clamp(1, 1024)
            .max((n_neurons as usize).div_ceil(1 << 16));
        let of = (0..n_neurons as u64)
            .map(|p| (p * count as u64 / n_neurons as u64) as u32)
            .collect();
        let starts = (0..=count as u64)
            .map(|b| (b * n_neurons as u64).div_ceil(count as u64) as u32)
            .collect();
        Buckets {
            n_neurons,
            count,
            of,
            starts,
        }
    }

    #[inline]
    pub fn of(&self, pre: u32) -> usize {
        self.of[pre as usize] as usize
    }

    /// The pre neurons of bucket `b`: those `p` with `of(p) == b`.
    pub fn range(&self, b: usize) -> Range<u32> {
        self.starts[b]..self.starts[b + 1]
    }
}

/// Drawn synapses: `[unit][bucket]`, units in canonical order.
pub type Drawn = Vec<Vec<Vec<Synapse>>>;

/// Draws every synapse of the network, sorted into buckets of pre neurons per work unit.
pub fn draw_all(net: &Network, starts: &[u32], buckets: &Buckets) -> Result<Drawn> {
    let blocks: Vec<&Block> = net.projections.iter().flat_map(|p| &p.blocks).collect();
    let mut keyed: Vec<(u64, usize)> = blocks
        .iter()
        .enumerate()
        .map(|(b, block)| (block_key(net, block), b))
        .collect();
    keyed.sort();
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut units = Vec::new();
    for (content, b) in keyed {
        let occurrence = seen.entry(content).or_insert(0);
        let key = KeyHasher::default().u64(content).u64(*occurrence).finish();
        *occurrence += 1;
        let (n_streams, per_unit) = stream_count(net, blocks[b])?;
        let mut start = 0;
        while start < n_streams {
            let end = (start + per_unit).min(n_streams);
            units.push(Unit {
                block: b,
                key,
                streams: start..end,
            });
            start = end;
        }
    }
    units
        .par_iter()
        .map(|u| {
            let mut out = vec![Vec::new(); buckets.count];
            draw_unit(
                net,
                starts,
                blocks[u.block],
                u.key,
                u.streams.clone(),
                buckets,
                &mut out,
            )?;
            Ok(out)
        })
        .collect()
}

/// How many independent streams a block draws from, and how many one unit takes.
fn stream_count(net: &Network, b: &Block) -> Result<(u64, u64)> {
    let n_pre = net.resolve(&b.source)?.len() as u64;
    let n_post = net.resolve(&b.target)?.len() as u64;
    Ok(match &b.rule {
        Connectivity::Explicit(_) => (1, 1),
        Connectivity::FixedTotalNumber(n) => (n.div_ceil(TOTAL_NUMBER_CHUNK), 64),
        Connectivity::FixedInDegree(_) => (n_post, NEURONS_PER_UNIT),
        Connectivity::FixedProbability(_) | Connectivity::AllToAll | Connectivity::OneToOne => {
            (n_pre, NEURONS_PER_UNIT)
        }
    })
}

/// Content hash of a block: everything that defines it, with populations named, not numbered.
fn block_key(net: &Network, b: &Block) -> u64 {
    let mut h = KeyHasher::default().str("block");
    for slice in [&b.source, &b.target] {
        let range = net
            .resolve(slice)
            .expect("checked when the block was added");
        h = h
            .str(&net.populations[slice.pop.index].name)
            .u64(range.start as u64)
            .u64(range.end as u64);
    }
    h = match &b.rule {
        Connectivity::Explicit(pairs) => {
            let mut h = h.str("explicit").u64(pairs.len() as u64);
            for &(i, j) in pairs {
                h = h.u64(((i as u64) << 32) | j as u64);
            }
            h
        }
        Connectivity::FixedProbability(p) => h.str("fixed_probability").f64(*p),
        Connectivity::FixedTotalNumber(n) => h.str("fixed_total_number").u64(*n),
        Connectivity::FixedInDegree(k) => h.str("fixed_in_degree").u64(*k as u64),
        Connectivity::AllToAll => h.str("all_to_all"),
        Connectivity::OneToOne => h.str("one_to_one"),
    };
    for values in [&b.weight_pa, &b.delay_ms] {
        h = match values {
            Values::Dist(Dist::Const(c)) => h.str("const").f64(*c),
            Values::Dist(Dist::Uniform { low, high }) => h.str("uniform").f64(*low).f64(*high),
            Values::Dist(Dist::Normal {
                mean,
                sd,
                low,
                high,
            }) => h.str("normal").f64(*mean).f64(*sd).f64(*low).f64(*high),
            Values::Dist(Dist::NormalClamped {
                mean,
                sd,
                low,
                high,
            }) => h
                .str("normal_clamped")
                .f64(*mean)
                .f64(*sd)
                .f64(*low)
                .f64(*high),
            Values::Each(v) => v
                .iter()
                .fold(h.str("each").u64(v.len() as u64), |h, x| h.f64(*x)),
        };
    }
    h.finish()
}

/// Draws the streams `streams` of a block.
fn draw_unit(
    net: &Network,
    starts: &[u32],
    b: &Block,
    key: u64,
    streams: Range<u64>,
    buckets: &Buckets,
    out: &mut [Vec<Synapse>],
) -> Result<()> {
    let src = net.resolve(&b.source)?;
    let tgt = net.resolve(&b.target)?;
    let pre0 = starts[b.source.pop.index] + src.start;
    let post0 = starts[b.target.pop.index] + tgt.start;
    let (n_pre, n_post) = (src.len() as u32, tgt.len() as u32);
    let dt = net.dt_ms;
    let seed = net.seed;
    // Draws a weight and a delay for synapse number `k` of the block, from `rng`.
    let values = |rng: &mut StreamRng, k: usize| -> (f64, u64) {
        let w = match &b.weight_pa {
            Values::Dist(d) => d.sample(rng),
            Values::Each(v) => v[k],
        };
        let d_ms = match &b.delay_ms {
            Values::Dist(d) => d.sample(rng),
            Values::Each(v) => v[k],
        };
        // Brian2 rounds delays to the nearest step; validation guarantees at least one. Kept
        // wide until checked against the record's field: a u32 would wrap 2^32 + 5 steps to 5.
        (w, round_half_away(d_ms / dt).max(1) as u64)
    };
    let neurons = streams.start as u32..streams.end as u32;
    // Reserve what the unit will draw, spread over the buckets its pre neurons fall in: growing
    // a thousand vectors element by element costs more than drawing the synapses.
    let (expected, pres) = match &b.rule {
        Connectivity::Explicit(pairs) => (pairs.len() as f64, 0..n_pre),
        Connectivity::FixedTotalNumber(_) => (
            (streams.end - streams.start) as f64 * TOTAL_NUMBER_CHUNK as f64,
            0..n_pre,
        ),
        Connectivity::FixedInDegree(k) => (neurons.len() as f64 * *k as f64, 0..n_pre),
        Connectivity::FixedProbability(p) => {
            (neurons.len() as f64 * n_post as f64 * p, neurons.clone())
        }
        Connectivity::AllToAll => (neurons.len() as f64 * n_post as f64, neurons.clone()),
        Connectivity::OneToOne => (neurons.len() as f64, neurons.clone()),
    };
    if !pres.is_empty() {
        let (b0, b1) = (
            buckets.of(pre0 + pres.start),
            buckets.of(pre0 + pres.end - 1),
        );
        let per_bucket = (expected / (b1 - b0 + 1) as f64 * 1.1) as usize + 8;
        for bucket in &mut out[b0..=b1] {
            bucket.reserve(per_bucket);
        }
    }
    let mut too_long = None;
    let mut push = |i: u32, j: u32, (w, d): (f64, u64)| {
        let pre = pre0 + i;
        let b = buckets.of(pre);
        if d > u16::MAX as u64 {
            too_long.get_or_insert(d);
        }
        out[b].push(Synapse {
            post: post0 + j,
            weight_pa: w as f32,
            pre_offset: (pre - buckets.starts[b]) as u16,
            delay_steps: d.min(u16::MAX as u64) as u16,
        })
    };
    match &b.rule {
        Connectivity::Explicit(pairs) => {
            let mut rng = stream(seed, key, 0);
            for (k, &(i, j)) in pairs.iter().enumerate() {
                let v = values(&mut rng, k);
                push(i, j, v);
            }
        }
        Connectivity::FixedProbability(p) => {
            let p = *p;
            for i in neurons {
                let mut rng = stream(seed, key, i as u64);
                if p >= 1.0 {
                    for j in 0..n_post {
                        let v = values(&mut rng, 0);
                        push(i, j, v);
                    }
                    continue;
                }
                if p <= 0.0 {
                    continue;
                }
                // Geometric skipping: the gap to the next connected target is Geometric(p).
                let log_q = (-p).ln_1p();
                let mut j: u64 = 0;
                loop {
                    let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
                    j += (u.ln() / log_q).floor() as u64;
                    if j >= n_post as u64 {
                        break;
                    }
                    let v = values(&mut rng, 0);
                    push(i, j as u32, v);
                    j += 1;
                }
            }
        }
        Connectivity::FixedTotalNumber(n) => {
            for chunk in streams {
                let mut rng = stream(seed, key, chunk);
                let first = chunk * TOTAL_NUMBER_CHUNK;
                for _ in first..(first + TOTAL_NUMBER_CHUNK).min(*n) {
                    let i = rng.random_range(0..n_pre);
                    let j = rng.random_range(0..n_post);
                    let v = values(&mut rng, 0);
                    push(i, j, v);
                }
            }
        }
        Connectivity::FixedInDegree(k) => {
            for j in neurons {
                let mut rng = stream(seed, key, j as u64);
                for _ in 0..*k {
                    let i = rng.random_range(0..n_pre);
                    let v = values(&mut rng, 0);
                    push(i, j, v);
                }
            }
        }
        Connectivity::AllToAll => {
            for i in neurons {
                let mut rng = stream(seed, key, i as u64);
                for j in 0..n_post {
                    let v = values(&mut rng, 0);
                    push(i, j, v);
                }
            }
        }
        Connectivity::OneToOne => {
            for i in neurons {
                let mut rng = stream(seed, key, i as u64);
                let v = values(&mut rng, 0);
                push(i, i, v);
            }
        }
    }
    if let Some(d) = too_long {
        return Err(Error::Build(format!(
            "a delay of {d} steps exceeds the {} steps a synapse can hold; clip the delays (dt = {dt} ms)",
            u16::MAX
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_neuron_and_fit_u16_offsets() {
        for n in [1u32, 63, 64, 1000, 77_169, 70_000_000] {
            let b = Buckets::for_neurons(n);
            assert_eq!(b.range(0).start, 0);
            assert_eq!(b.range(b.count - 1).end, n);
            for k in 0..b.count {
                assert!(
                    b.range(k).len() <= 1 << 16,
                    "n {n}: bucket {k} holds {}",
                    b.range(k).len()
                );
            }
            for p in [0, n / 2, n - 1] {
                assert!(b.range(b.of(p)).contains(&p), "n {n}: neuron {p}");
            }
        }
    }
}
