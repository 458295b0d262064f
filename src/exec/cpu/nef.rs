//! The CPU executor of a NEF plan: runs its dispatch list with the kernels' Rust twins
//! (`crate::kernels`), so both backends agree bit for bit.

use crate::error::{Error, Result};
use crate::exec::{check_range, no_buffer, ChunkRecord, Executor};
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

    /// The float buffer named `name` (`sig` or `w`).
    fn array(&mut self, name: &str) -> Result<&mut Vec<f32>> {
        match name {
            "sig" => Ok(&mut self.sig),
            "w" => Ok(&mut self.w),
            _ => Err(no_buffer(name, "CPU NEF")),
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

impl Executor for CpuNef {
    fn description(&self) -> String {
        "cpu".into()
    }

    fn kind(&self) -> &'static str {
        "cpu"
    }

    fn run_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<ChunkRecord> {
        let width = self.plan.feed_width();
        crate::exec::check_chunk(self.plan.chunk_steps, width, first_step, steps, feed)?;
        self.control.step = first_step;
        self.control.chunk_start = first_step;
        let mut record = vec![0f32; self.plan.record_len];
        for _ in 0..steps {
            self.step(feed, &mut record)?;
        }
        Ok(ChunkRecord {
            steps,
            values: record,
            ..ChunkRecord::default()
        })
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

    fn set_health_check(&mut self, _on: bool) {}

    fn read_words(&mut self, buffer: &str, first: usize, len: usize) -> Result<Vec<u32>> {
        let array = self.array(buffer)?;
        check_range(buffer, array.len(), first, len)?;
        Ok(bytemuck::cast_slice(&array[first..first + len]).to_vec())
    }

    fn write_words(&mut self, buffer: &str, first: usize, words: &[u32]) -> Result<()> {
        let array = self.array(buffer)?;
        check_range(buffer, array.len(), first, words.len())?;
        array[first..first + words.len()].copy_from_slice(bytemuck::cast_slice(words));
        Ok(())
    }
}
