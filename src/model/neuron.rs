//! Neuron kinds.

use super::dist::Dist;
use super::neuron_model::NeuronModel;
use crate::error::{invalid, Result};

/// Leaky integrate-and-fire neuron with exponential current synapses: NEST's `iaf_psc_exp`,
/// integrated exactly as Brian2's `method='exact'` does.
///
/// ```text
/// dv/dt     = -(v - e_l)/tau_m + (i_ex + i_in + i_e)/c_m      (held at v_reset while refractory)
/// di_ex/dt  = -i_ex/tau_syn_ex        di_in/dt = -i_in/tau_syn_in
/// ```
/// Units: ms, pF, mV, pA (1 pA * 1 ms / 1 pF = 1 mV). A spike is emitted when `v > v_th`; `v` is
/// then held at `v_reset` for `round(t_ref/dt)` steps (the spike step included), as Brian2's
/// `refractory`. Synaptic weights are in pA and added to `i_ex` (w >= 0) or `i_in` (w < 0).
///
/// A Brian2 model written with conductances in volts (`dv/dt = (ge+gi-(v-El))/taum`, `ge += w`)
/// is this neuron with `c_m_pf` numerically equal to `tau_m_ms`: then a weight of `w` pA adds `w`
/// mV to `ge`.
#[derive(Clone, Debug, PartialEq)]
pub struct LifCurrent {
    pub tau_m_ms: f64,
    pub c_m_pf: f64,
    pub e_l_mv: f64,
    pub v_reset_mv: f64,
    pub v_th_mv: f64,
    pub t_ref_ms: f64,
    pub tau_syn_ex_ms: f64,
    pub tau_syn_in_ms: f64,
    pub i_e_pa: f64,
    /// Initial membrane potential, drawn per neuron.
    pub v_init_mv: Dist,
}

impl Default for LifCurrent {
    /// NEST's defaults for `iaf_psc_exp`.
    fn default() -> Self {
        LifCurrent {
            tau_m_ms: 10.0,
            c_m_pf: 250.0,
            e_l_mv: -70.0,
            v_reset_mv: -70.0,
            v_th_mv: -55.0,
            t_ref_ms: 2.0,
            tau_syn_ex_ms: 2.0,
            tau_syn_in_ms: 2.0,
            i_e_pa: 0.0,
            v_init_mv: Dist::Const(-70.0),
        }
    }
}

impl LifCurrent {
    pub fn validate(&self, pop: &str) -> Result<()> {
        let positive = [
            ("tau_m_ms", self.tau_m_ms),
            ("c_m_pf", self.c_m_pf),
            ("tau_syn_ex_ms", self.tau_syn_ex_ms),
            ("tau_syn_in_ms", self.tau_syn_in_ms),
        ];
        for (name, x) in positive {
            if !(x.is_finite() && x > 0.0) {
                return Err(invalid!(
                    "population `{pop}`: {name} must be a positive number, got {x}"
                ));
            }
        }
        let finite = [
            ("e_l_mv", self.e_l_mv),
            ("v_reset_mv", self.v_reset_mv),
            ("v_th_mv", self.v_th_mv),
            ("i_e_pa", self.i_e_pa),
        ];
        for (name, x) in finite {
            if !x.is_finite() {
                return Err(invalid!(
                    "population `{pop}`: {name} must be finite, got {x}"
                ));
            }
        }
        if !(self.t_ref_ms.is_finite() && self.t_ref_ms >= 0.0) {
            return Err(invalid!(
                "population `{pop}`: t_ref_ms must be >= 0, got {}",
                self.t_ref_ms
            ));
        }
        if self.v_reset_mv >= self.v_th_mv {
            return Err(invalid!(
                "population `{pop}`: v_reset_mv ({}) must lie below v_th_mv ({}), or every neuron fires every step",
                self.v_reset_mv,
                self.v_th_mv
            ));
        }
        self.v_init_mv
            .validate(&format!("population `{pop}` v_init_mv"))
    }
}

/// What a population is made of.
#[derive(Clone, Debug, PartialEq)]
pub enum NeuronKind {
    /// Integrating neurons.
    Lif(LifCurrent),
    /// Spike generators with explicit spike times (ms), one list per neuron (NEST
    /// `spike_generator`, Brian2 `SpikeGeneratorGroup`). Times are rounded to whole steps.
    SpikeSource(Vec<Vec<f64>>),
    /// A user-defined model of WGSL snippets (see `model::neuron_model`).
    Custom(Box<NeuronModel>),
}
