//! The Vogels-Abbott current-based benchmark (CUBA), as in Brian2's example.
//!
//! N neurons, 80% excitatory, connection probability 80/N, tau_m 20 ms, tau_ex 5 ms, tau_in
//! 10 ms, V_th -50 mV, V_reset -60 mV, E_L -49 mV, t_ref 5 ms, excitatory weight +1.62 mV and
//! inhibitory -9 mV added to the synaptic variable, v0 uniform in [V_reset, V_th], dt 0.1 ms,
//! every delay one step. Brian2 writes the synaptic variables in volts; here they are currents
//! with c_m numerically equal to tau_m, so 1 pA of current is 1 mV of Brian2's `ge`.

use crate::error::Result;
use crate::model::{Connectivity, Dist, LifCurrent, Network, PopulationId, SpikeProbe};

/// The built network with handles to its parts.
pub struct Cuba {
    pub network: Network,
    pub excitatory: PopulationId,
    pub inhibitory: PopulationId,
    /// Spikes of all neurons, excitatory first.
    pub exc_spikes: SpikeProbe,
    pub inh_spikes: SpikeProbe,
}

/// The neuron of the benchmark.
pub fn neuron() -> LifCurrent {
    LifCurrent {
        tau_m_ms: 20.0,
        c_m_pf: 20.0,
        e_l_mv: -49.0,
        v_reset_mv: -60.0,
        v_th_mv: -50.0,
        t_ref_ms: 5.0,
        tau_syn_ex_ms: 5.0,
        tau_syn_in_ms: 10.0,
        i_e_pa: 0.0,
        v_init_mv: Dist::uniform(-60.0, -50.0),
    }
}

/// Builds CUBA with `n` neurons (at least 5 so both populations exist).
pub fn build(n: u32, seed: u64) -> Result<Cuba> {
    let mut net = Network::new().with_seed(seed).with_dt_ms(0.1);
    let n_exc = (n as u64 * 4 / 5) as u32;
    let excitatory = net.population("excitatory", n_exc, neuron())?;
    let inhibitory = net.population("inhibitory", n - n_exc, neuron())?;
    let p = (80.0 / n as f64).min(1.0);
    for target in [excitatory, inhibitory] {
        net.connect(
            excitatory,
            target,
            Connectivity::FixedProbability(p),
            1.62,
            0.1,
        )?;
        net.connect(
            inhibitory,
            target,
            Connectivity::FixedProbability(p),
            -9.0,
            0.1,
        )?;
    }
    let exc_spikes = net.probe_spikes(excitatory)?;
    let inh_spikes = net.probe_spikes(inhibitory)?;
    Ok(Cuba {
        network: net,
        excitatory,
        inhibitory,
        exc_spikes,
        inh_spikes,
    })
}
