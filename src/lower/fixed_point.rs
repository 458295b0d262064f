//! Fixed-point synaptic accumulation.
//!
//! Synaptic input is summed with i32 atomics, which is associative, so a run is bit-for-bit
//! repeatable on any GPU and the CPU twin reproduces it exactly. Each (target population,
//! channel) has a scale 2^e chosen so that the largest input any of its neurons can receive in one
//! step (all of its synapses arriving at once, plus the largest Poisson count the input table can
//! return) is at most 2^30 units: no sum can saturate (i32 wraps at 2^31). It is also small enough that the largest single
//! weight fits the weight field of a synapse record (at least 20 bits, see `lower::packing`). The quantisation step is 2^-e pA; with fan-in
//! K of weight w it is about 2 K w / 2^30, i.e. below 1e-4 of a typical weight up to K ~ 50,000.
//! Scales are powers of two so converting back (`sum * 2^-e`) is exact in f32.

/// The scale of one (population, channel).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChannelScale {
    /// Fixed-point units per pA: 2^exponent.
    pub exponent: i32,
    /// 2^exponent, kept to quantise 3e8 weights without an exp2 each.
    factor: f64,
    /// Worst-case |input| in one step, pA.
    pub bound_pa: f64,
    /// Mean |weight| of the synapses and Poisson inputs into this channel, pA (0 if none).
    pub typical_pa: f64,
}

impl ChannelScale {
    /// Picks the exponent for a worst-case per-step input of `bound_pa`, such that the largest
    /// single weight `largest_pa` also fits a synapse record (`max_q` units).
    pub fn for_bound(bound_pa: f64, typical_pa: f64, largest_pa: f64, max_q: i64) -> ChannelScale {
        let mut exponent = 0.0f64;
        if bound_pa > 0.0 {
            exponent = ((1u64 << 30) as f64 / bound_pa).log2().floor();
        }
        if largest_pa > 0.0 {
            exponent = exponent.min((max_q as f64 / largest_pa).log2().floor());
        }
        let exponent = exponent.clamp(-100.0, 100.0) as i32;
        ChannelScale {
            exponent,
            factor: (exponent as f64).exp2(),
            bound_pa,
            typical_pa,
        }
    }

    pub fn scale(&self) -> f64 {
        self.factor
    }

    /// The quantisation step, pA.
    pub fn step_pa(&self) -> f64 {
        (-self.exponent as f64).exp2()
    }

    /// The quantisation step relative to a typical weight (0 when the channel is unused).
    pub fn relative_step(&self) -> f64 {
        if self.typical_pa > 0.0 {
            self.step_pa() / self.typical_pa
        } else {
            0.0
        }
    }

    /// A weight in fixed-point units, rounded to nearest.
    pub fn quantise(&self, w_pa: f64) -> i32 {
        round_half_away(w_pa * self.scale()) as i32
    }

    pub fn inverse_f32(&self) -> f32 {
        (-self.exponent as f32).exp2()
    }
}

/// Rounds half away from zero, like `f64::round` (up to one ulp at exact halves), without the
/// library call `round` compiles to on baseline x86-64: it is on the path of every synapse.
#[inline]
pub fn round_half_away(x: f64) -> i64 {
    if x >= 0.0 {
        (x + 0.5) as i64
    } else {
        -((0.5 - x) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_fits_in_i32_and_the_step_is_tiny() {
        let s = ChannelScale::for_bound(80.0 * 1.62, 1.62, 1.62, (1 << 30) - 1);
        assert!(s.bound_pa * s.scale() <= (1u64 << 30) as f64);
        assert!(s.bound_pa * s.scale() > (1u64 << 29) as f64);
        assert!(s.relative_step() < 1e-6, "{}", s.relative_step());
        assert_eq!(s.inverse_f32() as f64, s.step_pa());
    }

    #[test]
    fn rounding_matches_f64_round() {
        for x in [
            0.0,
            0.4,
            0.5,
            0.6,
            1.5,
            2.5,
            -0.4,
            -0.5,
            -0.6,
            -2.5,
            1e9 + 0.3,
            -7.7,
        ] {
            assert_eq!(round_half_away(x), x.round() as i64, "{x}");
        }
    }

    #[test]
    fn narrow_weight_fields_lower_the_scale() {
        let s = ChannelScale::for_bound(1.0, 1.0, 1.0, (1 << 19) - 1);
        assert!(s.quantise(1.0) < 1 << 19);
        assert!(s.relative_step() < 4e-6);
    }
}
