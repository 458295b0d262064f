//! The neuron update with user-defined models: `shaders/neuron_update.wgsl` with its
//! `custom_neuron` stub replaced by one function per model and a `custom_neuron` that picks
//! one by the population's kind (`KIND_CUSTOM + k` runs `models[k]`). Every population, of
//! every kind, still updates in one dispatch.
//!
//! A model's snippets become the body of `nm_model_k`, whose locals are the model's
//! variables: `var` for the state, `let` or a function argument for the read-only values, so
//! naga itself refuses a write to a read-only value, an unknown name or a wrong type. Its
//! caller `nm_run_k` loads the neuron's state and parameters from `v` (see `PopRecord.aux`,
//! `params` and `each`: parameters per neuron or shared), checks the state for NaN and
//! infinities when the health check is on, and stores it back.

use super::NeuronModel;
use crate::model::snippet::Source;
use crate::wgsl;

const BEGIN: &str = "//@NEURON_MODELS_BEGIN@\n";
const END: &str = "//@NEURON_MODELS_END@\n";

/// The neuron update running `models` (model `k` on populations of kind `KIND_CUSTOM + k`),
/// for time step `dt_ms`.
pub(crate) fn generate(models: &[&NeuronModel], dt_ms: f64) -> Source {
    let template = wgsl::source("neuron_update").expect("the neuron_update kernel");
    let (head, rest) = template
        .split_once(BEGIN)
        .expect("neuron_update.wgsl marks its custom_neuron stub");
    let (_, tail) = rest.split_once(END).expect("the stub's end marker");
    let mut s = Source::default();
    s.push_str(head);
    // Rust prints the shortest decimal that reads back as the same f32, and so does WGSL.
    s.push_str(&format!("const NM_DT: f32 = {:?}f;\n\n", dt_ms as f32));
    for (k, model) in models.iter().enumerate() {
        push_model(&mut s, k, model);
    }
    s.push_str(
        "fn custom_neuron(pop: PopRecord, i: u32, local: u32, step: u32, input: vec2<f32>, \
         refr: bool) -> bool {\n    switch (pop.kind) {\n",
    );
    for k in 0..models.len() {
        s.push_str(&format!(
            // KIND_CUSTOM is the WGSL constant of shared/types.wgsl.
            "        case KIND_CUSTOM + {k}u: {{ return nm_run_{k}(pop, i, local, step, input, refr); }}\n"
        ));
    }
    s.push_str("        default: { return false; }\n    }\n}\n");
    s.push_str(tail);
    s
}

/// `nm_model_k` (the snippets) and `nm_run_k` (loads, health check, stores).
fn push_model(s: &mut Source, k: usize, model: &NeuronModel) {
    push_model_fn(s, k, model);
    let n_vars = model.state.len();
    // WGSL has no zero-length arrays.
    let n_params = model.params.len().max(1);
    let rest = n_vars - 1;
    s.push_str(&format!(
        "fn nm_run_{k}(pop: PopRecord, i: u32, local: u32, step: u32, input: vec2<f32>, \
         refr: bool) -> bool {{
    var s: array<f32, {n_vars}>;
    s[0] = v[i];
    let base = pop.aux + local * {rest}u;
    for (var j = 1u; j < {n_vars}u; j++) {{
        s[j] = v[base + j - 1u];
    }}
    var p: array<f32, {n_params}>;
    for (var j = 0u; j < {}u; j++) {{
        p[j] = v[pop.params + local * pop.each + j];
    }}
    let t = rn(f32(step) * NM_DT);
    let fired = nm_model_{k}(&s, &p, input.x, input.y, v_drive[i], t, local, refr);
    if (control.health != 0u) {{
        for (var j = 0u; j < {n_vars}u; j++) {{
            if (!finite(s[j])) {{
                report(step, i, BAD_V);
            }}
        }}
    }}
    v[i] = s[0];
    for (var j = 1u; j < {n_vars}u; j++) {{
        v[base + j - 1u] = s[j];
    }}
    return fired;
}}

",
        model.params.len()
    ));
}

/// `nm_model_k`: the model's snippets as a function of its state (read-write), its parameters
/// and the values every snippet sees, returning whether the neuron spiked. The NEF neuron
/// kernel calls the same function (`crate::model::nef::neuron_kernel`), with `NM_DT` in ms.
pub(crate) fn push_model_fn(s: &mut Source, k: usize, model: &NeuronModel) {
    let n_vars = model.state.len();
    // WGSL has no zero-length arrays.
    let n_params = model.params.len().max(1);
    s.push_str(&format!("// ---- neuron model `{}`\n", model.name));
    s.push_str(&format!(
        "fn nm_model_{k}(nm_s: ptr<function, array<f32, {n_vars}>>, \
         nm_p: ptr<function, array<f32, {n_params}>>, in_ex: f32, in_in: f32, i_ext: f32, \
         t: f32, index: u32, refractory: bool) -> bool {{\n"
    ));
    s.push_str("    let dt: f32 = NM_DT;\n");
    for (j, (name, _)) in model.state.iter().enumerate() {
        s.push_str(&format!("    var {name}: f32 = (*nm_s)[{j}];\n"));
    }
    for (j, (name, _)) in model.params.iter().enumerate() {
        s.push_str(&format!("    let {name}: f32 = (*nm_p)[{j}];\n"));
    }
    s.push_str("    {\n");
    s.push_snippet("update", &model.update);
    s.push_str("    }\n    var nm_fired = false;\n    if (!refractory) {\n        nm_fired = (\n");
    s.push_snippet("threshold", &model.threshold);
    s.push_str("        );\n        if (nm_fired) {\n");
    s.push_snippet("reset", &model.reset);
    s.push_str("        }\n    }\n");
    for (j, (name, _)) in model.state.iter().enumerate() {
        s.push_str(&format!("    (*nm_s)[{j}] = {name};\n"));
    }
    s.push_str("    return nm_fired;\n}\n\n");
}
