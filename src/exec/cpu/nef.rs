//! The CPU executor of a NEF plan: runs its dispatch list with the kernels' Rust twins
//! (`crate::kernels`), so both backends agree bit for bit.

use crate::error::{Error, Result};
use crate::exec::{NefArray, NefBackend};
use crate::kernels::{
    nef_feed, nef_filter, nef_matvec, nef_neurons, nef_pes, nef_record, nef_sum, nef_synapse_model,
};
use crate::lower::nef::layout::*;
use crate::lower::nef::{NefDispatch, NefPlan};
use std::sync::Arc;

/// The CPU twin of a NEF plan.
pub struct CpuNef {
    plan: Arc<NefPlan>,
    sig: Vec<f32>,
    w: Vec<f32>,
    control: NefControl,
}

impl CpuNef {
    /// The twin of `plan`, or an error naming a synapse model that has WGSL snippets only.
    pub fn open(plan: &Arc<NefPlan>) -> Result<CpuNef> {
        if let Some(rule) = plan.rules.iter().find(|r| !r.model.has_cpu_twin()) {
            return Err(Error::Simulation(format!(
                "synapse model `{}` (the rule of connection {}) is WGSL only, so the CPU backend \
                 cannot run it. Run on a GPU backend (Mesa's lavapipe, a software Vulkan \
                 adapter, works on any machine), or give the model a Rust twin with \
                 `SynapseModel::cpu_twin`",
                rule.model.name(),
                rule.conn
            )));
        }
        Ok(CpuNef::new(plan))
    }

    pub fn new(plan: &Arc<NefPlan>) -> CpuNef {
        CpuNef {
            plan: Arc::clone(plan),
            sig: plan.sig.clone(),
            w: plan.w.clone(),
            control: NefControl {
                feed_width: plan.feed_width() as u32,
                ..NefControl::default()
            },
        }
    }

    fn array(&mut self, array: NefArray) -> &mut Vec<f32> {
        match array {
            NefArray::Signals => &mut self.sig,
            NefArray::Weights => &mut self.w,
        }
    }

    fn step(&mut self, feed: &[f32], record: &mut [f32]) -> Result<()> {
        let plan = &*self.plan;
        let width = plan.feed_width();
        for d in &plan.dispatches {
            match d {
                NefDispatch::Feed => {
                    let row = (self.control.step - self.control.chunk_start) as usize;
                    nef_feed(
                        &mut self.sig,
                        &plan.feed_dst,
                        &feed[row * width..(row + 1) * width],
                    );
                }
                NefDispatch::Sum { rows, entries } => nef_sum(&mut self.sig, rows, entries),
                NefDispatch::MatVec { rows } => nef_matvec(&mut self.sig, &self.w, rows),
                NefDispatch::Neurons { rows } => nef_neurons(&mut self.sig, &plan.ensembles, rows),
                NefDispatch::Record => {
                    nef_record(&self.sig, &self.w, &plan.record_rows, &self.control, record)
                }
                NefDispatch::Pes { rows } => nef_pes(&self.sig, &mut self.w, rows),
                NefDispatch::Synapse { rule, rows } => nef_synapse_model(
                    &self.sig,
                    &mut self.w,
                    self.control.step,
                    &plan.rules[*rule],
                    rows,
                ),
                NefDispatch::Filter { rows } => nef_filter(&mut self.sig, &plan.filter_coefs, rows),
                NefDispatch::Advance => self.control.step += 1,
                NefDispatch::Host { node } => {
                    let h = &plan.host_nodes[*node];
                    let t = (self.control.step as f64 + 1.0) * plan.dt;
                    let (i, o) = (h.input as usize, h.output as usize);
                    let y = h.call(t, &self.sig[i..i + h.size_in])?;
                    self.sig[o..o + h.size_out].copy_from_slice(&y);
                }
            }
        }
        Ok(())
    }
}

impl NefBackend for CpuNef {
    fn description(&self) -> String {
        "cpu".into()
    }

    fn kind(&self) -> &'static str {
        "cpu"
    }

    fn run_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<Vec<f32>> {
        crate::exec::check_nef_chunk(&self.plan, first_step, steps, feed)?;
        self.control.step = first_step;
        self.control.chunk_start = first_step;
        let mut record = vec![0f32; self.plan.record_len];
        for _ in 0..steps {
            self.step(feed, &mut record)?;
        }
        Ok(record)
    }

    fn reset(&mut self) -> Result<()> {
        self.sig.copy_from_slice(&self.plan.sig);
        self.w.copy_from_slice(&self.plan.w);
        self.control.step = 0;
        self.control.chunk_start = 0;
        Ok(())
    }

    fn dispatches_per_step(&self) -> u32 {
        self.plan.kernel_dispatches()
    }

    fn device_bytes(&self) -> u64 {
        4 * (self.sig.len() + self.w.len() + self.plan.record_len) as u64
    }

    fn read(&mut self, array: NefArray, first: usize, len: usize) -> Result<Vec<f32>> {
        Ok(self.array(array)[first..first + len].to_vec())
    }

    fn write(&mut self, array: NefArray, first: usize, values: &[f32]) -> Result<()> {
        self.array(array)[first..first + values.len()].copy_from_slice(values);
        Ok(())
    }
}
