//! Synapses changed between runs while spikes of other processes are still on their way.
//!
//! A single process delivers a spike's weights into the delay ring at the step it fires, so a
//! synapse cut (or healed) later still delivers the spikes fired before. On several processes
//! the spikes another process fired in the last `interval` steps of a run are delivered after
//! it, at step t + interval, with whatever weights the synapses have then. When a change lands
//! in that gap, the ring gets the difference here, at once: the weight the spike was fired
//! with, less the one its delivery will add. Integer sums make that exact, so the ring ends as
//! one process's would.

use crate::error::Result;
use crate::sim::Simulator;
use std::collections::{BTreeMap, HashMap};

/// How a set of synapse records changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::sim) enum Change {
    /// From their built weight to none.
    Cut,
    /// From none back to their built weight.
    Heal,
}

impl Simulator {
    /// Before `records` change as `change` says: puts into the ring what the spikes still
    /// pending would have delivered through them at the old weights, less what they will
    /// deliver at the new ones. Nothing to do in one process, or with nothing pending.
    pub(in crate::sim) fn keep_sent_weights(
        &mut self,
        records: &[u64],
        change: Change,
    ) -> Result<()> {
        let Some(dist) = &self.dist else {
            return Ok(());
        };
        if dist.pending.is_empty() || records.is_empty() {
            return Ok(());
        }
        // The steps at which each pending spike's neuron arrives.
        let mut arrivals: HashMap<u32, Vec<u64>> = HashMap::new();
        for (&step, spikes) in &dist.pending {
            for &pre in spikes {
                arrivals.entry(pre).or_default().push(step);
            }
        }
        let plan = &self.plan;
        let (n, slots) = (plan.neuron_count() as u64, plan.globals.ring_slots as u64);
        // Ring word (slot, neuron, channel) -> what to add to it.
        let mut adds: BTreeMap<usize, i32> = BTreeMap::new();
        for &j in records {
            // The record's row: its pre neuron.
            let pre = plan.row_ptr.partition_point(|&start| start as u64 <= j) - 1;
            let Some(steps) = arrivals.get(&(pre as u32)) else {
                continue;
            };
            // The delay as built for the inbox: shortened by the interval, counted from the
            // step the spike arrives.
            let (post, delay, w) = plan.syn_format.decode(&plan.syn_words, j);
            let (sent, delivered) = match change {
                Change::Cut => (w, 0),
                Change::Heal => (0, w),
            };
            for &arrives in steps {
                let slot = (arrives + delay as u64) % slots;
                let word = |w: i32| ((slot * n + post as u64) * 2) as usize + usize::from(w < 0);
                let add = adds.entry(word(sent)).or_default();
                *add = add.wrapping_add(sent);
                let add = adds.entry(word(delivered)).or_default();
                *add = add.wrapping_sub(delivered);
            }
        }
        adds.retain(|_, add| *add != 0);
        let (Some((&first, _)), Some((&last, _))) = (adds.first_key_value(), adds.last_key_value())
        else {
            return Ok(());
        };
        // One read and one write of the span the additions touch.
        let mut ring = self.backend.read_words("ring", first, last + 1 - first)?;
        for (word, add) in adds {
            let at = &mut ring[word - first];
            *at = (*at as i32).wrapping_add(add) as u32;
        }
        self.backend.write_words("ring", first, &ring)
    }
}
