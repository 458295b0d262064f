//! Plastic projections (STDP, user-defined synapse models) between steps: their synapses and
//! weights as learned so far, a model's state variables, weights written from the host, and
//! lesions that hold while learning runs.

use super::synapse_lesion::SynapseView;
use super::Simulator;
use crate::error::{Error, Result};
use crate::lower::plastic::{PlasticState, PlasticSyn, CUT, MODEL};
use crate::model::ProjectionId;
use ndarray::Array1;
use std::ops::Range;
use std::sync::Arc;

/// Words of one `PlasticState`.
const STATE_WORDS: usize = std::mem::size_of::<PlasticState>() / 4;

impl Simulator {
    /// The synapses of a plastic projection as they are now, in the order the plan keeps
    /// them (by pre neuron, then delay): neuron indices local to their populations, the
    /// weight as learned so far (0 while cut by a lesion). On several processes, every
    /// process gets all of them, in the order of one process (a collective call).
    pub fn plastic_synapses(&mut self, projection: ProjectionId) -> Result<Vec<SynapseView>> {
        let ids = self.plastic_ids(projection)?;
        let states = self.plastic_states()?;
        let pp = self.plan.plastic.as_ref().expect("checked by plastic_ids");
        let local = |i: u32| (i - self.plan.pops[self.plan.population_of(i)].start) as u64;
        let rows = self.gather_plastic(&ids, |j| {
            let w = states[j].w as f64;
            let delay_ms = pp.delay[j] as f64 * self.plan.dt_ms;
            vec![
                local(pp.pre[j]),
                local(pp.syns[j].post),
                w.to_bits(),
                delay_ms.to_bits(),
            ]
        })?;
        Ok(rows
            .into_iter()
            .map(|r| SynapseView {
                pre: r[0] as u32,
                post: r[1] as u32,
                weight_pa: f64::from_bits(r[2]),
                delay_ms: f64::from_bits(r[3]),
            })
            .collect())
    }

    /// The weights of a plastic projection as learned so far (pA), in the order of
    /// [`Simulator::plastic_synapses`].
    pub fn plastic_weights(&mut self, projection: ProjectionId) -> Result<Array1<f32>> {
        let ids = self.plastic_ids(projection)?;
        let states = self.plastic_states()?;
        let rows = self.gather_plastic(&ids, |j| vec![states[j].w.to_bits() as u64])?;
        Ok(rows
            .into_iter()
            .map(|r| f32::from_bits(r[0] as u32))
            .collect())
    }

    /// One row of words per synapse of `ids` (this process's synapses of one projection), from
    /// every process, in the projection's order in one process. A collective call on several
    /// processes.
    fn gather_plastic(
        &self,
        ids: &[usize],
        row: impl Fn(usize) -> Vec<u64>,
    ) -> Result<Vec<Vec<u64>>> {
        if self.dist.is_none() {
            return Ok(ids.iter().map(|&j| row(j)).collect());
        }
        let pp = self.plan.plastic.as_ref().expect("checked by plastic_ids");
        let mine: Vec<u64> = (ids.iter())
            .flat_map(|&j| {
                // [place in the projection, row length, row]
                let row = row(j);
                [vec![pp.rank[j] as u64, row.len() as u64], row].concat()
            })
            .collect();
        let mut rows: Vec<(u64, Vec<u64>)> = Vec::new();
        for words in self.gather_u64(&mine)? {
            let mut at = 0;
            while at < words.len() {
                let (rank, len) = (words[at], words[at + 1] as usize);
                rows.push((rank, words[at + 2..at + 2 + len].to_vec()));
                at += 2 + len;
            }
        }
        rows.sort_by_key(|(rank, _)| *rank);
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }

    /// Overwrites the weights of a plastic projection (pA, in the order of
    /// [`Simulator::plastic_synapses`]) from the next step on; traces stay. Each must lie
    /// within the rule's bounds; cut synapses stay at zero.
    pub fn set_plastic_weights(&mut self, projection: ProjectionId, weights: &[f64]) -> Result<()> {
        let ids = self.plastic_ids(projection)?;
        let plan = Arc::clone(&self.plan);
        let pp = plan.plastic.as_ref().expect("checked by plastic_ids");
        let size = pp.projection_sizes[projection.index] as usize;
        if weights.len() != size {
            return Err(Error::Simulation(format!(
                "projection #{} has {size} plastic synapses; {} weights were given",
                projection.index,
                weights.len()
            )));
        }
        let rule = pp.rule_of_projection[projection.index];
        let (lo, hi, what) = match rule & MODEL {
            0 => {
                let r = &pp.rules[rule as usize];
                (r.w_min, r.w_max, "STDP bounds")
            }
            _ => {
                let b = pp.models[(rule & !MODEL) as usize].max_weight;
                (-b, b, "± max_weight_pa")
            }
        };
        if let Some((k, w)) =
            (weights.iter().enumerate()).find(|(_, &w)| !(w >= lo as f64 && w <= hi as f64))
        {
            return Err(Error::Simulation(format!(
                "weight {k} is {w} pA, outside the projection's {what} [{lo}, {hi}] pA"
            )));
        }
        let mut states = self.plastic_states()?;
        // Each synapse's weight by its place in the projection (on several processes, each
        // writes those it holds).
        for j in ids {
            if !self.plastic_cut.contains_key(&j) {
                states[j].w = weights[pp.rank[j] as usize] as f32;
            }
        }
        self.backend
            .write_words("plastic_state", 0, bytemuck::cast_slice(&states))
    }

    /// State variable or trace `var` of each synapse of a projection with a user-defined
    /// synapse model (in the order of [`Simulator::plastic_synapses`]), as learned so far;
    /// traces as they were last brought up to date, at the synapse's last event.
    pub fn plastic_model_state(
        &mut self,
        projection: ProjectionId,
        var: &str,
    ) -> Result<Array1<f32>> {
        let ids = self.plastic_ids(projection)?;
        let pp = self.plan.plastic.as_ref().expect("checked by plastic_ids");
        let Some(plan) = pp
            .models
            .iter()
            .find(|m| m.projection == projection.index as u32)
        else {
            return Err(Error::Simulation(format!(
                "projection #{} has STDP, not a synapse model; read its weights with \
                 plastic_weights",
                projection.index
            )));
        };
        let model = &plan.model;
        let traces = model.pre_traces.iter().chain(&model.post_traces);
        let names: Vec<&str> = (model.state.iter().map(|(n, _)| n.as_str()))
            .chain(traces.map(|(n, _)| n.as_str()))
            .collect();
        let Some(offset) = names.iter().position(|n| *n == var) else {
            return Err(Error::Simulation(format!(
                "synapse model `{}` has no state variable or trace `{var}`; it has {names:?}",
                model.name()
            )));
        };
        let vars: Vec<f32> = bytemuck::cast_vec(self.backend.read_words(
            "plastic_model_vars",
            0,
            pp.model_vars.len(),
        )?);
        let rows = self.gather_plastic(&ids, |j| {
            vec![vars[pp.model_syn[j].vars as usize + offset].to_bits() as u64]
        })?;
        Ok(rows
            .into_iter()
            .map(|r| f32::from_bits(r[0] as u32))
            .collect())
    }

    /// Cuts the plastic synapses from the `pre` to the `post` neurons (global ranges): each
    /// delivers nothing and learns nothing until restored, and keeps its weight for then.
    /// Returns how many were cut now.
    pub(super) fn cut_plastic(&mut self, pre: &Range<u32>, post: &Range<u32>) -> Result<u64> {
        let Some(pp) = &self.plan.plastic else {
            return Ok(0);
        };
        let fresh: Vec<usize> = (0..pp.syns.len())
            .filter(|&j| pre.contains(&pp.pre[j]) && post.contains(&pp.syns[j].post))
            .filter(|j| !self.plastic_cut.contains_key(j))
            .collect();
        if fresh.is_empty() {
            return Ok(0);
        }
        let mut states = self.plastic_states()?;
        for &j in &fresh {
            self.plastic_cut.insert(j, states[j].w);
            states[j].w = 0.0;
        }
        self.write_plastic_syns()?;
        self.backend
            .write_words("plastic_state", 0, bytemuck::cast_slice(&states))?;
        Ok(fresh.len() as u64)
    }

    /// Lifts every plastic cut: the synapses get back the weight they had when cut.
    pub(super) fn restore_plastic(&mut self) -> Result<()> {
        if self.plastic_cut.is_empty() {
            return Ok(());
        }
        let mut states = self.plastic_states()?;
        for (&j, &w) in &self.plastic_cut {
            states[j].w = w;
        }
        self.plastic_cut.clear();
        self.write_plastic_syns()?;
        self.backend
            .write_words("plastic_state", 0, bytemuck::cast_slice(&states))
    }

    /// The plastic cuts as a checkpoint saves them: synapse indices, and the weights they get
    /// back when restored.
    pub(super) fn plastic_cut_array(&self) -> (Array1<u64>, Array1<f32>) {
        let cut = self.plastic_cut.keys().map(|&j| j as u64).collect();
        let saved = self.plastic_cut.values().copied().collect();
        (cut, saved)
    }

    /// Puts the plastic cuts of a checkpoint in force (the state written afterwards holds
    /// their zero weights).
    pub(super) fn load_plastic_cut(&mut self, cut: &[u64], saved: &[f32]) -> Result<()> {
        self.plastic_cut = cut
            .iter()
            .map(|&j| j as usize)
            .zip(saved.iter().copied())
            .collect();
        if self.plan.plastic.is_some() {
            self.write_plastic_syns()?;
        }
        Ok(())
    }

    /// Writes the plastic synapses' constants with the `CUT` bit of each cut one set.
    fn write_plastic_syns(&mut self) -> Result<()> {
        let pp = self
            .plan
            .plastic
            .as_ref()
            .expect("only with plastic synapses");
        let syns: Vec<PlasticSyn> = (pp.syns.iter().enumerate())
            .map(|(j, s)| PlasticSyn {
                rule: s.rule
                    | if self.plastic_cut.contains_key(&j) {
                        CUT
                    } else {
                        0
                    },
                ..*s
            })
            .collect();
        self.backend
            .write_words("plastic_syns", 0, bytemuck::cast_slice(&syns))
    }

    /// Every plastic synapse's state, read back.
    fn plastic_states(&mut self) -> Result<Vec<PlasticState>> {
        let n = self.plan.plastic.as_ref().map_or(0, |pp| pp.syns.len());
        let words = self
            .backend
            .read_words("plastic_state", 0, n * STATE_WORDS)?;
        Ok(bytemuck::cast_vec(words))
    }

    /// This process's indices of the plastic synapses of `projection`, in the plan's order
    /// (none on a process that holds none of them, which a projection with plastic synapses
    /// elsewhere may).
    fn plastic_ids(&self, projection: ProjectionId) -> Result<Vec<usize>> {
        if projection.net != self.plan.net_id {
            return Err(Error::Simulation(
                "this projection belongs to another network".into(),
            ));
        }
        let pp = (self.plan.plastic.as_ref()).filter(|pp| {
            pp.projection_sizes
                .get(projection.index)
                .is_some_and(|&c| c > 0)
        });
        let Some(pp) = pp else {
            return Err(Error::Simulation(format!(
                "projection #{} is not plastic; give it a rule with Network::stdp or \
                 Network::synapse_model before building",
                projection.index
            )));
        };
        Ok((0..pp.projection.len())
            .filter(|&j| pp.projection[j] == projection.index as u32)
            .collect())
    }
}
