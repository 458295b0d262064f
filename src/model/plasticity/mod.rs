//! User-defined synapse models: per-synapse state, named parameters, pre and post traces, and
//! WGSL snippets that lamina splices into a kernel template and checks with naga before any
//! GPU work (see [`kernel`]). A model learns on a NEF connection through
//! [`NefNetwork::learn`](crate::model::nef::NefNetwork::learn), as PES does, and reads the
//! error connected into the rule.
//!
//! ```
//! use lamina::model::plasticity::SynapseModel;
//! // Hebbian growth, capped: every pre spike adds `rate * apost`, at most `w_max`.
//! let model = SynapseModel::new("capped_hebb")
//!     .param("rate", 1e-3)
//!     .param("w_max", 0.01)
//!     .post_trace("apost", 0.02)
//!     .on_pre("w = min(w + rate * apost, w_max);");
//! model.check()?;
//! # Ok::<(), lamina::Error>(())
//! ```
//!
//! What a snippet sees (every value is `f32` unless marked):
//! - `w` (read-write): the synapse's weight, an entry of the connection's weight matrix;
//! - each state variable (read-write), one value per synapse;
//! - each parameter (read-only), one value for the whole rule, changeable between steps with
//!   `Simulator::set_rule_param`;
//! - each pre trace and post trace (read-only): an exponentially decaying count of the pre
//!   (post) neuron's spikes, `trace <- trace * exp(-dt / tau) + (1 for a spike)`;
//! - `error` (read-only): the rule's error for this synapse's row, as PES takes it (for rows
//!   of post neurons, the error times the post's encoders, gains and 1/radius);
//! - `dt`, `t` (the time at the end of this step), `pre` and `post` (u32: the synapse's column
//!   and row in the weight matrix);
//! - `rn(x)`, `soft_exp(x)`, `soft_ln(x)`, `soft_div(a, b)`, `soft_recip(x)`: rounding,
//!   transcendentals and division that give the same bits on every adapter and on the CPU
//!   (`crate::softmath` holds their Rust twins; built-in models use them to
//!   agree bit for bit with their Rust twins).
//!
//! Snippets are statements. `on_pre` runs for every synapse whose pre neuron spiked this step,
//! then `on_post` for every synapse whose post neuron spiked, then `per_step` for every
//! synapse; changes take effect from the next step, as PES's. A snippet may not `return`.

mod builtin;
pub mod kernel;
pub mod spiking;

pub use builtin::{memristor, stdp, MemristorParams, StdpParams};

use crate::error::{invalid, Result};
use crate::model::snippet::{self, Owner};
use std::fmt;
use std::sync::Arc;

/// Which snippet of a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Snippet {
    OnPre,
    OnPost,
    PerStep,
}

impl Snippet {
    /// The snippet's name, as in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Snippet::OnPre => "on_pre",
            Snippet::OnPost => "on_post",
            Snippet::PerStep => "per_step",
        }
    }
}

/// The initial value of a state variable in every synapse.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StateInit {
    Constant(f64),
    /// Drawn per synapse, uniformly in `[low, high)`, from the network's seed (counter-based:
    /// the same seed gives the same values whatever else the network holds).
    Uniform {
        low: f64,
        high: f64,
    },
}

impl From<f64> for StateInit {
    fn from(v: f64) -> StateInit {
        StateInit::Constant(v)
    }
}

/// What a CPU twin reads besides the synapse's variables: the same values a snippet sees.
#[derive(Clone, Copy, Debug)]
pub struct SynapseInputs<'a> {
    /// Parameters, in declaration order.
    pub params: &'a [f32],
    /// Pre traces, in declaration order (scaled so that a spike adds 1).
    pub pre_traces: &'a [f32],
    pub post_traces: &'a [f32],
    pub error: f32,
    pub dt: f32,
    pub t: f32,
    pub pre: u32,
    pub post: u32,
}

/// The Rust twin of a model's snippets, for the CPU backend: called with the snippet that
/// runs, its inputs, and the synapse's variables `[w, state...]` (state in declaration order).
pub type CpuTwin = Arc<dyn Fn(Snippet, &SynapseInputs, &mut [f32]) + Send + Sync>;

/// A plastic synapse model: see the [module documentation](self).
#[derive(Clone)]
pub struct SynapseModel {
    pub(crate) name: String,
    pub(crate) state: Vec<(String, StateInit)>,
    pub(crate) params: Vec<(String, f64)>,
    pub(crate) pre_traces: Vec<(String, f64)>,
    pub(crate) post_traces: Vec<(String, f64)>,
    pub(crate) snippets: Vec<(Snippet, String)>,
    pub(crate) twin: Option<CpuTwin>,
}

impl fmt::Debug for SynapseModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SynapseModel")
            .field("name", &self.name)
            .field("state", &self.state)
            .field("params", &self.params)
            .field("pre_traces", &self.pre_traces)
            .field("post_traces", &self.post_traces)
            .field("snippets", &self.snippets)
            .field("twin", &self.twin.is_some())
            .finish()
    }
}

/// Names a snippet cannot declare: the variables lamina provides, its helpers, and the names
/// the kernel template uses.
const RESERVED: &[&str] = &[
    "w",
    "error",
    "dt",
    "t",
    "pre",
    "post",
    "rn",
    "soft_exp",
    "soft_ln",
    "soft_div",
    "soft_recip",
    "sig",
    "info",
    "rows",
    "control",
    "globals",
    "main",
    "v",
    "N_VARS",
    "NO_POST",
];

impl SynapseModel {
    /// An empty model named `name` (the name appears in every error about it).
    pub fn new(name: &str) -> SynapseModel {
        SynapseModel {
            name: name.into(),
            state: Vec::new(),
            params: Vec::new(),
            pre_traces: Vec::new(),
            post_traces: Vec::new(),
            snippets: Vec::new(),
            twin: None,
        }
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A per-synapse state variable and its initial value.
    pub fn state(mut self, name: &str, init: impl Into<StateInit>) -> Self {
        self.state.push((name.into(), init.into()));
        self
    }

    /// A named parameter, the same for every synapse of a rule.
    pub fn param(mut self, name: &str, value: f64) -> Self {
        self.params.push((name.into(), value));
        self
    }

    /// A trace of each pre neuron's spikes with time constant `tau` seconds.
    pub fn pre_trace(mut self, name: &str, tau: f64) -> Self {
        self.pre_traces.push((name.into(), tau));
        self
    }

    /// A trace of each post neuron's spikes with time constant `tau` seconds (the connection
    /// must end at post neurons).
    pub fn post_trace(mut self, name: &str, tau: f64) -> Self {
        self.post_traces.push((name.into(), tau));
        self
    }

    /// Statements run for each synapse of a pre neuron that spiked this step.
    pub fn on_pre(self, code: &str) -> Self {
        self.snippet(Snippet::OnPre, code)
    }

    /// Statements run for each synapse into a post neuron that spiked this step.
    pub fn on_post(self, code: &str) -> Self {
        self.snippet(Snippet::OnPost, code)
    }

    /// Statements run for every synapse every step (continuous dynamics).
    pub fn per_step(self, code: &str) -> Self {
        self.snippet(Snippet::PerStep, code)
    }

    fn snippet(mut self, which: Snippet, code: &str) -> Self {
        self.snippets.retain(|(s, _)| *s != which);
        self.snippets.push((which, code.into()));
        self
    }

    /// A Rust twin of the snippets, so the model also runs on the CPU backend. It must compute
    /// what the snippets compute; tests compare the two.
    pub fn cpu_twin(
        mut self,
        twin: impl Fn(Snippet, &SynapseInputs, &mut [f32]) + Send + Sync + 'static,
    ) -> Self {
        self.twin = Some(Arc::new(twin));
        self
    }

    /// The code of a snippet, if the model has it.
    pub fn code(&self, which: Snippet) -> Option<&str> {
        self.snippets
            .iter()
            .find(|(s, _)| *s == which)
            .map(|(_, c)| c.as_str())
    }

    /// Whether the model runs on the CPU backend (it has a Rust twin).
    pub fn has_cpu_twin(&self) -> bool {
        self.twin.is_some()
    }

    /// Names of the state variables, in order.
    pub fn state_names(&self) -> impl Iterator<Item = &str> {
        self.state.iter().map(|(n, _)| n.as_str())
    }

    /// Checks the declarations and every snippet (spliced into the kernel, parsed and validated
    /// by naga), without a GPU. Errors name the model, the snippet, and the line and column in
    /// the snippet.
    pub fn check(&self) -> Result<()> {
        self.check_declarations()?;
        kernel::check(self).map(|_| ())
    }

    /// This model, as its errors name it.
    pub(crate) fn owner(&self) -> Owner<'_> {
        Owner {
            what: "synapse model",
            name: &self.name,
            read_only_hint: " (parameters, traces, `error`, `dt`, `t`, `pre` and `post` are \
                             read-only; `w` and the state variables may be written)",
        }
    }

    pub(crate) fn check_declarations(&self) -> Result<()> {
        let m = &self.name;
        if self.snippets.is_empty() {
            return Err(invalid!(
                "synapse model `{m}` has no snippet; give it at least one of on_pre, on_post \
                 and per_step"
            ));
        }
        let names = self
            .state
            .iter()
            .map(|(n, _)| (n.as_str(), "state variable"))
            .chain(self.params.iter().map(|(n, _)| (n.as_str(), "parameter")))
            .chain(
                self.pre_traces
                    .iter()
                    .map(|(n, _)| (n.as_str(), "pre trace")),
            )
            .chain(
                self.post_traces
                    .iter()
                    .map(|(n, _)| (n.as_str(), "post trace")),
            );
        snippet::check_names(self.owner(), names, RESERVED, &["snippet_", "INFO_", "sm_"])?;
        snippet::check_params(self.owner(), &self.params)?;
        for (name, init) in &self.state {
            let ok = match *init {
                StateInit::Constant(v) => crate::model::nef::fits_f32(v),
                StateInit::Uniform { low, high } => {
                    crate::model::nef::fits_f32(low)
                        && crate::model::nef::fits_f32(high)
                        && low <= high
                }
            };
            if !ok {
                return Err(invalid!(
                    "synapse model `{m}`: the initial value of `{name}` ({init:?}) must be \
                     finite in float32, with low <= high"
                ));
            }
        }
        for (name, tau) in self.pre_traces.iter().chain(&self.post_traces) {
            if !(tau.is_finite() && *tau > 0.0) {
                return Err(invalid!(
                    "synapse model `{m}`: trace `{name}` has tau = {tau} s; it must be positive"
                ));
            }
        }
        for (which, code) in &self.snippets {
            snippet::check_no_return(self.owner(), which.name(), code)?;
        }
        Ok(())
    }
}
