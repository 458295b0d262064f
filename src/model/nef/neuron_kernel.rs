//! The NEF neuron kernel with user-defined models: `shaders/nef_neurons.wgsl` with its
//! `custom_nef_neuron` stub replaced by one function per model (the same `nm_model_k` that the
//! plain populations' neuron update runs, see `neuron_model::kernel`) and a
//! `custom_nef_neuron` that picks one by the ensemble's kind (`NEF_CUSTOM + k` runs
//! `models[k]`). Every ensemble, of every type, still updates in one dispatch per level.
//!
//! `nef_run_k` loads neuron `i`'s state from `sig` (the first variable at the ensemble's
//! voltages, the others variable-major from `EnsRecord.state`) and the parameters from
//! `EnsRecord.params`, runs the snippets with `i_ext = J` and no synaptic input, and stores the
//! state back.

use crate::model::neuron_model::kernel::push_model_fn;
use crate::model::neuron_model::NeuronModel;
use crate::model::snippet::Source;
use crate::wgsl;

const BEGIN: &str = "//@NEURON_MODELS_BEGIN@\n";
const END: &str = "//@NEURON_MODELS_END@\n";

/// The NEF neuron kernel running `models` (model `k` on ensembles of kind `NEF_CUSTOM + k`),
/// with snippets seeing `dt = dt_ms`.
pub(crate) fn generate(models: &[&NeuronModel], dt_ms: f64) -> Source {
    let template = wgsl::source("nef_neurons").expect("the nef_neurons kernel");
    let (head, rest) = template
        .split_once(BEGIN)
        .expect("nef_neurons.wgsl marks its custom_nef_neuron stub");
    let (_, tail) = rest.split_once(END).expect("the stub's end marker");
    let mut s = Source::default();
    s.push_str(head);
    // Rust prints the shortest decimal that reads back as the same f32, and so does WGSL.
    s.push_str(&format!("const NM_DT: f32 = {:?}f;\n\n", dt_ms as f32));
    for (k, model) in models.iter().enumerate() {
        push_model_fn(&mut s, k, model);
        push_run(&mut s, k, model);
    }
    s.push_str(
        "fn custom_nef_neuron(r: EnsRecord, i: u32, j: f32, refr: bool) -> bool {\n    \
         switch (r.kind) {\n",
    );
    for k in 0..models.len() {
        s.push_str(&format!(
            "        case NEF_CUSTOM + {k}u: {{ return nef_run_{k}(r, i, j, refr); }}\n"
        ));
    }
    s.push_str("        default: { return false; }\n    }\n}\n");
    s.push_str(tail);
    s
}

/// `nef_run_k`: loads, runs `nm_model_k`, stores.
fn push_run(s: &mut Source, k: usize, model: &NeuronModel) {
    let n_vars = model.state.len();
    let n_params = model.params.len();
    s.push_str(&format!(
        "fn nef_run_{k}(r: EnsRecord, i: u32, j: f32, refr: bool) -> bool {{
    var s: array<f32, {n_vars}>;
    s[0] = sig[r.voltage + i];
    for (var q = 1u; q < {n_vars}u; q++) {{
        s[q] = sig[r.state + (q - 1u) * r.n + i];
    }}
    var p: array<f32, {}>;
    for (var q = 0u; q < {n_params}u; q++) {{
        p[q] = sig[r.params + q];
    }}
    let t = rn(f32(control.step) * NM_DT);
    let fired = nm_model_{k}(&s, &p, 0.0, 0.0, j, t, i, refr);
    sig[r.voltage + i] = s[0];
    for (var q = 1u; q < {n_vars}u; q++) {{
        sig[r.state + (q - 1u) * r.n + i] = s[q];
    }}
    return fired;
}}

",
        n_params.max(1)
    ));
}
