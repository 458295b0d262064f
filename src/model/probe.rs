//! Probes: what to record during a run.

use super::network::NeuronSlice;

/// A state variable of a `LifCurrent` neuron.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateVar {
    /// Membrane potential, mV.
    V,
    /// Excitatory synaptic current, pA.
    ISynEx,
    /// Inhibitory synaptic current, pA.
    ISynIn,
}

impl StateVar {
    /// Column of this variable in a recorded sample.
    pub(crate) fn column(self) -> usize {
        match self {
            StateVar::V => 0,
            StateVar::ISynEx => 1,
            StateVar::ISynIn => 2,
        }
    }
}

/// Handle to a spike probe. Read with `Simulator::spikes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpikeProbe {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

/// Handle to a state probe. Read with `Simulator::state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateProbe {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

/// What a probe records, as stored in the network.
#[derive(Clone, Debug)]
pub enum ProbeTarget {
    Spikes(NeuronSlice),
    /// State of every neuron of the slice, sampled every `sample_every_ms` rounded to whole
    /// steps of the network's dt when it is built (at least one step), at steps that are
    /// multiples of that interval (values at the start of the step, as Brian2's `StateMonitor`).
    State {
        target: NeuronSlice,
        sample_every_ms: f64,
    },
}
