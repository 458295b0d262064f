//! Built-in synapse models, written with the same mechanism a user has (WGSL snippets) plus a
//! Rust twin each, so they also run on the CPU backend. Every product and sum of the snippets
//! goes through `rn`, and transcendentals through the `soft_*` functions, so GPU and CPU agree
//! bit for bit.

use super::{Snippet, StateInit, SynapseModel};
use crate::error::{invalid, Result};
use crate::softmath::{div, exp, ln};

/// Pair-based STDP with pre and post traces (Song, Miller & Abbott 2000, as in Brian2's STDP
/// example): a pre spike adds `a_minus * apost` to the weight (depression: `a_minus < 0`), a
/// post spike adds `a_plus * apre`; the weight is clipped to `[0, w_max]`. Traces jump by 1 per
/// spike and decay with `tau_pre` and `tau_post`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StdpParams {
    pub tau_pre: f64,
    pub tau_post: f64,
    pub a_plus: f64,
    pub a_minus: f64,
    pub w_max: f64,
}

impl Default for StdpParams {
    /// Brian2's example, with `w_max = 1`: `a_plus = 0.01 w_max`, `a_minus = -1.05 a_plus`
    /// (depression slightly stronger, which makes the weights bimodal), 20 ms traces.
    fn default() -> Self {
        StdpParams {
            tau_pre: 0.02,
            tau_post: 0.02,
            a_plus: 0.01,
            a_minus: -0.0105,
            w_max: 1.0,
        }
    }
}

/// The STDP model of `p`.
pub fn stdp(p: StdpParams) -> SynapseModel {
    SynapseModel::new("stdp")
        .param("a_plus", p.a_plus)
        .param("a_minus", p.a_minus)
        .param("w_max", p.w_max)
        .pre_trace("apre", p.tau_pre)
        .post_trace("apost", p.tau_post)
        .on_pre("w = clamp(rn(w + rn(a_minus * apost)), 0.0, w_max);")
        .on_post("w = clamp(rn(w + rn(a_plus * apre)), 0.0, w_max);")
        .cpu_twin(|which, x, v| {
            let (a_plus, a_minus, w_max) = (x.params[0], x.params[1], x.params[2]);
            match which {
                Snippet::OnPre => v[0] = (v[0] + a_minus * x.post_traces[0]).clamp(0.0, w_max),
                Snippet::OnPost => v[0] = (v[0] + a_plus * x.pre_traces[0]).clamp(0.0, w_max),
                Snippet::PerStep => {}
            }
        })
}

/// A memristor pair per synapse (seed 003; after Tiotto et al.'s mPES): an excitatory and an
/// inhibitory device with resistances `r_pos` and `r_neg`. A device's resistance after `n`
/// pulses is `r_min + r_max n^exponent` (`exponent < 0`: each pulse lowers it by less). When
/// the pre neuron spikes and the error is beyond `err_threshold`, one device gets a pulse: the
/// inhibitory one when the error is positive (the output is too high), the excitatory one
/// otherwise. The weight is the difference of the conductances normalised to `1 / r_min`,
/// times `gain`: `w = gain r_min (1/r_pos - 1/r_neg)`, set every step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemristorParams {
    pub r_min: f64,
    pub r_max: f64,
    pub exponent: f64,
    pub gain: f64,
    pub err_threshold: f64,
    /// Initial resistances of both devices, drawn uniformly per synapse.
    pub r_init: (f64, f64),
}

impl Default for MemristorParams {
    /// A device fitted by Tiotto et al. (r_min 100 ohm, r_max 2.5e8 ohm, exponent -0.146),
    /// gain 1e4, devices starting between 1e8 and 1.1e8 ohm.
    fn default() -> Self {
        MemristorParams {
            r_min: 1e2,
            r_max: 2.5e8,
            exponent: -0.146,
            gain: 1e4,
            err_threshold: 1e-5,
            r_init: (1e8, 1.1e8),
        }
    }
}

/// The memristor-pair model of `p`, or an error naming the parameter that cannot work.
pub fn memristor(p: MemristorParams) -> Result<SynapseModel> {
    let (low, high) = p.r_init;
    if !(p.r_min > 0.0 && p.r_max > 0.0 && low > p.r_min && low <= high) {
        return Err(invalid!(
            "memristor: need r_min > 0, r_max > 0 and r_min < r_init.0 <= r_init.1 (got r_min \
             {}, r_max {}, r_init {:?})",
            p.r_min,
            p.r_max,
            p.r_init
        ));
    }
    if !(p.exponent < 0.0 && p.exponent.is_finite()) {
        return Err(invalid!(
            "memristor: the exponent {} must be negative (each pulse lowers the resistance)",
            p.exponent
        ));
    }
    Ok(SynapseModel::new("memristor")
        .state("r_pos", StateInit::Uniform { low, high })
        .state("r_neg", StateInit::Uniform { low, high })
        .param("r_min", p.r_min)
        .param("r_max", p.r_max)
        .param("exponent", p.exponent)
        .param("gain", p.gain)
        .param("err_threshold", p.err_threshold)
        .on_pre(
            "if (abs(error) > err_threshold) {
    let up = error > 0.0;
    let r = select(r_pos, r_neg, up);
    // Pulses so far, from the resistance: n = ((r - r_min) / r_max)^(1 / exponent).
    let n = soft_exp(soft_div(soft_ln(soft_div(rn(r - r_min), r_max)), exponent));
    let next = rn(r_min + rn(r_max * soft_exp(rn(exponent * soft_ln(rn(n + 1.0))))));
    if (up) {
        r_neg = next;
    } else {
        r_pos = next;
    }
}",
        )
        .per_step("w = rn(gain * rn(soft_div(r_min, r_pos) - soft_div(r_min, r_neg)));")
        .cpu_twin(|which, x, v| {
            let [r_min, r_max, exponent, gain, threshold] = [
                x.params[0],
                x.params[1],
                x.params[2],
                x.params[3],
                x.params[4],
            ];
            match which {
                Snippet::OnPre => {
                    if x.error.abs() > threshold {
                        let up = x.error > 0.0;
                        let r = if up { v[2] } else { v[1] };
                        let n = exp(div(ln(div(r - r_min, r_max)), exponent));
                        let next = r_min + r_max * exp(exponent * ln(n + 1.0));
                        v[if up { 2 } else { 1 }] = next;
                    }
                }
                Snippet::OnPost => {}
                Snippet::PerStep => {
                    v[0] = gain * (div(r_min, v[1]) - div(r_min, v[2]));
                }
            }
        }))
}
