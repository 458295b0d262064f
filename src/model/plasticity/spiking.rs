//! Synapse models on spiking projections: the models' snippets spliced into
//! `shaders/plastic_model_post.wgsl` and `shaders/plastic_model_pre.wgsl`, parsed and validated
//! by naga, with errors mapped back to the snippet's own lines (as [`super::kernel`] does for
//! NEF connections).
//!
//! Each synapse keeps its weight and the step its traces were last brought to in the plastic
//! state (as built-in STDP's), and its state variables and traces in `model_vars`. A trace
//! decays by a table lookup per elapsed step and jumps by 1 per event: a pre trace when a spike
//! arrives at the synapse (after its delay), a post trace when the post neuron fires. At an
//! arrival the weight is delivered first; then the traces are brought to the step, the pre
//! traces jump, and `on_pre` runs. At a post spike the post traces jump and `on_post` runs.
//! Snippets see `w`, the state variables, parameters (from `model_params`, changeable between
//! steps), traces, `dt`, `t` (the event's step times dt), and `pre` and `post` (the synapse's
//! neurons within their populations).

use super::{Snippet, SynapseModel};
use crate::error::{invalid, Result};
use crate::model::snippet::Source;
use crate::wgsl;

/// Where one model's values are, as the lowering placed them.
#[derive(Clone, Debug)]
pub struct ModelLayout<'a> {
    pub model: &'a SynapseModel,
    /// Offset of its first parameter in `model_params`.
    pub param_off: u32,
    /// Per trace (pre traces first), its decay table: start and length in `decay`.
    pub traces: &'a [(u32, u32)],
    /// The largest weight magnitude delivered.
    pub max_weight: f32,
}

const SHARED: &[&str] = &[
    "shared/types.wgsl",
    "shared/rounding.wgsl",
    "shared/softmath.wgsl",
    "shared/plastic_types.wgsl",
];
/// Only the arrival kernel binds what `plastic_arrivals.wgsl` reads.
const ARRIVALS: &str = "shared/plastic_arrivals.wgsl";

/// Names a snippet on a spiking projection may not declare besides the NEF ones: the
/// bindings its generated function could otherwise shadow.
const RESERVED: &[&str] = &["model_params", "model_vars", "model_syn", "state", "decay"];

/// Checks `model` for a spiking projection: its declarations and snippets (with a placeholder
/// layout), and what a spiking projection cannot give it.
pub(crate) fn check(model: &SynapseModel) -> Result<()> {
    model.check_declarations()?;
    let owner = model.owner();
    if model.code(Snippet::PerStep).is_some() {
        return Err(invalid!(
            "synapse model `{}` has a per_step snippet; on a spiking projection a model runs \
             only at events (on_pre when a spike arrives, on_post when the post neuron fires): \
             write continuous decay with traces, or use the model on a NEF connection",
            model.name
        ));
    }
    let names = model
        .state
        .iter()
        .map(|(n, _)| n)
        .chain(model.params.iter().map(|(n, _)| n))
        .chain(model.pre_traces.iter().map(|(n, _)| n))
        .chain(model.post_traces.iter().map(|(n, _)| n));
    for name in names {
        if RESERVED.contains(&name.as_str()) {
            return Err(invalid!(
                "{} `{}`: `{name}` is a name the spiking kernels use; rename it",
                owner.what,
                owner.name
            ));
        }
    }
    let traces = vec![(0, 1); model.pre_traces.len() + model.post_traces.len()];
    let layout = ModelLayout {
        model,
        param_off: 0,
        traces: &traces,
        max_weight: 1.0,
    };
    for (_, source) in generate(std::slice::from_ref(&layout), 0.1e-3) {
        source.validate(owner)?;
    }
    Ok(())
}

/// The two kernels' sources for `models` (in the order the lowering numbered them) at a step of
/// `dt` seconds: `("plastic_model_post", ..)` and `("plastic_model_pre", ..)`.
pub(crate) fn generate(models: &[ModelLayout], dt: f32) -> [(&'static str, Source); 2] {
    let mut common = Source::default();
    for path in SHARED {
        let text = wgsl::shared_source(path).expect("a shared shader file");
        common.push_str(&format!("// ---- {path}\n{text}\n"));
    }
    // Rust's `{:?}` of an f32 is the shortest text that reads back as the same f32.
    common.push_str(&format!("const MODEL_DT: f32 = {dt:?}f;\n"));
    for (m, layout) in models.iter().enumerate() {
        model_functions(&mut common, m, layout);
    }
    dispatch_functions(&mut common, models);
    [
        (
            "plastic_model_post",
            include_str!("../../../shaders/plastic_model_post.wgsl"),
        ),
        (
            "plastic_model_pre",
            include_str!("../../../shaders/plastic_model_pre.wgsl"),
        ),
    ]
    .map(|(name, template)| {
        let mut s = common.clone();
        if name == "plastic_model_pre" {
            let text = wgsl::shared_source(ARRIVALS).expect("a shared shader file");
            s.push_str(&format!("// ---- {ARRIVALS}\n{text}\n"));
        }
        s.push_str(&format!("// ---- {name}.wgsl\n{template}"));
        (name, s)
    })
}

/// Model `m`'s snippet functions and its event function.
fn model_functions(s: &mut Source, m: usize, layout: &ModelLayout) {
    let model = layout.model;
    let n_state = model.state.len();
    let (n_pre, n_post) = (model.pre_traces.len(), model.post_traces.len());
    let n_vars = 1 + n_state;
    let n_traces = (n_pre + n_post).max(1);
    s.push_str(&format!("// ---- synapse model `{}`\n", model.name));
    for which in [Snippet::OnPre, Snippet::OnPost] {
        let Some(code) = model.code(which) else {
            continue;
        };
        s.push_str(&format!(
            "fn m{m}_{}(snippet_v: ptr<function, array<f32, {n_vars}>>, snippet_tr: \
             array<f32, {n_traces}>, pre: u32, post: u32, t: f32) {{\n",
            which.name()
        ));
        s.push_str("    let dt: f32 = MODEL_DT;\n    var w: f32 = (*snippet_v)[0];\n");
        for (k, (name, _)) in model.state.iter().enumerate() {
            s.push_str(&format!("    var {name}: f32 = (*snippet_v)[{}];\n", k + 1));
        }
        for (k, (name, _)) in model.params.iter().enumerate() {
            s.push_str(&format!(
                "    let {name}: f32 = model_params[{}u];\n",
                layout.param_off as usize + k
            ));
        }
        let traces = model.pre_traces.iter().chain(&model.post_traces);
        for (k, (name, _)) in traces.enumerate() {
            s.push_str(&format!("    let {name}: f32 = snippet_tr[{k}];\n"));
        }
        s.push_str("    {\n");
        s.push_snippet(which.name(), code);
        s.push_str("    }\n    (*snippet_v)[0] = w;\n");
        for (k, (name, _)) in model.state.iter().enumerate() {
            s.push_str(&format!("    (*snippet_v)[{}] = {name};\n", k + 1));
        }
        s.push_str("}\n\n");
    }
    // The event: load, bring the traces to `now`, jump the event's traces, run its snippet,
    // store. Twin: `model_event` in src/kernels/plastic_model_post.rs.
    s.push_str(&format!(
        "fn m{m}_event(k: u32, now: u32, post_event: bool) {{\n\
         \x20   var st = state[k];\n\
         \x20   let ms = model_syn[k];\n\
         \x20   let steps = now - st.last;\n\
         \x20   var v: array<f32, {n_vars}>;\n\
         \x20   v[0] = st.w;\n"
    ));
    for k in 0..n_state {
        s.push_str(&format!("    v[{}] = model_vars[ms.vars + {k}u];\n", k + 1));
    }
    s.push_str(&format!("    var tr: array<f32, {n_traces}>;\n"));
    for (k, (start, len)) in layout.traces.iter().enumerate() {
        s.push_str(&format!(
            "    tr[{k}] = flush(rn(model_vars[ms.vars + {}u] * trace_decay({start}u, {len}u, steps)));\n",
            n_state + k
        ));
    }
    s.push_str("    let t = rn(f32(now) * MODEL_DT);\n    if (post_event) {\n");
    for k in n_pre..n_pre + n_post {
        s.push_str(&format!("        tr[{k}] = rn(tr[{k}] + 1.0);\n"));
    }
    if model.code(Snippet::OnPost).is_some() {
        s.push_str(&format!(
            "        m{m}_on_post(&v, tr, ms.pre, ms.post, t);\n"
        ));
    }
    s.push_str("    } else {\n");
    for k in 0..n_pre {
        s.push_str(&format!("        tr[{k}] = rn(tr[{k}] + 1.0);\n"));
    }
    if model.code(Snippet::OnPre).is_some() {
        s.push_str(&format!(
            "        m{m}_on_pre(&v, tr, ms.pre, ms.post, t);\n"
        ));
    }
    s.push_str("    }\n    st.w = v[0];\n    st.last = now;\n    state[k] = st;\n");
    for k in 0..n_state {
        s.push_str(&format!("    model_vars[ms.vars + {k}u] = v[{}];\n", k + 1));
    }
    for k in 0..n_pre + n_post {
        s.push_str(&format!(
            "    model_vars[ms.vars + {}u] = tr[{k}];\n",
            n_state + k
        ));
    }
    s.push_str("}\n\n");
}

/// `model_event` and `model_bound`, which the templates call: a switch over the models.
fn dispatch_functions(s: &mut Source, models: &[ModelLayout]) {
    s.push_str("fn model_event(m: u32, k: u32, now: u32, post_event: bool) {\n    switch m {\n");
    for m in 0..models.len() {
        s.push_str(&format!(
            "        case {m}u: {{ m{m}_event(k, now, post_event); }}\n"
        ));
    }
    s.push_str("        default: {}\n    }\n}\n\n");
    s.push_str("fn model_bound(m: u32) -> f32 {\n    switch m {\n");
    for (m, layout) in models.iter().enumerate() {
        s.push_str(&format!(
            "        case {m}u: {{ return bitcast<f32>({}u); }}\n",
            layout.max_weight.to_bits()
        ));
    }
    s.push_str("        default: { return 0.0; }\n    }\n}\n\n");
}
