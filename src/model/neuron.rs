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
    /// The parameters that may vary per neuron (`Network::parameter_each`), named as the fields.
    pub const PARAMETERS: [&'static str; 9] = [
        "tau_m_ms",
        "c_m_pf",
        "e_l_mv",
        "v_reset_mv",
        "v_th_mv",
        "t_ref_ms",
        "tau_syn_ex_ms",
        "tau_syn_in_ms",
        "i_e_pa",
    ];

    /// The value of parameter `name` (one of [`LifCurrent::PARAMETERS`]).
    pub fn parameter(&self, name: &str) -> Option<f64> {
        Some(*self.field(name)?)
    }

    /// This neuron with parameter `name` set to `value`; `None` for an unknown name.
    pub fn with_parameter(&self, name: &str, value: f64) -> Option<LifCurrent> {
        let mut n = self.clone();
        *n.field_mut(name)? = value;
        Some(n)
    }

    fn field(&self, name: &str) -> Option<&f64> {
        Some(match name {
            "tau_m_ms" => &self.tau_m_ms,
            "c_m_pf" => &self.c_m_pf,
            "e_l_mv" => &self.e_l_mv,
            "v_reset_mv" => &self.v_reset_mv,
            "v_th_mv" => &self.v_th_mv,
            "t_ref_ms" => &self.t_ref_ms,
            "tau_syn_ex_ms" => &self.tau_syn_ex_ms,
            "tau_syn_in_ms" => &self.tau_syn_in_ms,
            "i_e_pa" => &self.i_e_pa,
            _ => return None,
        })
    }

    pub(crate) fn field_mut(&mut self, name: &str) -> Option<&mut f64> {
        Some(match name {
            "tau_m_ms" => &mut self.tau_m_ms,
            "c_m_pf" => &mut self.c_m_pf,
            "e_l_mv" => &mut self.e_l_mv,
            "v_reset_mv" => &mut self.v_reset_mv,
            "v_th_mv" => &mut self.v_th_mv,
            "t_ref_ms" => &mut self.t_ref_ms,
            "tau_syn_ex_ms" => &mut self.tau_syn_ex_ms,
            "tau_syn_in_ms" => &mut self.tau_syn_in_ms,
            "i_e_pa" => &mut self.i_e_pa,
            _ => return None,
        })
    }

    /// Refuses a value parameter `name` cannot take, whatever the others: the reason.
    pub(crate) fn check_value(name: &str, x: f64) -> std::result::Result<(), String> {
        match name {
            "tau_m_ms" | "c_m_pf" | "tau_syn_ex_ms" | "tau_syn_in_ms" => {
                if !(x.is_finite() && x > 0.0) {
                    return Err(format!("{name} must be a positive number, got {x}"));
                }
            }
            "t_ref_ms" => {
                if !(x.is_finite() && x >= 0.0) {
                    return Err(format!("t_ref_ms must be >= 0, got {x}"));
                }
            }
            _ => {
                if !x.is_finite() {
                    return Err(format!("{name} must be finite, got {x}"));
                }
            }
        }
        Ok(())
    }

    pub fn validate(&self, pop: &str) -> Result<()> {
        for name in LifCurrent::PARAMETERS {
            let x = self.parameter(name).unwrap_or_default();
            LifCurrent::check_value(name, x)
                .map_err(|why| invalid!("population `{pop}`: {why}"))?;
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
