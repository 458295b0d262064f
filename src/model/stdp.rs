//! Pair-based STDP on sparse spiking projections, as in Brian2's and GeNN's STDP examples
//! (Song, Miller and Abbott 2000): additive, with weight bounds, each synapse with its own
//! pre- and post-synaptic traces updated when events reach it.

use crate::error::{invalid, Result};

/// The rule. Each synapse keeps a pre trace `apre` and a post trace `apost` that decay with
/// `tau_pre_ms` and `tau_post_ms`. When a pre spike arrives at the synapse (after the
/// synapse's delay) its weight is delivered first; then `apre += a_plus_pa` and
/// `w = clamp(w + apost, w_min_pa, w_max_pa)`. When the post neuron fires,
/// `apost += a_minus_pa` and `w = clamp(w + apre, w_min_pa, w_max_pa)`. An arrival and a post
/// spike at the same step are applied in that order, as Brian2 runs its `pre` pathway before
/// its `post` pathway.
#[derive(Clone, Debug, PartialEq)]
pub struct Stdp {
    pub tau_pre_ms: f64,
    pub tau_post_ms: f64,
    /// Added to the pre trace per arriving spike: potentiation when the post neuron fires
    /// after it (pA, usually > 0).
    pub a_plus_pa: f64,
    /// Added to the post trace per post spike: depression when a pre spike arrives after it
    /// (pA, usually < 0).
    pub a_minus_pa: f64,
    pub w_min_pa: f64,
    pub w_max_pa: f64,
}

impl Stdp {
    /// Brian2's example for a maximum weight: 20 ms traces, `a_plus = 0.01 w_max`,
    /// `a_minus = -1.05 a_plus` (depression slightly stronger, which makes the weights
    /// bimodal), weights in `[0, w_max]`.
    pub fn song_abbott(w_max_pa: f64) -> Stdp {
        let a_plus_pa = 0.01 * w_max_pa;
        Stdp {
            tau_pre_ms: 20.0,
            tau_post_ms: 20.0,
            a_plus_pa,
            a_minus_pa: -1.05 * a_plus_pa,
            w_min_pa: 0.0,
            w_max_pa,
        }
    }

    /// Refuses parameters the kernels cannot run: each named with its value and the range.
    pub(crate) fn check(&self) -> Result<()> {
        for (name, v) in [
            ("tau_pre_ms", self.tau_pre_ms),
            ("tau_post_ms", self.tau_post_ms),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid!(
                    "STDP {name} is {v}; it must be a finite time > 0 ms"
                ));
            }
        }
        for (name, v) in [
            ("a_plus_pa", self.a_plus_pa),
            ("a_minus_pa", self.a_minus_pa),
            ("w_min_pa", self.w_min_pa),
            ("w_max_pa", self.w_max_pa),
        ] {
            if !crate::model::nef::fits_f32(v) {
                return Err(invalid!("STDP {name} is {v}; it must be finite in float32"));
            }
        }
        if self.w_min_pa >= self.w_max_pa {
            return Err(invalid!(
                "STDP weight bounds [{}, {}] pA: they need w_min_pa < w_max_pa (an inhibitory \
                 projection's bounds are negative, such as [-50, 0])",
                self.w_min_pa,
                self.w_max_pa
            ));
        }
        Ok(())
    }
}
