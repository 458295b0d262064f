//! A synapse model's kernel: the model's snippets spliced into `shaders/nef_synapse_model.wgsl`,
//! parsed and validated by naga, with errors mapped back to the snippet's own lines.
//!
//! Each snippet becomes a function whose locals are the model's variables: `var` for the
//! read-write ones (the weight and the state), `let` or a function argument for the read-only
//! ones (parameters, traces, `error`, `dt`, `t`, `pre`, `post`), so naga itself refuses a write
//! to a read-only value, an unknown name or a wrong type. The user's lines are copied verbatim,
//! each on its own line of the generated source, so a span naga reports maps to the snippet's
//! line and column by subtraction.

use super::{Snippet, SynapseModel};
use crate::error::Result;
use crate::model::snippet::Source;
use crate::wgsl;

/// Layout of a rule's `info` table (u32 words), written into the kernel as its `INFO_*` constants:
/// offsets in `sig` of the pre neurons' outputs, of the post neurons' outputs (`NO_POST` when
/// the rows are not neurons), of the error rows, offset in `w` of the state and its stride
/// (synapses per variable), offset in `sig` of the parameters, `dt` as f32 bits, and from
/// `INFO_TRACES` on, per trace (pre traces first), its offset in `sig` and scale (f32 bits).
pub const INFO_PRE_OUT: usize = 0;
pub const INFO_POST_OUT: usize = 1;
pub const INFO_ERR: usize = 2;
pub const INFO_STATE: usize = 3;
pub const INFO_STRIDE: usize = 4;
pub const INFO_PARAMS: usize = 5;
pub const INFO_DT: usize = 6;
pub const INFO_TRACES: usize = 8;
/// `info[INFO_POST_OUT]` of a rule whose rows are not post neurons.
pub const NO_POST: u32 = u32::MAX;

const TEMPLATE: &str = include_str!("../../../shaders/nef_synapse_model.wgsl");
const SHARED: &[&str] = &[
    "shared/types.wgsl",
    "shared/rounding.wgsl",
    "shared/softmath.wgsl",
    "shared/nef_types.wgsl",
];

/// The kernel source of `model`.
pub(crate) fn generate(model: &SynapseModel) -> Source {
    let mut s = Source::default();
    for path in SHARED {
        let text = wgsl::shared_source(path).expect("a shared shader file");
        s.push_str(&format!("// ---- {path}\n{text}\n"));
    }
    s.push_str(&format!("// ---- synapse model `{}`\n", model.name));
    for (name, value) in [
        ("INFO_PRE_OUT", INFO_PRE_OUT),
        ("INFO_POST_OUT", INFO_POST_OUT),
        ("INFO_ERR", INFO_ERR),
        ("INFO_STATE", INFO_STATE),
        ("INFO_STRIDE", INFO_STRIDE),
        ("INFO_PARAMS", INFO_PARAMS),
        ("INFO_DT", INFO_DT),
        ("INFO_TRACES", INFO_TRACES),
    ] {
        s.push_str(&format!("const {name}: u32 = {value}u;\n"));
    }
    s.push_str(&format!(
        "const NO_POST: u32 = {NO_POST}u;\nconst N_VARS: u32 = {}u;\n",
        1 + model.state.len()
    ));
    let order = [Snippet::OnPre, Snippet::OnPost, Snippet::PerStep];
    for which in order {
        let Some(code) = model.code(which) else {
            continue;
        };
        s.push_str(&format!(
            "fn snippet_{}(v: ptr<function, array<f32, N_VARS>>, pre: u32, post: u32, error: f32, t: f32) {{\n",
            which.name()
        ));
        s.push_str("    let dt: f32 = bitcast<f32>(info[INFO_DT]);\n");
        s.push_str("    var w: f32 = (*v)[0];\n");
        for (k, (name, _)) in model.state.iter().enumerate() {
            s.push_str(&format!("    var {name}: f32 = (*v)[{}];\n", k + 1));
        }
        for (k, (name, _)) in model.params.iter().enumerate() {
            s.push_str(&format!("    let {name}: f32 = snippet_param({k}u);\n"));
        }
        for (k, (name, _)) in model.pre_traces.iter().enumerate() {
            s.push_str(&format!(
                "    let {name}: f32 = snippet_trace({k}u, pre);\n"
            ));
        }
        let n_pre = model.pre_traces.len();
        for (k, (name, _)) in model.post_traces.iter().enumerate() {
            s.push_str(&format!(
                "    let {name}: f32 = snippet_trace({}u, post);\n",
                n_pre + k
            ));
        }
        s.push_str("    {\n");
        s.push_snippet(which.name(), code);
        s.push_str("    }\n    (*v)[0] = w;\n");
        for (k, (name, _)) in model.state.iter().enumerate() {
            s.push_str(&format!("    (*v)[{}] = {name};\n", k + 1));
        }
        s.push_str("}\n\n");
    }
    let mut calls = String::new();
    for which in order.iter().filter(|w| model.code(**w).is_some()) {
        let call = format!("snippet_{}(&v, pre, r.post, error, t);", which.name());
        calls.push_str(&match which {
            Snippet::OnPre => format!("        if (pre_spiked) {{ {call} }}\n"),
            Snippet::OnPost => format!("        if (post_spiked) {{ {call} }}\n"),
            Snippet::PerStep => format!("        {call}\n"),
        });
    }
    s.push_str(&format!(
        "// ---- nef_synapse_model.wgsl\n{}",
        TEMPLATE.replace("//@CALLS@\n", &calls)
    ));
    s
}

/// Generates `model`'s kernel and validates it with naga.
pub(crate) fn check(model: &SynapseModel) -> Result<Source> {
    let generated = generate(model);
    generated.validate(model.owner())?;
    Ok(generated)
}
