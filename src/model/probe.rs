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
///
/// # Example
///
/// A probe on a slice numbers its neurons from the slice's start:
///
/// ```
/// use lamina::prelude::*;
///
/// let mut net = Network::new();
/// let pop = net.population("pop", 10, LifCurrent::default())?;
/// net.current(pop.slice(5..10), 500.0)?; // drive neurons 5 to 9 only (pA)
/// let driven = net.probe_spikes(pop.slice(5..10))?;
///
/// let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
/// sim.run(0.1)?;
/// let t = sim.spikes(&driven)?;
/// assert!(!t.steps.is_empty());
/// assert!(t.neurons.iter().all(|&n| n < 5)); // 0 is neuron 5 of `pop`
/// assert_eq!(t.times_s[0], t.steps[0] as f64 * 1e-4); // step times dt
/// # Ok::<(), lamina::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpikeProbe {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

/// Handle to a state probe. Read with `Simulator::state` and `Simulator::state_times`.
///
/// # Example
///
/// A current below threshold charges the membranes towards a steady potential:
///
/// ```
/// use lamina::prelude::*;
///
/// let mut net = Network::new();
/// let pop = net.population("pop", 3, LifCurrent::default())?; // rest at -70 mV
/// net.current(pop, 200.0)?; // pA: settles at -70 + 200 pA x 10 ms / 250 pF = -62 mV
/// let probe = net.probe_state(pop, 0.5)?; // v, i_ex, i_in every 0.5 ms
///
/// let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
/// sim.run(0.1)?;
/// let v = sim.state(&probe, StateVar::V)?; // samples x neurons, mV
/// assert_eq!(v.dim(), (200, 3));
/// assert_eq!(sim.state_times(&probe)?[1], 0.0005); // seconds
/// assert!((v[[199, 0]] + 62.0).abs() < 0.1, "v ends at {} mV", v[[199, 0]]);
/// # Ok::<(), lamina::Error>(())
/// ```
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
