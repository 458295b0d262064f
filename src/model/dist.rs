//! Distributions for parameters drawn per element (weights, delays, initial voltages).

use crate::error::{invalid, Result};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// A scalar distribution. `Normal` is clipped by redrawing values outside `[low, high]`, as
/// NEST's `redraw` does; the bounds must keep a reasonable share of the mass (checked by
/// [`Dist::validate`]). `NormalClamped` sets values outside `[low, high]` to the nearest bound,
/// as the Potjans-Diesmann reference code does for delays below dt.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// A constant.
    Const(f64),
    /// Uniform on `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal, redrawn until inside `[low, high]` (NEST's `redraw`).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal, set to the nearest bound outside `[low, high]`.
    NormalClamped {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
}

impl Dist {
    /// An unclipped normal distribution.
    pub fn normal(mean: f64, sd: f64) -> Dist {
        Dist::Normal {
            mean,
            sd,
            low: f64::NEG_INFINITY,
            high: f64::INFINITY,
        }
    }

    /// A uniform distribution on `[low, high)`.
    pub fn uniform(low: f64, high: f64) -> Dist {
        Dist::Uniform { low, high }
    }

    /// A normal distribution restricted to `[low, high]` by redrawing (other kinds are returned
    /// unchanged).
    pub fn clipped(self, low: f64, high: f64) -> Dist {
        match self {
            Dist::Normal { mean, sd, .. } | Dist::NormalClamped { mean, sd, .. } => Dist::Normal {
                mean,
                sd,
                low,
                high,
            },
            other => other,
        }
    }

    /// A normal distribution whose draws outside `[low, high]` are set to the nearest bound
    /// (other kinds are returned unchanged).
    pub fn clamped(self, low: f64, high: f64) -> Dist {
        match self {
            Dist::Normal { mean, sd, .. } | Dist::NormalClamped { mean, sd, .. } => {
                Dist::NormalClamped {
                    mean,
                    sd,
                    low,
                    high,
                }
            }
            other => other,
        }
    }

    /// The smallest and largest values a draw can take.
    pub fn support(&self) -> (f64, f64) {
        match *self {
            Dist::Const(c) => (c, c),
            Dist::Uniform { low, high } => (low, high),
            Dist::NormalClamped { low, high, .. } => (low, high),
            Dist::Normal {
                mean,
                sd,
                low,
                high,
            } => {
                if sd == 0.0 {
                    (mean, mean)
                } else {
                    (low, high)
                }
            }
        }
    }

    /// Checks that every parameter is finite and that clipping bounds leave mass to draw from.
    pub fn validate(&self, what: &str) -> Result<()> {
        match *self {
            Dist::Const(c) if !c.is_finite() => {
                Err(invalid!("{what}: the constant {c} is not a finite number"))
            }
            Dist::Uniform { low, high }
                if !(low.is_finite() && high.is_finite() && low <= high) =>
            {
                Err(invalid!(
                    "{what}: Uniform needs finite low <= high, got [{low}, {high}]"
                ))
            }
            Dist::Normal {
                mean,
                sd,
                low,
                high,
            } => {
                if !(mean.is_finite() && sd.is_finite() && sd >= 0.0) {
                    return Err(invalid!(
                        "{what}: Normal needs a finite mean and a finite sd >= 0, got mean {mean}, sd {sd}"
                    ));
                }
                if low.is_nan() || high.is_nan() || low > high {
                    return Err(invalid!(
                        "{what}: clipping bounds [{low}, {high}] are not an interval"
                    ));
                }
                if sd == 0.0 {
                    if mean < low || mean > high {
                        return Err(invalid!(
                            "{what}: constant mean {mean} lies outside [{low}, {high}]"
                        ));
                    }
                    return Ok(());
                }
                // Redrawing terminates quickly only if the window holds a real share of the mass.
                let mass = normal_cdf((high - mean) / sd) - normal_cdf((low - mean) / sd);
                if mass < 1e-3 {
                    return Err(invalid!(
                        "{what}: the clipping window [{low}, {high}] holds only {mass:.2e} of Normal({mean}, {sd}); widen it or move the mean"
                    ));
                }
                Ok(())
            }
            Dist::NormalClamped {
                mean,
                sd,
                low,
                high,
            } => {
                if !(mean.is_finite() && sd.is_finite() && sd >= 0.0)
                    || low.is_nan()
                    || high.is_nan()
                    || low > high
                {
                    return Err(invalid!(
                        "{what}: clamped Normal needs a finite mean, sd >= 0 and low <= high, got mean {mean}, sd {sd}, [{low}, {high}]"
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// One draw. `validate` must have passed.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> f64 {
        match *self {
            Dist::Const(c) => c,
            Dist::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
            Dist::Normal {
                mean,
                sd,
                low,
                high,
            } => {
                if sd == 0.0 {
                    return mean;
                }
                loop {
                    let z: f64 = StandardNormal.sample(rng);
                    let x = mean + sd * z;
                    if x >= low && x <= high {
                        return x;
                    }
                }
            }
            Dist::NormalClamped {
                mean,
                sd,
                low,
                high,
            } => {
                let z: f64 = StandardNormal.sample(rng);
                (mean + sd * z).clamp(low, high)
            }
        }
    }
}

impl From<f64> for Dist {
    fn from(c: f64) -> Dist {
        Dist::Const(c)
    }
}

/// Standard normal CDF via the complementary error function (Abramowitz-Stegun 7.1.26 is not
/// precise enough in the tails, so use the continued-fraction-free W. J. Cody style series).
fn normal_cdf(z: f64) -> f64 {
    if z == f64::INFINITY {
        return 1.0;
    }
    if z == f64::NEG_INFINITY {
        return 0.0;
    }
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Complementary error function, Numerical Recipes' Chebyshev fit (relative error < 1.2e-7),
/// ample for deciding whether a clipping window is too narrow.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_normal_stays_in_its_window() {
        let d = Dist::normal(1.0, 2.0).clipped(0.5, 3.0);
        d.validate("x").unwrap();
        let mut rng = crate::rng::stream(1, 2, 3);
        for _ in 0..1000 {
            let x = d.sample(&mut rng);
            assert!((0.5..=3.0).contains(&x), "{x}");
        }
    }

    #[test]
    fn a_window_without_mass_is_refused() {
        let d = Dist::normal(0.0, 1.0).clipped(10.0, 11.0);
        assert!(d.validate("weight").is_err());
        assert!(Dist::Const(f64::NAN).validate("weight").is_err());
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.0) - 0.841_344_746).abs() < 1e-6);
        assert!((normal_cdf(-2.0) - 0.022_750_132).abs() < 1e-6);
    }
}
