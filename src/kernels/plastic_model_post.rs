//! Twin of shaders/plastic_model_post.wgsl, and of the event function the generator writes for
//! each model (src/model/plasticity/spiking.rs), through the model's Rust twin.

use super::plastic_post::PlasticTables;
use super::rounding::flush;
use crate::lower::layout::Control;
use crate::lower::plastic::{ModelPlan, ModelSyn, PlasticState, CUT, MODEL};
use crate::model::plasticity::{Snippet, SynapseInputs};

/// What the model kernels read and do not change, besides the STDP kernels' tables.
pub(crate) struct ModelTables<'a> {
    pub plastic: PlasticTables<'a>,
    pub model_syn: &'a [ModelSyn],
    pub model_params: &'a [f32],
    pub models: &'a [ModelPlan],
    /// The step (s).
    pub dt: f32,
}

impl ModelTables<'_> {
    /// Twin of the generated `m{m}_event`: synapse `k`'s traces brought to step `now`, the
    /// event's traces up by 1, its snippet through the model's twin, the values stored.
    pub fn event(
        &self,
        m: usize,
        k: usize,
        now: u32,
        post_event: bool,
        (state, model_vars): (&mut [PlasticState], &mut [f32]),
    ) {
        let plan = &self.models[m];
        let model = &plan.model;
        let twin = model
            .twin
            .as_ref()
            .expect("CpuExecutor::open refuses models without a twin");
        let (n_state, n_pre) = (model.state.len(), model.pre_traces.len());
        let mut st = state[k];
        let ms = self.model_syn[k];
        let base = ms.vars as usize;
        let steps = now.wrapping_sub(st.last);
        let mut v = Vec::with_capacity(1 + n_state);
        v.push(st.w);
        v.extend_from_slice(&model_vars[base..base + n_state]);
        let mut tr: Vec<f32> = (plan.traces.iter().enumerate())
            .map(|(i, &(start, len))| {
                flush(model_vars[base + n_state + i] * self.plastic.trace_decay(start, len, steps))
            })
            .collect();
        let t = now as f32 * self.dt;
        let (jumped, which) = match post_event {
            true => (n_pre..tr.len(), Snippet::OnPost),
            false => (0..n_pre, Snippet::OnPre),
        };
        for x in &mut tr[jumped] {
            *x += 1.0;
        }
        if model.code(which).is_some() {
            let off = plan.param_off as usize;
            let inputs = SynapseInputs {
                params: &self.model_params[off..off + model.params.len()],
                pre_traces: &tr[..n_pre],
                post_traces: &tr[n_pre..],
                error: 0.0,
                dt: self.dt,
                t,
                pre: ms.pre,
                post: ms.post,
            };
            twin(which, &inputs, &mut v);
        }
        st.w = v[0];
        st.last = now;
        state[k] = st;
        model_vars[base..base + n_state].copy_from_slice(&v[1..]);
        model_vars[base + n_state..base + n_state + tr.len()].copy_from_slice(&tr);
    }
}

/// The model index of a synapse's rule field, if it is a model synapse and not cut.
pub(crate) fn model_of(rule: u32) -> Option<usize> {
    (rule & (CUT | MODEL) == MODEL).then_some((rule & !MODEL) as usize)
}

/// Twin of shaders/plastic_model_post.wgsl: the step's spikes, in order.
pub(crate) fn plastic_model_post(
    t: &ModelTables,
    (control, spikes): (&Control, &[u32]),
    (post_ptr, by_post): (&[u32], &[u32]),
    state: &mut [PlasticState],
    model_vars: &mut [f32],
) {
    let now = control.prop_step;
    for &post in &spikes[..control.prop_count() as usize] {
        for &k in &by_post[post_ptr[post as usize] as usize..post_ptr[post as usize + 1] as usize] {
            if let Some(m) = model_of(t.plastic.syns[k as usize].rule) {
                t.event(m, k as usize, now, true, (state, model_vars));
            }
        }
    }
}
