//! User-defined neuron models, in the style of GeNN and Brian2: per-neuron state variables,
//! named parameters, an `update` snippet, a `threshold` condition and a `reset` snippet, all
//! WGSL. A population of such neurons ([`Network::neurons`](crate::model::Network::neurons))
//! takes projections, delays, Poisson and current inputs, probes and ablation like the built-in
//! kinds, and runs in the same merged neuron-update dispatch: the snippets are spliced into
//! `shaders/neuron_update.wgsl` and checked by naga when the population is added (see
//! [`kernel`]). A model with a Rust twin also runs in a NEF ensemble, driven by the ensemble's
//! current through `i_ext` (see `model::nef::ModelNeuron`).
//!
//! ```
//! use lamina::model::neuron_model::NeuronModel;
//! // A leaky integrator driven by its synaptic input, firing at 1 and resetting to 0.
//! let model = NeuronModel::new("leaky")
//!     .state("x", 0.0)
//!     .param("tau", 10.0)
//!     .update("x = rn(x + rn((in_ex + in_in - x) * rn(dt / tau)));")
//!     .threshold("x > 1.0")
//!     .reset("x = 0.0;");
//! model.check()?;
//! # Ok::<(), lamina::Error>(())
//! ```
//!
//! What the snippets see (every value is `f32` unless marked):
//! - each state variable (read-write), one value per neuron;
//! - each parameter (read-only), one value per population, changeable between steps with
//!   `Simulator::set_neuron_param`;
//! - `in_ex` and `in_in` (read-only): the summed weights of the spikes arriving this step on
//!   the excitatory (w >= 0) and inhibitory (w < 0) channel, Poisson input included, in the
//!   weights' unit (pA for the built-in neurons);
//! - `i_ext` (read-only): the sum of the constant currents injected with `Network::current`;
//! - `dt` and `t` (ms; `t` is the time at the start of this step), `index` (u32: the neuron's
//!   index in its population) and `refractory` (bool: whether the neuron is within its
//!   refractory period, see [`NeuronModel::refractory_ms`]);
//! - `rn(x)`, `flush(x)`, `soft_exp(x)`, `soft_expm1(x)`, `soft_ln(x)`, `soft_ln1p(x)`,
//!   `soft_div(a, b)`, `soft_recip(x)`:
//!   rounding, flushing of subnormals, transcendentals and division that give the same bits on
//!   every adapter and on the CPU (see `crate::softmath`).
//!
//! Each step, every neuron runs `update`; then, unless it is refractory, `threshold` (a `bool`
//! expression); where that holds, the neuron spikes and runs `reset`. A spike starts the
//! refractory period, which counts the spike step (as the built-in `LifCurrent`'s). An ablated
//! neuron's state is frozen and it never spikes.
//!
//! The first state variable is the one a state probe records as `StateVar::V`; every variable
//! can be read and written between steps with `Simulator::neuron_state` and
//! `set_neuron_state`.

mod builtin;
pub mod kernel;

pub use builtin::{
    izhikevich, nengo_izhikevich, nengo_lif, nengo_spiking_rectified_linear, IzhikevichParams,
};

use super::dist::Dist;
use super::snippet::{self, Owner};
use crate::error::{invalid, Result};
use std::fmt;
use std::sync::Arc;

/// Most state variables a model may have (the CPU twin keeps them on the stack).
pub const MAX_STATE_VARS: usize = 16;

/// What a CPU twin reads besides the neuron's state: the same values the snippets see.
#[derive(Clone, Copy, Debug)]
pub struct NeuronInputs<'a> {
    /// Parameters, in declaration order.
    pub params: &'a [f32],
    pub in_ex: f32,
    pub in_in: f32,
    pub i_ext: f32,
    pub dt: f32,
    pub t: f32,
    pub index: u32,
    pub refractory: bool,
}

/// The Rust twin of a model's snippets, for the CPU backend: one step of one neuron, given its
/// inputs and its state variables (in declaration order). It runs the update, then, unless
/// `refractory`, the threshold and, where it holds, the reset, and returns whether the neuron
/// spiked.
pub type NeuronTwin = Arc<dyn Fn(&NeuronInputs, &mut [f32]) -> bool + Send + Sync>;

/// A neuron model: see the [module documentation](self).
#[derive(Clone)]
pub struct NeuronModel {
    pub(crate) name: String,
    pub(crate) state: Vec<(String, Dist)>,
    pub(crate) params: Vec<(String, f64)>,
    pub(crate) update: String,
    pub(crate) threshold: String,
    pub(crate) reset: String,
    pub(crate) refractory_ms: f64,
    pub(crate) twin: Option<NeuronTwin>,
}

impl fmt::Debug for NeuronModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NeuronModel")
            .field("name", &self.name)
            .field("state", &self.state)
            .field("params", &self.params)
            .field("update", &self.update)
            .field("threshold", &self.threshold)
            .field("reset", &self.reset)
            .field("refractory_ms", &self.refractory_ms)
            .field("twin", &self.twin.is_some())
            .finish()
    }
}

/// Two models are equal when they declare and compute the same (twins compare by identity).
impl PartialEq for NeuronModel {
    fn eq(&self, other: &NeuronModel) -> bool {
        self.same_code(other)
            && self.state == other.state
            && self.params == other.params
            && self.refractory_ms == other.refractory_ms
            && match (&self.twin, &other.twin) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// Names a model cannot declare: the values lamina provides to snippets, and its helpers.
const RESERVED: &[&str] = &[
    "in_ex",
    "in_in",
    "i_ext",
    "dt",
    "t",
    "index",
    "refractory",
    "rn",
    "flush",
    "soft_exp",
    "soft_expm1",
    "soft_ln",
    "soft_ln1p",
    "soft_div",
    "soft_recip",
];

impl NeuronModel {
    /// An empty model named `name` (the name appears in every error about it).
    pub fn new(name: &str) -> NeuronModel {
        NeuronModel {
            name: name.into(),
            state: Vec::new(),
            params: Vec::new(),
            update: String::new(),
            threshold: String::new(),
            reset: String::new(),
            refractory_ms: 0.0,
            twin: None,
        }
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A per-neuron state variable and its initial value, drawn per neuron from the network's
    /// seed (counter-based, keyed by population and variable name).
    pub fn state(mut self, name: &str, init: impl Into<Dist>) -> Self {
        self.state.push((name.into(), init.into()));
        self
    }

    /// A named parameter, the same for every neuron of a population.
    pub fn param(mut self, name: &str, value: f64) -> Self {
        self.params.push((name.into(), value));
        self
    }

    /// Replaces the value of a declared parameter (the same model with other constants);
    /// an unknown name is an error.
    pub fn with_param(mut self, name: &str, value: f64) -> Result<Self> {
        match self.params.iter_mut().find(|(n, _)| n == name) {
            Some(p) => p.1 = value,
            None => {
                return Err(invalid!(
                    "neuron model `{}` has no parameter `{name}`; it has {}",
                    self.name,
                    names(self.params.iter().map(|(n, _)| n.as_str()))
                ))
            }
        }
        Ok(self)
    }

    /// Statements run for every neuron every step.
    pub fn update(mut self, code: &str) -> Self {
        self.update = code.into();
        self
    }

    /// A `bool` expression: where it holds (and the neuron is not refractory), it spikes.
    pub fn threshold(mut self, expr: &str) -> Self {
        self.threshold = expr.into();
        self
    }

    /// Statements run for a neuron that spiked, right after its threshold held.
    pub fn reset(mut self, code: &str) -> Self {
        self.reset = code.into();
        self
    }

    /// The refractory period after a spike, rounded to whole steps (the spike step counts):
    /// `threshold` is not evaluated during it, and the snippets see `refractory = true`.
    pub fn refractory_ms(mut self, t: f64) -> Self {
        self.refractory_ms = t;
        self
    }

    /// A Rust twin of the snippets, so the model also runs on the CPU backend: see
    /// [`NeuronTwin`]. It must compute what the snippets compute; tests compare the two.
    pub fn cpu_twin(
        mut self,
        twin: impl Fn(&NeuronInputs, &mut [f32]) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.twin = Some(Arc::new(twin));
        self
    }

    /// Whether the model runs on the CPU backend (it has a Rust twin).
    pub fn has_cpu_twin(&self) -> bool {
        self.twin.is_some()
    }

    /// Names of the state variables, in order.
    pub fn state_names(&self) -> impl Iterator<Item = &str> {
        self.state.iter().map(|(n, _)| n.as_str())
    }

    /// Names of the parameters, in order.
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.params.iter().map(|(n, _)| n.as_str())
    }

    /// Whether the two models generate the same kernel code (the same declarations and
    /// snippets; parameter values and initial states may differ). Populations of such models
    /// share one function in the neuron update, and on the CPU the first one's Rust twin.
    pub(crate) fn same_code(&self, other: &NeuronModel) -> bool {
        self.name == other.name
            && self.state_names().eq(other.state_names())
            && self.param_names().eq(other.param_names())
            && self.update == other.update
            && self.threshold == other.threshold
            && self.reset == other.reset
    }

    /// This model, as its errors name it.
    pub(crate) fn owner(&self) -> Owner<'_> {
        Owner {
            what: "neuron model",
            name: &self.name,
            read_only_hint: " (parameters, `in_ex`, `in_in`, `i_ext`, `dt`, `t`, `index` and \
                             `refractory` are read-only; the state variables may be written)",
        }
    }

    /// Checks the declarations and every snippet (spliced into the neuron update, parsed and
    /// validated by naga), without a GPU. Errors name the model, the snippet, and the line and
    /// column in the snippet.
    pub fn check(&self) -> Result<()> {
        self.check_declarations()?;
        kernel::generate(&[self], 0.1).validate(self.owner())
    }

    fn check_declarations(&self) -> Result<()> {
        let m = &self.name;
        if self.state.is_empty() || self.state.len() > MAX_STATE_VARS {
            return Err(invalid!(
                "neuron model `{m}` has {} state variables; it needs 1 to {MAX_STATE_VARS}",
                self.state.len()
            ));
        }
        for (which, code) in [("update", &self.update), ("threshold", &self.threshold)] {
            if code.trim().is_empty() {
                return Err(invalid!(
                    "neuron model `{m}` has no {which} snippet; give it one (an update may be \
                     a plain `;` when the state changes only on reset)"
                ));
            }
        }
        let names = self
            .state
            .iter()
            .map(|(n, _)| (n.as_str(), "state variable"))
            .chain(self.params.iter().map(|(n, _)| (n.as_str(), "parameter")));
        snippet::check_names(self.owner(), names, RESERVED, &["nm_", "NM_"])?;
        snippet::check_params(self.owner(), &self.params)?;
        for (name, init) in &self.state {
            init.validate(&format!("neuron model `{m}`: initial value of `{name}`"))?;
            let (low, high) = init.support();
            if !(crate::model::nef::fits_f32(low) || low == f64::NEG_INFINITY)
                || !(crate::model::nef::fits_f32(high) || high == f64::INFINITY)
            {
                return Err(invalid!(
                    "neuron model `{m}`: the initial value of `{name}` ({init:?}) must lie \
                     within float32's range"
                ));
            }
        }
        if !(self.refractory_ms.is_finite() && self.refractory_ms >= 0.0) {
            return Err(invalid!(
                "neuron model `{m}`: refractory_ms must be >= 0, got {}",
                self.refractory_ms
            ));
        }
        for (which, code) in [("update", &self.update), ("reset", &self.reset)] {
            snippet::check_no_return(self.owner(), which, code)?;
        }
        Ok(())
    }
}

/// "`a`, `b`" (or "none").
pub(crate) fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<String> = it.map(|n| format!("`{n}`")).collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}
