//! Draws the synapses of every block with counter-based randomness.
//!
//! A block's random streams are keyed by its content (population names, slice ranges, rule,
//! weight and delay specs) and, among blocks with identical content, by their occurrence
//! number. So a block draws the same synapses whether it sits alone in a projection or next to
//! others, and whatever order the network was built in (seed 004).

use crate::error::Result;
use crate::model::{Block, Connectivity, Dist, Network, Values};
use crate::rng::{stream, KeyHasher};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// One synapse with global neuron indices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Synapse {
    pub pre: u32,
    pub post: u32,
    pub weight_pa: f64,
    pub delay_steps: u32,
}

/// Synapses per stream for `FixedTotalNumber`, so large blocks could be drawn in parallel with
/// results independent of the thread count.
const TOTAL_NUMBER_CHUNK: u64 = 4096;

/// Draws every synapse of the network, block by block.
pub fn draw_all(net: &Network, starts: &[u32]) -> Result<Vec<Synapse>> {
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut out = Vec::new();
    for proj in &net.projections {
        for block in &proj.blocks {
            let content = block_key(net, block);
            let occurrence = seen.entry(content).or_insert(0);
            let key = KeyHasher::default().u64(content).u64(*occurrence).finish();
            *occurrence += 1;
            draw_block(net, starts, block, key, &mut out)?;
        }
    }
    Ok(out)
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
            Values::Each(v) => v
                .iter()
                .fold(h.str("each").u64(v.len() as u64), |h, x| h.f64(*x)),
        };
    }
    h.finish()
}

fn draw_block(
    net: &Network,
    starts: &[u32],
    b: &Block,
    key: u64,
    out: &mut Vec<Synapse>,
) -> Result<()> {
    let src = net.resolve(&b.source)?;
    let tgt = net.resolve(&b.target)?;
    let pre0 = starts[b.source.pop.index] + src.start;
    let post0 = starts[b.target.pop.index] + tgt.start;
    let (n_pre, n_post) = (src.len() as u32, tgt.len() as u32);
    let dt = net.dt_ms;
    let seed = net.seed;
    // Draws a weight and a delay for synapse number `k` of the block, from `rng`.
    let values = |rng: &mut ChaCha8Rng, k: usize| -> (f64, u32) {
        let w = match &b.weight_pa {
            Values::Dist(d) => d.sample(rng),
            Values::Each(v) => v[k],
        };
        let d_ms = match &b.delay_ms {
            Values::Dist(d) => d.sample(rng),
            Values::Each(v) => v[k],
        };
        // Brian2 rounds delays to the nearest step; validation guarantees at least one.
        (w, ((d_ms / dt).round() as u32).max(1))
    };
    let mut push = |i: u32, j: u32, (w, d): (f64, u32)| {
        out.push(Synapse {
            pre: pre0 + i,
            post: post0 + j,
            weight_pa: w,
            delay_steps: d,
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
            for i in 0..n_pre {
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
            let mut chunk_start = 0u64;
            while chunk_start < *n {
                let mut rng = stream(seed, key, chunk_start / TOTAL_NUMBER_CHUNK);
                for _ in chunk_start..(chunk_start + TOTAL_NUMBER_CHUNK).min(*n) {
                    let i = rng.random_range(0..n_pre);
                    let j = rng.random_range(0..n_post);
                    let v = values(&mut rng, 0);
                    push(i, j, v);
                }
                chunk_start += TOTAL_NUMBER_CHUNK;
            }
        }
        Connectivity::FixedInDegree(k) => {
            for j in 0..n_post {
                let mut rng = stream(seed, key, j as u64);
                for _ in 0..*k {
                    let i = rng.random_range(0..n_pre);
                    let v = values(&mut rng, 0);
                    push(i, j, v);
                }
            }
        }
        Connectivity::AllToAll => {
            for i in 0..n_pre {
                let mut rng = stream(seed, key, i as u64);
                for j in 0..n_post {
                    let v = values(&mut rng, 0);
                    push(i, j, v);
                }
            }
        }
        Connectivity::OneToOne => {
            for i in 0..n_pre {
                let mut rng = stream(seed, key, i as u64);
                let v = values(&mut rng, 0);
                push(i, i, v);
            }
        }
    }
    Ok(())
}
