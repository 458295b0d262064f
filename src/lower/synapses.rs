//! Generates the synapses of every block with counter-based randomness, in parallel.
//!
//! A block's random streams are keyed by its content (population names, slice ranges, rule,
//! weight and delay specs) and, among blocks with identical content, by their occurrence
//! number. So a block draws the same synapses whether it sits alone in a projection or next to
//! others, and whatever order the network was built in (seed 004). Blocks are taken in the
//! order of their keys (the canonical order), and each row of the CSR plan (the synapses of one
//! pre neuron) holds its blocks' synapses in that order.
//!
//! Most rules generate a block row by row: the synapses of pre neuron `i` come from a stream of
//! their own, so any task can produce any row, as often as it needs, and nothing is stored. The
//! build generates every row twice, once to count rows and find the fixed-point scales
//! (`csr::census`) and once to write the records (`csr::pack`): drawing is cheaper than keeping
//! the full-scale microcircuit's 3e8 drawn synapses (3.6 GB, whose fresh pages the kernel had to
//! zero) between the two. A fixed total number first splits its synapses among the pre neurons
//! (a multinomial draw, as NEST splits them among its processes), then draws each row's targets
//! uniformly: the same distribution as drawing every (pre, post) pair independently.
//!
//! Fixed in-degree (drawn per target) and explicit pairs do not come in rows. They are drawn
//! once, in work units with a stream each on any number of threads, into buckets of consecutive
//! pre neurons (`Buckets`), and read back from there; units are kept in canonical order, so the
//! result does not depend on the thread count either.

use crate::error::{Error, Result};
use crate::lower::fixed_point::round_half_away;
use crate::model::{Block, Connectivity, Dist, Network, Values};
use crate::rng::{stream, KeyHasher, StreamRng};
use rand::Rng;
use rand_distr::{Binomial, Distribution};
use rayon::prelude::*;
use std::collections::HashMap;
use std::ops::Range;

/// One drawn synapse of a fixed in-degree or explicit block, kept in the bucket of its pre
/// neuron until it is packed (12 bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Synapse {
    /// Global index of the target neuron.
    pub post: u32,
    pub weight_pa: f32,
    /// Pre neuron, relative to the first neuron of its bucket.
    pub pre_offset: u16,
    pub delay_steps: u16,
}

/// Synapses bucket by bucket, each row's in its final order: what `csr::census` and
/// `csr::pack` walk. A trait so that their tests can feed synapses of their own.
pub trait BucketSource: Sync {
    fn buckets(&self) -> &Buckets;

    /// Calls `emit(pre offset in the bucket, global post, weight pA, delay steps)` for every
    /// synapse whose pre neuron is in bucket `b`, each row's synapses in their order in the row.
    /// Delays are at most `MAX_DELAY_STEPS` (a longer one is an error here). Stops at, and
    /// returns, the first error of `emit` or of the generation.
    fn for_each_in_bucket<F>(&self, b: usize, emit: F) -> Result<()>
    where
        F: FnMut(u32, u32, f32, u64) -> Result<()>;
}

/// Post neurons per work unit for fixed in-degree.
const NEURONS_PER_UNIT: u64 = 64;

/// A piece of a drawn block taken by one task: the streams `streams` of block `block` (its
/// index in canonical order).
struct Unit {
    block: usize,
    key: u64,
    streams: Range<u64>,
}

/// Consecutive ranges of pre neurons: the CSR rows of each are counted and packed by one task
/// (`lower::csr`), and drawn synapses are sorted into them as they are drawn.
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
type Drawn = Vec<Vec<Vec<Synapse>>>;

/// Every synapse of a network, ready to be walked bucket by bucket.
pub struct Synapses<'a> {
    seed: u64,
    dt_ms: f64,
    buckets: Buckets,
    /// Blocks in canonical order.
    blocks: Vec<Lowered<'a>>,
    /// The work units of the blocks that are not generated by rows, until they are drawn.
    units: Vec<Unit>,
    /// The synapses of the blocks that are not generated by rows.
    drawn: Drawn,
}

/// A block with its streams' key and its neurons as global ranges.
struct Lowered<'a> {
    block: &'a Block,
    key: u64,
    pre0: u32,
    n_pre: u32,
    post0: u32,
    n_post: u32,
    /// Every neuron of the target population (global), whose fixed-point scales the block's
    /// synapses help size.
    target_population: Range<u32>,
    how: Generation,
}

enum Generation {
    /// Row by row, each pre neuron from a stream of its own; for a fixed total number, with the
    /// number of synapses of each pre neuron.
    Rows { row_lengths: Option<Vec<u32>> },
    /// Drawn once into `Synapses::drawn`, as these units.
    Drawn { units: Range<usize> },
    /// Not generated: a process of a network on several skips the blocks onto populations
    /// that have none of its neurons (`Synapses::draw`).
    Skipped,
}

impl<'a> Synapses<'a> {
    /// Keys the blocks, splits fixed total numbers among their pre neurons, and draws the blocks
    /// that do not come in rows; all in parallel.
    /// Only the blocks of the projections `keep` takes (by index) are drawn.
    pub fn new(
        net: &'a Network,
        starts: &[u32],
        buckets: Buckets,
        keep: impl Fn(usize) -> bool,
    ) -> Result<Synapses<'a>> {
        Synapses::keyed(net, starts, buckets, keep)?.draw(None)
    }

    /// [`Synapses::new`] up to the drawing: the blocks keyed (their streams do not depend on
    /// which are drawn later), which is enough for [`Synapses::expected_in_degree`].
    pub fn keyed(
        net: &'a Network,
        starts: &[u32],
        buckets: Buckets,
        keep: impl Fn(usize) -> bool,
    ) -> Result<Synapses<'a>> {
        let all: Vec<&Block> = (net.projections.iter().enumerate())
            .filter(|(k, _)| keep(*k))
            .flat_map(|(_, p)| &p.blocks)
            .collect();
        let mut keyed: Vec<(u64, usize)> = all
            .iter()
            .enumerate()
            .map(|(b, block)| (block_key(net, block), b))
            .collect();
        keyed.sort();
        let mut seen: HashMap<u64, u64> = HashMap::new();
        let mut units = Vec::new();
        let mut blocks = Vec::with_capacity(all.len());
        for (content, b) in keyed {
            let block = all[b];
            let occurrence = seen.entry(content).or_insert(0);
            let key = KeyHasher::default().u64(content).u64(*occurrence).finish();
            *occurrence += 1;
            let src = net.resolve(&block.source)?;
            let tgt = net.resolve(&block.target)?;
            let how = match &block.rule {
                Connectivity::FixedInDegree(_) | Connectivity::Explicit(_) => {
                    // Explicit pairs are one stream; fixed in-degree one per target neuron.
                    let (n_streams, per_unit) = match block.rule {
                        Connectivity::Explicit(_) => (1, 1),
                        _ => (tgt.len() as u64, NEURONS_PER_UNIT),
                    };
                    let first = units.len();
                    let mut start = 0;
                    while start < n_streams {
                        let end = (start + per_unit).min(n_streams);
                        units.push(Unit {
                            block: blocks.len(),
                            key,
                            streams: start..end,
                        });
                        start = end;
                    }
                    Generation::Drawn {
                        units: first..units.len(),
                    }
                }
                _ => Generation::Rows { row_lengths: None },
            };
            let target_start = starts[block.target.pop.index];
            let target_size = net.populations[block.target.pop.index].size;
            blocks.push(Lowered {
                block,
                key,
                pre0: starts[block.source.pop.index] + src.start,
                n_pre: src.len() as u32,
                post0: target_start + tgt.start,
                n_post: tgt.len() as u32,
                target_population: target_start..target_start + target_size,
                how,
            });
        }
        Ok(Synapses {
            seed: net.seed,
            dt_ms: net.dt_ms,
            buckets,
            blocks,
            units,
            drawn: Vec::new(),
        })
    }

    /// Splits fixed total numbers among their pre neurons and draws the blocks that do not come
    /// in rows, in parallel. With `onto`, one process's neurons of a network on several: the
    /// blocks onto populations with none of them are skipped, since they change nothing the
    /// process computes (its synapses, and the scales of the populations it updates, which
    /// every block onto such a population still helps size), so the build's drawing shrinks
    /// with more processes.
    pub fn draw(mut self, onto: Option<Range<u32>>) -> Result<Synapses<'a>> {
        if let Some(own) = &onto {
            for l in &mut self.blocks {
                let t = &l.target_population;
                if t.start >= own.end || t.end <= own.start {
                    l.how = Generation::Skipped;
                }
            }
        }
        let seed = self.seed;
        self.blocks.par_iter_mut().try_for_each(|l| -> Result<()> {
            if let (Connectivity::FixedTotalNumber(n), Generation::Rows { row_lengths }) =
                (&l.block.rule, &mut l.how)
            {
                *row_lengths = Some(split_among_rows(seed, l.key, *n, l.n_pre)?);
            }
            Ok(())
        })?;
        let units = std::mem::take(&mut self.units);
        let synapses = &self;
        let drawn = units
            .par_iter()
            .map(|u| {
                let mut out = vec![Vec::new(); synapses.buckets.count];
                if !matches!(synapses.blocks[u.block].how, Generation::Skipped) {
                    synapses.draw_unit(u, &mut out)?;
                }
                Ok(out)
            })
            .collect::<Result<_>>()?;
        self.drawn = drawn;
        Ok(self)
    }

    /// Per target neuron, the synapses its blocks give it on average (exactly, for fixed
    /// in-degree, explicit pairs, all-to-all and one-to-one), from the rules alone, before
    /// any is drawn: what the split among processes balances (`lower::part`).
    pub fn expected_in_degree(&self) -> Vec<u64> {
        let mut degree = vec![0u64; self.buckets.n_neurons as usize];
        for l in &self.blocks {
            let targets = &mut degree[l.post0 as usize..(l.post0 + l.n_post) as usize];
            match &l.block.rule {
                Connectivity::FixedProbability(p) => {
                    let each = (p.clamp(0.0, 1.0) * l.n_pre as f64).round() as u64;
                    targets.iter_mut().for_each(|d| *d += each);
                }
                Connectivity::FixedTotalNumber(n) => {
                    let (each, extra) = (n / l.n_post as u64, n % l.n_post as u64);
                    for (j, d) in targets.iter_mut().enumerate() {
                        *d += each + u64::from((j as u64) < extra);
                    }
                }
                Connectivity::FixedInDegree(k) => targets.iter_mut().for_each(|d| *d += *k as u64),
                Connectivity::AllToAll => targets.iter_mut().for_each(|d| *d += l.n_pre as u64),
                Connectivity::OneToOne => targets.iter_mut().for_each(|d| *d += 1),
                Connectivity::Explicit(pairs) => {
                    for &(_, j) in pairs {
                        targets[j as usize] += 1;
                    }
                }
            }
        }
        degree
    }

    /// Generates row `i` (relative to the block's pre slice) of block `l`:
    /// `emit(j, weight, delay steps)` with `j` relative to the target slice.
    #[inline]
    fn row<F>(&self, l: &Lowered, i: u32, mut emit: F) -> Result<()>
    where
        F: FnMut(u32, f32, u64) -> Result<()>,
    {
        let Generation::Rows { row_lengths } = &l.how else {
            unreachable!("only blocks generated by rows have rows")
        };
        let mut rng = stream(self.seed, l.key, i as u64);
        let b = l.block;
        let dt = self.dt_ms;
        let n_post = l.n_post;
        match &b.rule {
            Connectivity::FixedProbability(p) => {
                let p = *p;
                if p >= 1.0 {
                    for j in 0..n_post {
                        let (w, d) = values(b, dt, &mut rng, 0);
                        emit(j, w, d)?;
                    }
                } else if p > 0.0 {
                    // Geometric skipping: the gap to the next connected target is Geometric(p).
                    let log_q = (-p).ln_1p();
                    let mut j: u64 = 0;
                    loop {
                        let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
                        j += (u.ln() / log_q).floor() as u64;
                        if j >= n_post as u64 {
                            break;
                        }
                        let (w, d) = values(b, dt, &mut rng, 0);
                        emit(j as u32, w, d)?;
                        j += 1;
                    }
                }
            }
            Connectivity::FixedTotalNumber(_) => {
                let lengths = row_lengths
                    .as_ref()
                    .expect("split when the block was keyed");
                for _ in 0..lengths[i as usize] {
                    let j = rng.random_range(0..n_post);
                    let (w, d) = values(b, dt, &mut rng, 0);
                    emit(j, w, d)?;
                }
            }
            Connectivity::AllToAll => {
                for j in 0..n_post {
                    let (w, d) = values(b, dt, &mut rng, 0);
                    emit(j, w, d)?;
                }
            }
            Connectivity::OneToOne => {
                let (w, d) = values(b, dt, &mut rng, 0);
                emit(i, w, d)?;
            }
            Connectivity::FixedInDegree(_) | Connectivity::Explicit(_) => {
                unreachable!("drawn, not generated by rows")
            }
        }
        Ok(())
    }
}

impl BucketSource for Synapses<'_> {
    fn buckets(&self) -> &Buckets {
        &self.buckets
    }

    fn for_each_in_bucket<F>(&self, b: usize, mut emit: F) -> Result<()>
    where
        F: FnMut(u32, u32, f32, u64) -> Result<()>,
    {
        let range = self.buckets.range(b);
        for l in &self.blocks {
            match &l.how {
                Generation::Rows { .. } => {
                    let lo = range.start.max(l.pre0);
                    let hi = range.end.min(l.pre0 + l.n_pre);
                    for pre in lo..hi {
                        let offset = pre - range.start;
                        self.row(l, pre - l.pre0, |j, w, d| {
                            if d > MAX_DELAY_STEPS {
                                return Err(too_long_delay(d, self.dt_ms));
                            }
                            emit(offset, l.post0 + j, w, d)
                        })?;
                    }
                }
                Generation::Drawn { units } => {
                    for s in self.drawn[units.clone()].iter().flat_map(|unit| &unit[b]) {
                        emit(
                            s.pre_offset as u32,
                            s.post,
                            s.weight_pa,
                            s.delay_steps as u64,
                        )?;
                    }
                }
                Generation::Skipped => {}
            }
        }
        Ok(())
    }
}

/// Draws a weight (as f32, what a record quantises) and a delay (whole steps, at least one)
/// for synapse number `k` of block `b`, from `rng`.
#[inline]
fn values(b: &Block, dt: f64, rng: &mut StreamRng, k: usize) -> (f32, u64) {
    let w = match &b.weight_pa {
        Values::Dist(d) => d.sample(rng),
        Values::Each(v) => v[k],
    };
    let d_ms = match &b.delay_ms {
        Values::Dist(d) => d.sample(rng),
        Values::Each(v) => v[k],
    };
    // Brian2 rounds delays to the nearest step; validation guarantees at least one. Kept wide
    // until checked against the record's field: a u32 would wrap 2^32 + 5 steps to 5.
    (w as f32, round_half_away(d_ms / dt).max(1) as u64)
}

/// The number of synapses of each of `n_pre` pre neurons when `n` synapses pick their pre
/// neuron uniformly: a multinomial draw, made as a binary tree of binomial splits (node 1 is the
/// whole range, node k's halves are 2k and 2k + 1), each node from a stream of its own.
fn split_among_rows(seed: u64, key: u64, n: u64, n_pre: u32) -> Result<Vec<u32>> {
    let key = KeyHasher::default().u64(key).str("rows").finish();
    let mut lengths = vec![0u32; n_pre as usize];
    if n_pre > 0 {
        split(seed, key, 1, n, &mut lengths)?;
    }
    Ok(lengths)
}

fn split(seed: u64, key: u64, node: u64, n: u64, out: &mut [u32]) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    if out.len() == 1 {
        out[0] = u32::try_from(n).map_err(|_| {
            Error::Build(format!(
                "{n} synapses from one neuron; a plan indexes at most 2^32 - 1"
            ))
        })?;
        return Ok(());
    }
    let half = out.len() / 2;
    let p = half as f64 / out.len() as f64;
    let binomial = Binomial::new(n, p).expect("0 < p < 1");
    let left = binomial.sample(&mut stream(seed, key, node));
    let (a, b) = out.split_at_mut(half);
    split(seed, key, 2 * node, left, a)?;
    split(seed, key, 2 * node + 1, n - left, b)
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

impl Synapses<'_> {
    /// Draws a unit of a fixed in-degree or explicit block into buckets of pre neurons.
    fn draw_unit(&self, u: &Unit, out: &mut [Vec<Synapse>]) -> Result<()> {
        let l = &self.blocks[u.block];
        let b = l.block;
        let (pre0, post0, n_pre) = (l.pre0, l.post0, l.n_pre);
        let (dt, buckets) = (self.dt_ms, &self.buckets);
        let neurons = u.streams.start as u32..u.streams.end as u32;
        // Reserve what the unit will draw, spread over the buckets of its pre slice: growing a
        // thousand vectors element by element costs more than drawing the synapses.
        let expected = match &b.rule {
            Connectivity::Explicit(pairs) => pairs.len() as f64,
            Connectivity::FixedInDegree(k) => neurons.len() as f64 * *k as f64,
            _ => unreachable!("generated by rows, not drawn"),
        };
        if n_pre > 0 {
            let (b0, b1) = (buckets.of(pre0), buckets.of(pre0 + n_pre - 1));
            let per_bucket = (expected / (b1 - b0 + 1) as f64 * 1.1) as usize + 8;
            for bucket in &mut out[b0..=b1] {
                bucket.reserve(per_bucket);
            }
        }
        let mut too_long = None;
        let mut push = |i: u32, j: u32, (w, d): (f32, u64)| {
            let pre = pre0 + i;
            let b = buckets.of(pre);
            if d > MAX_DELAY_STEPS {
                too_long.get_or_insert(d);
            }
            out[b].push(Synapse {
                post: post0 + j,
                weight_pa: w,
                pre_offset: (pre - buckets.starts[b]) as u16,
                delay_steps: d.min(MAX_DELAY_STEPS) as u16,
            })
        };
        match &b.rule {
            Connectivity::Explicit(pairs) => {
                let mut rng = stream(self.seed, u.key, 0);
                for (k, &(i, j)) in pairs.iter().enumerate() {
                    push(i, j, values(b, dt, &mut rng, k));
                }
            }
            Connectivity::FixedInDegree(k) => {
                for j in neurons {
                    let mut rng = stream(self.seed, u.key, j as u64);
                    for _ in 0..*k {
                        let i = rng.random_range(0..n_pre);
                        push(i, j, values(b, dt, &mut rng, 0));
                    }
                }
            }
            _ => unreachable!("generated by rows, not drawn"),
        }
        if let Some(d) = too_long {
            return Err(too_long_delay(d, dt));
        }
        Ok(())
    }
}

/// The error for a delay longer than a synapse can hold.
fn too_long_delay(steps: u64, dt_ms: f64) -> Error {
    Error::Build(format!(
        "a delay of {steps} steps exceeds the {} steps a synapse can hold; clip the delays (dt = {dt_ms} ms)",
        MAX_DELAY_STEPS
    ))
}

/// The longest delay a synapse holds, in steps.
const MAX_DELAY_STEPS: u64 = u16::MAX as u64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_total_number_is_split_among_rows_as_a_multinomial() {
        let (n, n_pre) = (1_000_000u64, 1000u32);
        let lengths = split_among_rows(7, 11, n, n_pre).unwrap();
        assert_eq!(lengths, split_among_rows(7, 11, n, n_pre).unwrap());
        assert_ne!(lengths, split_among_rows(7, 12, n, n_pre).unwrap());
        assert_eq!(lengths.iter().map(|&c| c as u64).sum::<u64>(), n);
        // Each length is Binomial(n, 1/n_pre): mean 1000, variance 999. The sample variance of
        // 1000 of them has a standard error of ~4.5%.
        let var = lengths
            .iter()
            .map(|&c| (c as f64 - 1000.0).powi(2))
            .sum::<f64>()
            / n_pre as f64;
        assert!((var / 999.0 - 1.0).abs() < 0.15, "variance {var}");
        // Each tenth of the rows holds Binomial(n, 0.1) synapses: sd 300.
        for tenth in lengths.chunks(100) {
            let sum = tenth.iter().map(|&c| c as f64).sum::<f64>();
            assert!((sum - 100_000.0).abs() < 1500.0, "a tenth holds {sum}");
        }
        for (n, n_pre) in [(10, 7), (5, 1), (0, 4), (3, 1000)] {
            let lengths = split_among_rows(1, 2, n, n_pre).unwrap();
            assert_eq!(lengths.len(), n_pre as usize);
            assert_eq!(lengths.iter().map(|&c| c as u64).sum::<u64>(), n);
        }
    }

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
