//! Lowers probes: which neurons' spikes are recorded (as bits per step), which neurons' state is
//! sampled and where each sample goes, and how many steps a recorded chunk holds.

use super::layout::StateEntry;
use super::plan::ProbeLayout;
use crate::error::Result;
use crate::model::{Network, ProbeTarget};

/// Steps per chunk unless the records would grow past `RECORD_BYTES_PER_CHUNK`.
pub const DEFAULT_CHUNK_STEPS: u32 = 1000;
const RECORD_BYTES_PER_CHUNK: u64 = 32 << 20;

pub struct Records {
    /// Indexed like the network's probes.
    pub probes: Vec<ProbeLayout>,
    pub state_entries: Vec<StateEntry>,
    /// Recorded spike range: the hull of all spike probes, and u32 words per step.
    pub rec_start: u32,
    pub rec_count: u32,
    pub rec_words: u32,
    pub chunk_steps: u32,
    /// Floats of state record per chunk.
    pub state_floats: u32,
}

/// `exchange`: when the network runs on several processes, its neuron count and the steps
/// between spike exchanges: every neuron's spikes are recorded (the exchange sends them), and a
/// chunk is at most that many steps.
pub fn lower(net: &Network, starts: &[u32], exchange: Option<(u32, u32)>) -> Result<Records> {
    let mut probes = Vec::new();
    let mut state_entries = Vec::new();
    let (mut rec_lo, mut rec_hi) = (u32::MAX, 0u32);
    let mut every_of_entries = Vec::new();
    for probe in &net.probes {
        match probe {
            ProbeTarget::Spikes(slice) => {
                let r = net.resolve(slice)?;
                let s = starts[slice.pop.index] + r.start;
                rec_lo = rec_lo.min(s);
                rec_hi = rec_hi.max(s + r.len() as u32);
                probes.push(ProbeLayout::Spikes {
                    start: s,
                    count: r.len() as u32,
                });
            }
            ProbeTarget::State {
                target,
                sample_every_ms,
            } => {
                let every_steps = ((sample_every_ms / net.dt_ms).round() as u32).max(1);
                let r = net.resolve(target)?;
                let s = starts[target.pop.index] + r.start;
                probes.push(ProbeLayout::State {
                    first_entry: state_entries.len() as u32,
                    count: r.len() as u32,
                    every_steps,
                });
                for g in s..s + r.len() as u32 {
                    state_entries.push(StateEntry {
                        neuron: g,
                        every_steps,
                        base: 0,
                        _pad: 0,
                    });
                    every_of_entries.push(every_steps);
                }
            }
        }
    }
    if let Some((n, _)) = exchange {
        (rec_lo, rec_hi) = (0, n);
    }
    let (rec_start, rec_count) = if rec_lo < rec_hi {
        (rec_lo, rec_hi - rec_lo)
    } else {
        (0, 0)
    };
    let rec_words = rec_count.div_ceil(32);

    // Chunk length: as long as the per-chunk records stay small.
    let mut chunk_steps = exchange.map_or(DEFAULT_CHUNK_STEPS, |(_, interval)| {
        interval.clamp(1, DEFAULT_CHUNK_STEPS)
    });
    let state_floats_for = |steps: u32| -> u64 {
        every_of_entries
            .iter()
            .map(|&e| 3 * steps.div_ceil(e) as u64)
            .sum()
    };
    while chunk_steps > 1
        && ((rec_words as u64 * 4 * chunk_steps as u64) > RECORD_BYTES_PER_CHUNK
            || state_floats_for(chunk_steps) * 4 > RECORD_BYTES_PER_CHUNK)
    {
        chunk_steps /= 2;
    }
    let mut base = 0u32;
    for e in &mut state_entries {
        e.base = base;
        base += 3 * chunk_steps.div_ceil(e.every_steps);
    }
    Ok(Records {
        probes,
        state_entries,
        rec_start,
        rec_count,
        rec_words,
        chunk_steps,
        state_floats: base,
    })
}
