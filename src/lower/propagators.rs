//! Exact-integration propagators of `LifCurrent`, computed on the host in f64 and rounded once
//! to f32, so both backends integrate with the very same coefficients.

use crate::model::LifCurrent;

/// Coefficients of one step of `LifCurrent`:
/// `v' = p22 * v + p21_ex * i_ex + p21_in * i_in + v_drive` (with `v_drive` per neuron, see
/// [`Propagators::v_drive`]), then `i' = p11 * i + input`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Propagators {
    pub p22: f64,
    pub p21_ex: f64,
    pub p21_in: f64,
    pub p11_ex: f64,
    pub p11_in: f64,
    /// Gain of a constant current on v over one step: tau_m/C * (1 - p22).
    pub p20: f64,
}

impl Propagators {
    pub fn new(n: &LifCurrent, dt_ms: f64) -> Propagators {
        let p22 = (-dt_ms / n.tau_m_ms).exp();
        Propagators {
            p22,
            p21_ex: p21(n.tau_m_ms, n.tau_syn_ex_ms, n.c_m_pf, dt_ms),
            p21_in: p21(n.tau_m_ms, n.tau_syn_in_ms, n.c_m_pf, dt_ms),
            p11_ex: (-dt_ms / n.tau_syn_ex_ms).exp(),
            p11_in: (-dt_ms / n.tau_syn_in_ms).exp(),
            p20: n.tau_m_ms / n.c_m_pf * -(-dt_ms / n.tau_m_ms).exp_m1(),
        }
    }

    /// The constant part of one step for a neuron with total constant current `i_pa`:
    /// e_l * (1 - p22) + p20 * i.
    pub fn v_drive(&self, n: &LifCurrent, i_pa: f64) -> f64 {
        n.e_l_mv * (1.0 - self.p22) + self.p20 * i_pa
    }
}

/// Effect on v after one step of a synaptic current of 1 pA decaying with tau_s:
/// tau_m tau_s / (C (tau_s - tau_m)) (e^{-h/tau_s} - e^{-h/tau_m}), and its limit h/C e^{-h/tau_m}
/// when the two time constants (nearly) coincide, where the formula cancels catastrophically.
fn p21(tau_m: f64, tau_s: f64, c: f64, h: f64) -> f64 {
    let d = tau_s - tau_m;
    if d.abs() < 1e-9 * tau_m {
        return h / c * (-h / tau_m).exp();
    }
    // e^{-h/ts} - e^{-h/tm} = e^{-h/tm} (e^{h (1/tm - 1/ts)} - 1), written with exp_m1 to keep
    // precision when the time constants are close.
    let diff = (-h / tau_m).exp() * (h * (1.0 / tau_m - 1.0 / tau_s)).exp_m1();
    tau_m * tau_s / (c * d) * diff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p21_matches_a_fine_euler_integration() {
        let n = LifCurrent {
            tau_m_ms: 20.0,
            c_m_pf: 250.0,
            tau_syn_ex_ms: 5.0,
            ..Default::default()
        };
        let p = Propagators::new(&n, 0.1);
        // Integrate v' = -v/tau_m + i/C, i' = -i/tau_s from v=0, i=1 with a tiny step.
        let (mut v, mut i, h) = (0.0f64, 1.0f64, 1e-6);
        for _ in 0..100_000 {
            v += h * (-v / 20.0 + i / 250.0);
            i += h * (-i / 5.0);
        }
        // Forward Euler with step h has an O(h) relative error (~1e-7 here).
        assert!(
            (v - p.p21_ex).abs() < 1e-6 * p.p21_ex,
            "{v} vs {}",
            p.p21_ex
        );
    }

    #[test]
    fn equal_time_constants_use_the_limit() {
        let a = p21(10.0, 10.0, 250.0, 0.1);
        let b = p21(10.0, 10.0 + 1e-6, 250.0, 0.1);
        assert!((a - b).abs() / a < 1e-6, "{a} {b}");
    }
}
