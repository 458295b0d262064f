//! CPU twin of the NEF kernels (`shaders/nef_*.wgsl`): the same rows, the same f32 operations
//! in the same order, the same software `exp`/`log`/division, so both backends agree bit for
//! bit. One function per kernel, named as the kernel.

use super::softmath;
use crate::backend::{NefArray, NefBackend};
use crate::build::nef::layout::*;
use crate::build::nef::{BuiltRule, NefDispatch, NefPlan};
use crate::error::{Error, Result};
use crate::model::plasticity::kernel::{
    INFO_DT, INFO_ERR, INFO_POST_OUT, INFO_PRE_OUT, INFO_TRACES, NO_POST,
};
use crate::model::plasticity::{Snippet, SynapseInputs};
use std::sync::Arc;

/// Subnormal results are flushed to zero, as `flush` in shaders/shared/rounding.wgsl: GPUs may
/// flush them, CPUs do not.
fn flush(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// max(x, 0) with a fixed sign of zero (WGSL's and Rust's `max` may pick either zero).
fn positive(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

pub fn nef_feed(sig: &mut [f32], feed_dst: &[u32], row: &[f32]) {
    for (&dst, &v) in feed_dst.iter().zip(row) {
        sig[dst as usize] = v;
    }
}

pub fn nef_sum(sig: &mut [f32], rows: &[SumRow], entries: &[SumEntry]) {
    for r in rows {
        let mut acc = 0f32;
        for e in &entries[r.first as usize..(r.first + r.count) as usize] {
            acc += e.scale * sig[e.src as usize];
        }
        sig[r.dst as usize] = acc;
    }
}

pub fn nef_matvec(sig: &mut [f32], w: &[f32], rows: &[MatVecRow]) {
    for r in rows {
        let mut acc = 0f32;
        for j in 0..r.cols as usize {
            acc += w[r.w_off as usize + j] * sig[r.x_off as usize + j];
        }
        sig[r.dst as usize] = acc;
    }
}

/// Nengo's `LIF.step`: sub-step spike times and refractory carry-over.
fn lif(r: &EnsRecord, j: f32, v: &mut f32, refractory: &mut f32) -> f32 {
    let dt = r.dt;
    let rt = *refractory - dt;
    let delta_t = (dt - rt).clamp(0.0, dt);
    let decay = if delta_t == dt {
        r.expm1_dt
    } else {
        softmath::expm1(-(delta_t * r.inv_tau_rc))
    };
    let mut vv = flush(*v - (j - *v) * decay);
    let spiked = vv > 1.0;
    let mut new_rt = rt;
    let mut out = 0.0;
    if spiked {
        // t_spike = dt + tau_rc * log1p(-(v - 1) / (J - 1)): when v crossed 1 in this step.
        let t_spike = dt + r.tau_rc * softmath::ln1p(-softmath::div(vv - 1.0, j - 1.0));
        new_rt = r.tau_ref + t_spike;
        out = r.amp_over_dt;
    }
    if vv < r.min_voltage {
        vv = r.min_voltage;
    }
    if spiked {
        vv = 0.0;
    }
    *v = vv;
    *refractory = new_rt;
    out
}

pub fn nef_neurons(sig: &mut [f32], ensembles: &[EnsRecord], rows: &[NeuronRow]) {
    for row in rows {
        let r = &ensembles[row.ens as usize];
        let i = row.index as usize;
        let j =
            sig[r.bias as usize + i] + sig[r.j_enc as usize + i] + sig[r.neuron_in as usize + i];
        let (vi, ri) = (r.voltage as usize + i, r.refractory as usize + i);
        let out = match r.kind {
            NEF_LIF => {
                let (mut v, mut rt) = (sig[vi], sig[ri]);
                let out = lif(r, j, &mut v, &mut rt);
                sig[vi] = v;
                sig[ri] = rt;
                out
            }
            NEF_LIF_RATE => {
                let x = j - 1.0;
                if x > 0.0 {
                    let period = r.tau_ref + r.tau_rc * softmath::ln1p(softmath::recip(x));
                    softmath::div(r.amplitude, period)
                } else {
                    0.0
                }
            }
            NEF_RELU => r.amplitude * positive(j),
            NEF_SPIKING_RELU => {
                let v = sig[vi] + positive(j) * r.dt;
                let n = v.floor();
                sig[vi] = flush(v - n);
                r.amp_over_dt * n
            }
            other => unreachable!("ensemble kind {other} is not built"),
        };
        // An ablated neuron keeps its dynamics but outputs nothing (mask 0; 1 is exact).
        sig[r.out as usize + i] = out * sig[r.refractory as usize + r.n as usize + i];
    }
}

pub fn nef_record(
    sig: &[f32],
    w: &[f32],
    rows: &[RecordRow],
    control: &NefControl,
    record: &mut [f32],
) {
    for r in rows {
        if let Some(row) = sample_row(control.step, control.chunk_start, r.every) {
            let v = if r.from_weights == 1 {
                w[r.src as usize]
            } else {
                sig[r.src as usize]
            };
            record[(r.rec_off + row * r.width + r.k) as usize] = v;
        }
    }
}

pub fn nef_pes(sig: &[f32], w: &mut [f32], rows: &[PesRow]) {
    for r in rows {
        let scaled = r.alpha * sig[r.err as usize];
        for j in 0..r.cols as usize {
            let at = r.w_off as usize + j;
            w[at] += scaled * sig[r.pre as usize + j];
        }
    }
}

/// A synapse model's rows (`shaders/nef_synapse_model.wgsl`), through the model's Rust twin:
/// the same values in, the same snippets in the same order, the same variables written back.
pub fn nef_synapse(sig: &[f32], w: &mut [f32], step: u32, rule: &BuiltRule, rows: &[SynapseRow]) {
    let model = &rule.model;
    let twin = model
        .twin
        .as_ref()
        .expect("CpuNef::open refuses models without a twin");
    let info = &rule.info;
    let dt = f32::from_bits(info[INFO_DT]);
    let t = (step + 1) as f32 * dt;
    let params = &sig[rule.params_off..rule.params_off + model.params.len()];
    let n_pre = model.pre_traces.len();
    let n_post = model.post_traces.len();
    let trace = |k: usize, neuron: u32| {
        sig[(info[INFO_TRACES + 2 * k] + neuron) as usize]
            * f32::from_bits(info[INFO_TRACES + 2 * k + 1])
    };
    let has = |s: Snippet| model.code(s).is_some();
    let (on_pre, on_post, per_step) = (
        has(Snippet::OnPre),
        has(Snippet::OnPost),
        has(Snippet::PerStep),
    );
    let (state, stride) = (rule.state_off, rule.stride);
    let n_vars = 1 + model.state.len();
    let mut v = vec![0f32; n_vars];
    let mut pre_traces = vec![0f32; n_pre];
    let mut post_traces = vec![0f32; n_post];
    let post_out = info[INFO_POST_OUT];
    for r in rows {
        let error = sig[(info[INFO_ERR] + r.post) as usize];
        let post_spiked = post_out != NO_POST && sig[(post_out + r.post) as usize] != 0.0;
        for (k, x) in post_traces.iter_mut().enumerate() {
            *x = trace(n_pre + k, r.post);
        }
        for j in 0..r.cols {
            let (pre, syn) = ((r.pre + j) as usize, (r.syn + j) as usize);
            v[0] = w[r.w_off as usize + j as usize];
            for k in 1..n_vars {
                v[k] = w[state + (k - 1) * stride + syn];
            }
            for (k, x) in pre_traces.iter_mut().enumerate() {
                *x = trace(k, pre as u32);
            }
            let inputs = SynapseInputs {
                params,
                pre_traces: &pre_traces,
                post_traces: &post_traces,
                error,
                dt,
                t,
                pre: pre as u32,
                post: r.post,
            };
            if on_pre && sig[info[INFO_PRE_OUT] as usize + pre] != 0.0 {
                twin(Snippet::OnPre, &inputs, &mut v);
            }
            if on_post && post_spiked {
                twin(Snippet::OnPost, &inputs, &mut v);
            }
            if per_step {
                twin(Snippet::PerStep, &inputs, &mut v);
            }
            w[r.w_off as usize + j as usize] = v[0];
            for k in 1..n_vars {
                w[state + (k - 1) * stride + syn] = v[k];
            }
        }
    }
}

/// One step of a state-space filter: x <- A x + B u, y = C x + D u (see `DiscreteFilter::step`).
pub fn nef_filter(sig: &mut [f32], coefs: &[FilterCoef], rows: &[FilterRow]) {
    for r in rows {
        let c = &coefs[r.coef as usize];
        let u = sig[r.src as usize];
        let s = r.state as usize;
        let (x0, x1) = (sig[s], sig[s + 1]);
        let y = if c.order == 1 {
            let n0 = flush(c.a[0] * x0 + c.bc[0] * u);
            sig[s] = n0;
            c.bc[2] * n0 + c.d * u
        } else {
            let n0 = flush(c.a[0] * x0 + c.a[1] * x1 + c.bc[0] * u);
            let n1 = flush(c.a[2] * x0 + c.a[3] * x1 + c.bc[1] * u);
            sig[s] = n0;
            sig[s + 1] = n1;
            c.bc[2] * n0 + c.bc[3] * n1 + c.d * u
        };
        sig[r.dst as usize] = flush(y);
    }
}

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
                NefDispatch::Synapse { rule, rows } => nef_synapse(
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
        crate::backend::check_nef_chunk(&self.plan, first_step, steps, feed)?;
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
