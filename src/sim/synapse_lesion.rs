//! Cutting synapses of the spiking path between steps, and reading them back. A cut clears the
//! weight field of the synapse's packed record on the backend (weight 0 delivers nothing; the
//! fixed-point bounds only shrink), so the kernels are unchanged; the simulator remembers which
//! records it cut, to read weights back and to restore them.

use super::distributed::Change;
use super::Simulator;
use crate::error::{Error, Result};
use crate::lower::packing::clear_bits;
use crate::model::NeuronSlice;
use std::collections::BTreeSet;
use std::ops::Range;

/// One synapse as it is now: neuron indices local to the populations of the two slices asked
/// about.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SynapseView {
    pub pre: u32,
    pub post: u32,
    /// 0 once cut.
    pub weight_pa: f64,
    pub delay_ms: f64,
}

impl Simulator {
    /// Cuts every synapse from the `pre` neurons to the `post` neurons, in all projections,
    /// from the next step on; the neurons' other inputs stay. Returns how many were cut (the
    /// first time). [`Simulator::restore_synapses`] and `reset` undo it.
    pub fn lesion(
        &mut self,
        pre: impl Into<NeuronSlice>,
        post: impl Into<NeuronSlice>,
    ) -> Result<u64> {
        let (pre, post) = (self.global(&pre.into())?, self.global(&post.into())?);
        let plastic = self.cut_plastic(&pre, &post)?;
        let mut fresh = Vec::new();
        self.each_synapse(pre, post, |j, _, _, _| fresh.push(j));
        fresh.retain(|j| !self.cut_synapses.contains(j));
        let count = fresh.len() as u64;
        // Spikes other processes fired before the cut still deliver through these synapses.
        self.keep_sent_weights(&fresh, Change::Cut)?;
        self.cut_synapses.extend(fresh.iter().copied());
        self.write_records(&fresh)?;
        // On several processes each cut the synapses it holds.
        Ok(self
            .gather_u64(&[count + plastic])?
            .iter()
            .map(|c| c[0])
            .sum())
    }

    /// Gives every cut synapse its weight back: those cut by [`Simulator::lesion`] and those
    /// of every NEF connection lesion ([`Simulator::restore_connection`] lifts one).
    pub fn restore_synapses(&mut self) -> Result<()> {
        let cut: Vec<u64> = self.cut_synapses.iter().copied().collect();
        // Spikes other processes fired while these were cut still deliver nothing through them.
        self.keep_sent_weights(&cut, Change::Heal)?;
        self.cut_synapses.clear();
        self.write_records(&cut)?;
        self.restore_plastic()?;
        while let Some(l) = self.lesions.last() {
            let conn = crate::model::nef::ConnectionId {
                net: self.nef_net_id,
                index: l.cut.conn,
            };
            self.restore_connection(conn)?;
        }
        Ok(())
    }

    /// The synapses from the `pre` neurons to the `post` neurons as they are now, in record
    /// order (by pre neuron). On several processes, by pre neuron and then by the process that
    /// holds the synapse (every process gets all of them).
    pub fn synapses(
        &self,
        pre: impl Into<NeuronSlice>,
        post: impl Into<NeuronSlice>,
    ) -> Result<Vec<SynapseView>> {
        let (pre, post) = (self.global(&pre.into())?, self.global(&post.into())?);
        let post_pop = self.plan.population_of(post.start);
        let (pre_start, post_start) = (self.pop_start(pre.start), self.plan.pops[post_pop].start);
        let mut out = Vec::new();
        // Synapses from another process's neurons were built with delays shortened by the
        // exchange interval (`lower::part`).
        let part = self.plan.partition.as_ref();
        let late = |i: u32| {
            part.filter(|p| !p.owned().contains(&i))
                .map_or(0, |p| p.interval)
        };
        self.each_synapse(pre.clone(), post, |j, i, target, (delay, w)| {
            let step = self.plan.scales[post_pop][usize::from(w < 0)].step_pa();
            let weight_pa = if self.cut_synapses.contains(&j) {
                0.0
            } else {
                w as f64 * step
            };
            out.push(SynapseView {
                pre: i - pre_start,
                post: target - post_start,
                weight_pa,
                delay_ms: (delay + late(i)) as f64 * self.plan.dt_ms,
            });
        });
        if self.dist.is_none() {
            return Ok(out);
        }
        let mine: Vec<u64> = (out.iter())
            .flat_map(|v| {
                let (w, d) = (v.weight_pa.to_bits(), v.delay_ms.to_bits());
                [v.pre as u64, v.post as u64, w, d]
            })
            .collect();
        let mut all: Vec<SynapseView> = (self.gather_u64(&mine)?.iter())
            .flat_map(|w| w.chunks_exact(4).map(|r| r.to_vec()).collect::<Vec<_>>())
            .map(|r| SynapseView {
                pre: r[0] as u32,
                post: r[1] as u32,
                weight_pa: f64::from_bits(r[2]),
                delay_ms: f64::from_bits(r[3]),
            })
            .collect();
        all.sort_by_key(|v| v.pre);
        Ok(all)
    }

    /// Global neuron range of a slice, checked against this simulator's network.
    pub(super) fn global(&self, slice: &NeuronSlice) -> Result<Range<u32>> {
        if slice.pop.net != self.plan.net_id || slice.pop.index >= self.plan.pops.len() {
            return Err(Error::Simulation(
                "this population belongs to another network".into(),
            ));
        }
        let p = self.plan.pops[slice.pop.index];
        let local = slice.range.clone().unwrap_or(0..p.count);
        if local.start >= local.end || local.end > p.count {
            return Err(Error::Simulation(format!(
                "slice {}..{} does not fit population `{}` of {} neurons",
                local.start, local.end, self.plan.pop_names[slice.pop.index], p.count
            )));
        }
        Ok(p.start + local.start..p.start + local.end)
    }

    fn pop_start(&self, neuron: u32) -> u32 {
        self.plan.pops[self.plan.population_of(neuron)].start
    }

    /// Calls `f(record, pre, post, (delay steps, weight units as built))` for every synapse
    /// from `pre` into `post` (global ranges).
    fn each_synapse(
        &self,
        pre: Range<u32>,
        post: Range<u32>,
        mut f: impl FnMut(u64, u32, u32, (u32, i32)),
    ) {
        let plan = &self.plan;
        for i in pre {
            for j in plan.row_ptr[i as usize]..plan.row_ptr[i as usize + 1] {
                let (target, delay, w) = plan.syn_format.decode(&plan.syn_words, j as u64);
                if post.contains(&target) {
                    f(j as u64, i, target, (delay, w));
                }
            }
        }
    }

    /// Writes the words holding `records` as built, with every cut record's weight cleared.
    pub(super) fn write_records(&mut self, records: &[u64]) -> Result<()> {
        let format = self.plan.syn_format;
        // Runs of consecutive words, so a row of cuts is one write.
        let mut words: BTreeSet<u64> = BTreeSet::new();
        for &j in records {
            let (a, b) = format.words_of(j);
            words.extend(a..=b);
        }
        let words: Vec<u64> = words.into_iter().collect();
        for run in words.chunk_by(|a, b| b == &(a + 1)) {
            let (first, last) = (run[0], run[run.len() - 1]);
            let mut copy = self.plan.syn_words[first as usize..=last as usize].to_vec();
            // Records overlapping the run: from the one holding its first bit to the one
            // holding its last.
            let bits = format.record_bits as u64;
            for j in (first * 32 / bits)..=((last * 32 + 31) / bits) {
                if self.cut_synapses.contains(&j) {
                    clear_bits(&mut copy, first, format.weight_field(j));
                }
            }
            self.backend
                .write_words("syn_words", first as usize, &copy)?;
        }
        Ok(())
    }
}
