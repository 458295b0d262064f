//! Twin of shaders/nef_synapse_model.wgsl, through the model's Rust twin.

use crate::lower::nef::layout::*;
use crate::lower::nef::BuiltRule;
use crate::model::plasticity::kernel::{
    INFO_DT, INFO_ERR, INFO_POST_OUT, INFO_PRE_OUT, INFO_TRACES, NO_POST,
};
use crate::model::plasticity::{Snippet, SynapseInputs};

/// A synapse model's rows (`shaders/nef_synapse_model.wgsl`), through the model's Rust twin:
/// the same values in, the same snippets in the same order, the same variables written back.
pub fn nef_synapse_model(
    sig: &[f32],
    w: &mut [f32],
    step: u32,
    rule: &BuiltRule,
    rows: &[SynapseRow],
) {
    let model = &rule.model;
    let twin = model
        .twin
        .as_ref()
        .expect("CpuExecutor::open refuses models without a twin");
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
