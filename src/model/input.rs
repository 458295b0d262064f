//! External inputs.

use super::network::NeuronSlice;

/// A constant current (pA) into every neuron of a slice, added to the neuron's own `i_e_pa`:
/// the same for all, or one per neuron.
#[derive(Clone, Debug)]
pub struct CurrentInput {
    pub target: NeuronSlice,
    pub amplitude_pa: PerNeuron,
}

/// A value for every neuron of a slice.
#[derive(Clone, Debug, PartialEq)]
pub enum PerNeuron {
    /// The same value for each.
    Same(f64),
    /// One value per neuron of the slice, in order.
    Each(Vec<f64>),
}

impl PerNeuron {
    /// The value of the slice's `k`-th neuron.
    pub fn at(&self, k: usize) -> f64 {
        match self {
            PerNeuron::Same(x) => *x,
            PerNeuron::Each(xs) => xs[k],
        }
    }
}

/// Initial values of one state variable of some neurons, replacing what the neuron kind's
/// distribution would draw for them.
#[derive(Clone, Debug)]
pub struct InitialState {
    pub target: NeuronSlice,
    /// `v` for a LIF neuron (mV), or a state variable of a user-defined model.
    pub var: String,
    pub values: Vec<f64>,
}

/// Per-neuron values of one parameter of some neurons, replacing the population's value for
/// them (`Network::parameter_each`).
#[derive(Clone, Debug)]
pub struct ParameterEach {
    pub target: NeuronSlice,
    /// A field of `LifCurrent` (`v_th_mv`, ...) or a parameter of a user-defined model.
    pub name: String,
    pub values: Vec<f64>,
}

/// Independent Poisson spike trains into each neuron of a slice: every target neuron receives
/// `in_degree` independent sources of `rate_hz`, each spike adding `weight_pa` (Brian2's
/// `PoissonInput`, NEST's `poisson_generator` with `in_degree` connections). Each step, the count
/// is a binomial draw (`in_degree`, `rate_hz * dt`) made on the GPU from a counter-based hash of
/// (seed, input, neuron, step), and added with the spikes that arrive that step.
#[derive(Clone, Debug, PartialEq)]
pub struct PoissonInput {
    pub in_degree: u32,
    pub rate_hz: f64,
    pub weight_pa: f64,
}
