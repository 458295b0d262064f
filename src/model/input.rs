//! External inputs.

use super::network::NeuronSlice;

/// A constant current (pA) into every neuron of a slice, added to the neuron's own `i_e_pa`.
#[derive(Clone, Debug)]
pub struct CurrentInput {
    pub target: NeuronSlice,
    pub amplitude_pa: f64,
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
