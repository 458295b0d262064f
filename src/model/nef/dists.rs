//! Distributions of NEF parameters, as Nengo 4 defines them (`nengo/dists.py`): scalar draws for
//! max rates and intercepts, and vector draws on or in the unit hypersphere for encoders and
//! evaluation points.
//!
//! The algorithms are Nengo's; the random bits are not (draws come from the caller's `rand`
//! generator, not NumPy's), so samples differ from Nengo's one by one but have the same
//! distribution.

use crate::error::{invalid, Error, Result};
use ndarray::{s, Array2};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use std::f64::consts::PI;

/// A distribution of `n x d` samples.
#[derive(Clone, Debug, PartialEq)]
pub enum NefDist {
    /// Uniform on `[low, high)`, each entry independent.
    Uniform { low: f64, high: f64 },
    /// Normal with mean `mean` and standard deviation `std > 0`, each entry independent.
    Gaussian { mean: f64, std: f64 },
    /// Rows drawn uniformly (with replacement) from the given options, each of length `d`.
    Choice(Vec<Vec<f64>>),
    /// Exactly these samples; the array must be `n x d`.
    Array(Array2<f64>),
    /// Uniform on the surface (`surface`) or in the volume of the unit hypersphere, with vector
    /// lengths in `[min_magnitude, 1]` for the volume (Nengo's `UniformHypersphere`).
    UniformHypersphere { surface: bool, min_magnitude: f64 },
    /// Quasi-random points on or in the unit hypersphere, more evenly spread than independent
    /// draws (Nengo's `ScatteredHypersphere`, Nengo 4's default for encoders and eval points).
    ScatteredHypersphere { surface: bool, min_magnitude: f64 },
}

/// Nengo's heuristic for the number of evaluation points of an ensemble:
/// `max(clip(500 * dims, 750, 2500), 2 * n_neurons)`.
pub fn default_n_eval_points(n_neurons: usize, dims: usize) -> usize {
    dims.saturating_mul(500)
        .clamp(750, 2500)
        .max(n_neurons.saturating_mul(2))
}

impl NefDist {
    /// Uniform on `[low, high)`.
    pub fn uniform(low: f64, high: f64) -> NefDist {
        NefDist::Uniform { low, high }
    }

    /// Normal with the given mean and standard deviation.
    pub fn gaussian(mean: f64, std: f64) -> NefDist {
        NefDist::Gaussian { mean, std }
    }

    /// Nengo 4's default encoders: `ScatteredHypersphere(surface=True)`.
    pub fn default_encoders() -> NefDist {
        NefDist::ScatteredHypersphere {
            surface: true,
            min_magnitude: 0.0,
        }
    }

    /// Nengo 4's default evaluation points: `ScatteredHypersphere(surface=False)`.
    pub fn default_eval_points() -> NefDist {
        NefDist::ScatteredHypersphere {
            surface: false,
            min_magnitude: 0.0,
        }
    }

    /// Nengo's default max rates: `Uniform(200, 400)` Hz.
    pub fn default_max_rates() -> NefDist {
        NefDist::uniform(200.0, 400.0)
    }

    /// Nengo's default intercepts: `Uniform(-1, 0.9)`.
    pub fn default_intercepts() -> NefDist {
        NefDist::uniform(-1.0, 0.9)
    }

    /// Checks the parameters (finite bounds, `std > 0`, non-empty equal-length options,
    /// `0 <= min_magnitude < 1`).
    pub fn validate(&self) -> Result<()> {
        match self {
            NefDist::Uniform { low, high } => {
                if !(low.is_finite() && high.is_finite()) {
                    return Err(invalid!(
                        "uniform distribution: bounds must be finite, got [{low}, {high})"
                    ));
                }
            }
            NefDist::Gaussian { mean, std } => {
                if !(mean.is_finite() && std.is_finite() && *std > 0.0) {
                    return Err(invalid!(
                        "gaussian distribution: the mean must be finite and the standard \
                         deviation positive and finite, got mean {mean}, std {std}"
                    ));
                }
            }
            NefDist::Choice(options) => {
                let Some(first) = options.first() else {
                    return Err(invalid!("choice distribution: give at least one option"));
                };
                for (i, o) in options.iter().enumerate() {
                    if o.len() != first.len() {
                        return Err(invalid!(
                            "choice distribution: option {i} has {} values but option 0 has {}; \
                             all options must have the same length",
                            o.len(),
                            first.len()
                        ));
                    }
                    if let Some(v) = o.iter().find(|v| !v.is_finite()) {
                        return Err(invalid!(
                            "choice distribution: option {i} holds the non-finite value {v}"
                        ));
                    }
                }
            }
            NefDist::Array(a) => {
                if let Some(((r, c), v)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
                    return Err(invalid!(
                        "sample array: entry ({r}, {c}) is the non-finite value {v}"
                    ));
                }
            }
            NefDist::UniformHypersphere { min_magnitude, .. }
            | NefDist::ScatteredHypersphere { min_magnitude, .. } => {
                if !(0.0..1.0).contains(min_magnitude) {
                    return Err(invalid!(
                        "hypersphere distribution: min_magnitude must be in [0, 1), got \
                         {min_magnitude}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Draws `n` samples of dimension `d` (an `n x d` array). Scalar distributions fill every
    /// entry independently. `min_magnitude` is ignored on a surface, as in Nengo.
    pub fn sample(&self, n: usize, d: usize, rng: &mut impl Rng) -> Result<Array2<f64>> {
        self.validate()?;
        match self {
            NefDist::Uniform { low, high } => Ok(Array2::from_shape_simple_fn((n, d), || {
                low + (high - low) * rng.random::<f64>()
            })),
            NefDist::Gaussian { mean, std } => Ok(Array2::from_shape_simple_fn((n, d), || {
                let z: f64 = StandardNormal.sample(rng);
                mean + std * z
            })),
            NefDist::Choice(options) => {
                if options[0].len() != d {
                    return Err(invalid!(
                        "choice distribution: options have {} values but {d}-dimensional \
                         samples were asked for; give options of length {d}",
                        options[0].len()
                    ));
                }
                let mut out = Array2::zeros((n, d));
                for mut row in out.rows_mut() {
                    let pick = &options[rng.random_range(0..options.len())];
                    row.iter_mut().zip(pick).for_each(|(o, v)| *o = *v);
                }
                Ok(out)
            }
            NefDist::Array(a) => {
                if a.dim() != (n, d) {
                    return Err(invalid!(
                        "sample array has shape {} x {} but {n} x {d} samples were asked for; \
                         give an array of {n} rows and {d} columns",
                        a.nrows(),
                        a.ncols()
                    ));
                }
                Ok(a.clone())
            }
            NefDist::UniformHypersphere {
                surface,
                min_magnitude,
            } => {
                need_dims(d, "uniform hypersphere")?;
                Ok(uniform_hypersphere(n, d, *surface, *min_magnitude, rng))
            }
            NefDist::ScatteredHypersphere {
                surface,
                min_magnitude,
            } => {
                need_dims(d, "scattered hypersphere")?;
                scattered_hypersphere(n, d, *surface, *min_magnitude, rng)
            }
        }
    }
}

fn need_dims(d: usize, what: &str) -> Result<()> {
    if d == 0 {
        return Err(invalid!("{what}: samples need at least 1 dimension, got 0"));
    }
    Ok(())
}

/// Normalised Gaussian vectors, times `U(min^d, 1)^(1/d)` inside the ball.
fn uniform_hypersphere(
    n: usize,
    d: usize,
    surface: bool,
    min_magnitude: f64,
    rng: &mut impl Rng,
) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((n, d));
    for mut row in out.rows_mut() {
        // a zero vector has probability 0; redraw rather than divide by zero
        let norm = loop {
            row.iter_mut().for_each(|v| *v = StandardNormal.sample(rng));
            let norm = row.dot(&row).sqrt();
            if norm > 0.0 {
                break norm;
            }
        };
        row /= norm;
    }
    if !surface {
        let low = min_magnitude.powi(d as i32);
        for mut row in out.rows_mut() {
            let u = low + (1.0 - low) * rng.random::<f64>();
            row *= u.powf(1.0 / d as f64);
        }
    }
    out
}

/// The root of `x^(d+1) = x + 1` (the generalised golden ratio of Nengo's
/// `QuasirandomSequence._phi`), by Newton's method from 1.
fn phi(d: usize) -> f64 {
    let mut x = 1.0f64;
    for _ in 0..100 {
        let dx = (x.powi(d as i32 + 1) - x - 1.0) / ((d as f64 + 1.0) * x.powi(d as i32) - 1.0);
        x -= dx;
        if dx.abs() < 1e-10 {
            break;
        }
    }
    x
}

/// Nengo's `QuasirandomSequence`: the R_d low-discrepancy sequence (additive recurrence with
/// steps `phi_d^-(j+1)`), offset by a random point of the unit cube and with its rows shuffled.
/// In 1-D it tiles `[0, 1)` evenly: `(offset + i / n) mod 1`. (`fract` is that `mod 1`, exactly
/// as `% 1.0` for the non-negative values here, without the slow `fmod` call.)
fn quasirandom(n: usize, d: usize, rng: &mut impl Rng) -> Array2<f64> {
    let offset: Vec<f64> = (0..d).map(|_| rng.random::<f64>()).collect();
    let mut z = if d == 1 {
        let step = 1.0 / n as f64;
        Array2::from_shape_fn((n, 1), |(i, _)| (offset[0] + step * i as f64).fract())
    } else {
        let phi_inv = 1.0 / phi(d);
        let alpha: Vec<f64> = (1..=d).map(|j| phi_inv.powi(j as i32)).collect();
        Array2::from_shape_fn((n, d), |(i, j)| {
            (offset[j] + (i + 1) as f64 * alpha[j]).fract()
        })
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let src = z.clone();
    for (dst, &from) in order.iter().enumerate() {
        z.row_mut(dst).assign(&src.row(from));
    }
    z
}

/// `ln Γ(x)` for `x > 0`: Lanczos approximation (g = 7, 9 terms), relative error ~1e-15.
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection: Γ(x) Γ(1 - x) = π / sin(πx)
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut acc = C[0];
    for (i, &c) in C.iter().enumerate().skip(1) {
        acc += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + acc.ln()
}

/// The continued fraction of the regularised incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function `I_x(a, b)`, given `x` and `1 - x` separately so
/// that neither loses precision near 1.
fn beta_inc(a: f64, b: f64, x: f64, one_minus_x: f64, ln_beta: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if one_minus_x <= 0.0 {
        return 1.0;
    }
    let front = (a * x.ln() + b * one_minus_x.ln() - ln_beta).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, one_minus_x) / b
    }
}

/// The inverse CDF of the angle coordinate that Nengo's spherical coordinate transform uses for
/// a coordinate with `dims` remaining dimensions, mapped to `[0, 1]`: the angle `πx` has density
/// proportional to `sin(πx)^(dims - 1)`. Nengo computes it as
/// `arcsin(sqrt(betaincinv(dims / 2, 1 / 2, 2y))) / π` for `y < 1/2` (reflected above); this
/// solves `I_{sin²θ}(dims/2, 1/2) = 2y` for `θ` directly, by Newton's method safeguarded with
/// bisection, to near machine precision (Nengo's default `sct-approx` interpolates a table of
/// the same function).
fn spherical_coords_ppf(dims: usize, y: f64) -> f64 {
    let lower = y < 0.5;
    let t = 2.0 * if lower { y } else { 1.0 - y };
    let theta = if t <= 0.0 {
        0.0
    } else if t >= 1.0 {
        PI / 2.0
    } else {
        let a = dims as f64 / 2.0;
        let ln_beta = ln_gamma(a) + ln_gamma(0.5) - ln_gamma(a + 0.5);
        let cdf = |th: f64| {
            let (s, c) = th.sin_cos();
            beta_inc(a, 0.5, s * s, c * c, ln_beta)
        };
        // d/dθ I_{sin²θ}(a, 1/2) = 2 sin(θ)^(2a - 1) / B(a, 1/2)
        let pdf = |th: f64| 2.0 * ((2.0 * a - 1.0) * th.sin().ln() - ln_beta).exp();
        // Newton's method safeguarded by bisection (`rtsafe`): a step that leaves the bracket
        // or does not halve the previous one is replaced by a bisection, so the far tails
        // (where F behaves like a high power of θ) converge as fast as the middle.
        let (mut lo, mut hi) = (0.0, PI / 2.0);
        let mut th = PI / 4.0;
        let mut step = hi - lo;
        let mut step_before = step;
        for _ in 0..300 {
            let f = cdf(th) - t;
            if f < 0.0 {
                lo = th;
            } else if f > 0.0 {
                hi = th;
            } else {
                break;
            }
            let slope = pdf(th);
            let newton = th - f / slope;
            let use_newton = slope > 0.0
                && newton > lo
                && newton < hi
                && (2.0 * f).abs() <= (step_before * slope).abs();
            step_before = step;
            if use_newton {
                step = th - newton;
                th = newton;
            } else {
                step = 0.5 * (hi - lo);
                th = lo + step;
            }
            if step.abs() <= 1e-16 * th {
                break;
            }
        }
        th
    };
    let x = theta / PI;
    if lower {
        x
    } else {
        1.0 - x
    }
}

/// Intervals in a [`PpfTable`].
const PPF_TABLE_INTERVALS: usize = 256;

/// The CDF value below which a [`PpfTable`] hands over to the exact solver: the far tail, where
/// the density vanishes like a high power of the angle, reached by about this fraction of
/// points.
const PPF_TABLE_TAIL: f64 = 1e-4;

/// Equal parts of `[0, 1]` (CDF values) indexed in a [`PpfTable`] to speed up its search.
const PPF_TABLE_BUCKETS: usize = 256;

/// The largest angle error (radians) that an interval of a [`PpfTable`] may show at its
/// midpoint and still be used; intervals above it also hand over to the exact solver.
const PPF_TABLE_TOLERANCE: f64 = 1e-13;

/// A fast [`spherical_coords_ppf`] for one `dims`, built once per [`spherical_transform`] call.
///
/// Like Nengo's default `sct-approx` it tabulates the CDF of the angle on a grid and inverts
/// the table, but not to Nengo's ~1e-6. With `F(θ) = I_{sin²θ}(dims/2, 1/2)` the CDF that
/// [`spherical_coords_ppf`] inverts on `[0, π/2]`, the table covers `[θ_lo, π/2]`, `F(θ_lo)` =
/// [`PPF_TABLE_TAIL`], with [`PPF_TABLE_INTERVALS`] equal intervals (their width shrinks like
/// `1/sqrt(dims)` with the distribution). At each node it knows `F` exactly (the same
/// `beta_inc`) and its first two derivatives (the density `2 sin(θ)^(dims - 1) / B` and its
/// slope), and each interval holds the quintic Hermite interpolant `P` of those six numbers. The
/// interpolation error is `F⁽⁶⁾(ξ) (θ - a)³ (θ - b)³ / 720`, largest near the midpoint `m`, so
/// every interval is checked there against the exact CDF when the table is built, and used
/// only if the angle error `|P(m) - F(m)| / F'(a)` (`F'` grows towards π/2, so `F'(a)` is its
/// least on the interval) is within [`PPF_TABLE_TOLERANCE`]. A lookup is a bucketed binary
/// search over the node values and a bracketed Newton solve of the quintic from a cubic guess
/// (about two steps), with no transcendental functions; below `θ_lo` and in intervals that
/// failed the check it calls the exact solver. The result agrees with [`spherical_coords_ppf`]
/// to about 1e-14 (the tests check 1e-12 over many inputs and `dims`, tails included), so the
/// samples are those of the exact inverse, only about 50 times faster to compute (16-D).
struct PpfTable {
    dims: usize,
    /// The first node and the node spacing.
    theta_lo: f64,
    h: f64,
    /// Exact CDF at the nodes `θ_lo + i h`, `i = 0..=PPF_TABLE_INTERVALS`.
    cdf: Vec<f64>,
    /// Per interval, the coefficients `q_0..q_5` of `P(a + s h) = Σ q_j s^j`, `s ∈ [0, 1]`;
    /// `None` where the interval failed the midpoint check.
    poly: Vec<Option<[f64; 6]>>,
    /// `bucket[b]`: the number of nodes with `cdf <= b / PPF_TABLE_BUCKETS`, which narrows the
    /// search for a CDF value to the nodes between two neighbouring entries.
    bucket: Vec<u32>,
}

impl PpfTable {
    fn new(dims: usize) -> PpfTable {
        let a = dims as f64 / 2.0;
        let ln_beta = ln_gamma(a) + ln_gamma(0.5) - ln_gamma(a + 0.5);
        let cdf_at = |th: f64| {
            let (s, c) = th.sin_cos();
            beta_inc(a, 0.5, s * s, c * c, ln_beta)
        };
        let theta_lo = PI * spherical_coords_ppf(dims, 0.5 * PPF_TABLE_TAIL);
        let nodes = PPF_TABLE_INTERVALS;
        let h = (PI / 2.0 - theta_lo) / nodes as f64;
        let theta = |i: f64| theta_lo + i * h;
        // F' = 2 sin^(dims - 1) / B and F'' = 2 (dims - 1) sin^(dims - 2) cos / B, times h and
        // h² for the unit interval
        let n_pow = dims as i32 - 1;
        let scale = 2.0 * (-ln_beta).exp();
        let derivs = |th: f64| {
            let (s, c) = th.sin_cos();
            let d1 = scale * s.powi(n_pow);
            let d2 = if n_pow == 0 {
                0.0
            } else {
                scale * n_pow as f64 * s.powi(n_pow - 1) * c
            };
            (d1 * h, d2 * h * h)
        };
        let mut cdf: Vec<f64> = (0..=nodes).map(|i| cdf_at(theta(i as f64))).collect();
        cdf[nodes] = 1.0;
        let der: Vec<(f64, f64)> = (0..=nodes).map(|i| derivs(theta(i as f64))).collect();
        let poly = (0..nodes)
            .map(|i| {
                let (p0, p1) = (cdf[i], cdf[i + 1]);
                let ((m0, c0), (m1, c1)) = (der[i], der[i + 1]);
                let dp = p1 - p0;
                let q = [
                    p0,
                    m0,
                    0.5 * c0,
                    10.0 * dp - 6.0 * m0 - 4.0 * m1 - 1.5 * c0 + 0.5 * c1,
                    -15.0 * dp + 8.0 * m0 + 7.0 * m1 + 1.5 * c0 - c1,
                    6.0 * dp - 3.0 * m0 - 3.0 * m1 - 0.5 * c0 + 0.5 * c1,
                ];
                let mid = cdf_at(theta(i as f64 + 0.5));
                let err = (q[0] - mid + poly_rise(&q, 0.5)).abs();
                (err <= PPF_TABLE_TOLERANCE * (m0 / h)).then_some(q)
            })
            .collect();
        let bucket = (0..=PPF_TABLE_BUCKETS)
            .map(|b| cdf.partition_point(|&f| f <= b as f64 / PPF_TABLE_BUCKETS as f64) as u32)
            .collect();
        PpfTable {
            dims,
            theta_lo,
            h,
            cdf,
            poly,
            bucket,
        }
    }

    /// [`spherical_coords_ppf`]`(self.dims, y)`.
    fn ppf(&self, y: f64) -> f64 {
        let lower = y < 0.5;
        let t = 2.0 * if lower { y } else { 1.0 - y };
        // the interval i with cdf[i] <= t < cdf[i + 1] (t = 1 goes to the last one)
        let b = ((t * PPF_TABLE_BUCKETS as f64) as usize).min(PPF_TABLE_BUCKETS - 1);
        let (from, to) = (self.bucket[b] as usize, self.bucket[b + 1] as usize);
        let above = from + self.cdf[from..to].partition_point(|&f| f <= t);
        let poly = match above.checked_sub(1) {
            Some(i) if t < 1.0 => self.poly[i].as_ref().map(|q| (i, q)),
            _ => None,
        };
        let Some((i, q)) = poly else {
            return spherical_coords_ppf(self.dims, y);
        };
        // solve P(s) = t on [0, 1] by Newton's method, bisecting when a step leaves the bracket,
        // from the cubic Hermite interpolant of the inverse (values 0 and 1, slopes 1 / P' at the
        // ends, in units of u = (t - P(0)) / (P(1) - P(0))), already close to the root
        let (mut lo, mut hi) = (0.0, 1.0);
        let span = self.cdf[i + 1] - self.cdf[i];
        let m1 = q[1] + 2.0 * q[2] + 3.0 * q[3] + 4.0 * q[4] + 5.0 * q[5];
        let mut s = if span > 0.0 && q[1] > 0.0 && m1 > 0.0 {
            let u = (t - q[0]) / span;
            let (a0, a1) = (span / q[1], span / m1);
            (u + u * (1.0 - u) * ((1.0 - u) * (a0 - 1.0) - u * (a1 - 1.0))).clamp(0.0, 1.0)
        } else {
            0.5
        };
        for _ in 0..100 {
            let g = (q[0] - t) + poly_rise(q, s);
            let slope =
                q[1] + s * (2.0 * q[2] + s * (3.0 * q[3] + s * (4.0 * q[4] + s * 5.0 * q[5])));
            if g < 0.0 {
                lo = s;
            } else if g > 0.0 {
                hi = s;
            } else {
                break;
            }
            let newton = s - g / slope;
            let next = if slope > 0.0 && newton > lo && newton < hi {
                newton
            } else {
                0.5 * (lo + hi)
            };
            let step = next - s;
            s = next;
            // Newton's error after a step of δ is about C δ² with C = h F'' / (2 F'), below
            // 1/4 on every interval of the table (F changes little in relative terms over one),
            // so a step of 1e-8 leaves ~1e-17, below rounding (~1e-14 in s)
            if step.abs() <= 1e-8 {
                break;
            }
        }
        let x = (self.theta_lo + (i as f64 + s) * self.h) / PI;
        if lower {
            x
        } else {
            1.0 - x
        }
    }
}

/// `P(s) - q_0 = Σ_{j >= 1} q_j s^j` (Horner), kept apart from `q_0` so that `P(s) - t` loses
/// nothing to rounding when `P` is near 1.
fn poly_rise(q: &[f64; 6], s: f64) -> f64 {
    s * (q[1] + s * (q[2] + s * (q[3] + s * (q[4] + s * q[5]))))
}

/// Nengo's spherical coordinate transform (SCT, Fang & Wang 1994 section 1.5.2): maps `n x k`
/// points of the unit cube to `n x (k + 1)` points on the unit sphere, uniform if the cube
/// points are. The inverse CDFs come from one [`PpfTable`] per `dims` in `1..=k`; rows are
/// mapped in parallel, each by the same pure function of its cube point, so the result does
/// not depend on the number of threads.
fn spherical_transform(samples: &Array2<f64>) -> Array2<f64> {
    let (n, k) = samples.dim();
    let mut mapped = Array2::ones((n, k + 1));
    if n == 0 || k == 0 {
        return mapped;
    }
    // tables[dims - 1] serves `dims`
    let tables: Vec<PpfTable> = (1..=k).into_par_iter().map(PpfTable::new).collect();
    let samples = samples.as_standard_layout();
    let cube = samples.as_slice().expect("standard layout");
    mapped
        .as_slice_mut()
        .expect("a new array is contiguous")
        .par_chunks_mut(k + 1)
        .zip(cube.par_chunks(k))
        .with_min_len(64)
        .for_each(|(out, point)| {
            let mut prod_sin = 1.0;
            for j in 0..k {
                let turn = if j + 1 == k { 2.0 } else { 1.0 };
                let angle = turn * PI * tables[k - j - 1].ppf(point[j]);
                let (s, c) = angle.sin_cos();
                out[j] = prod_sin * c;
                prod_sin *= s;
            }
            out[k] = prod_sin;
        });
    mapped
}

/// A random rotation, as Nengo's `random_orthogonal`: the orthogonal polar factor `U V^T` of a
/// standard normal matrix (Haar distributed).
fn random_orthogonal(d: usize, rng: &mut impl Rng) -> Result<Array2<f64>> {
    let m = faer::Mat::<f64>::from_fn(d, d, |_, _| StandardNormal.sample(rng));
    let svd = m.svd().map_err(|e| {
        Error::Build(format!(
            "the SVD for a random {d}-D rotation did not converge ({e:?}); try another seed"
        ))
    })?;
    let q = svd.U() * svd.V().transpose();
    Ok(Array2::from_shape_fn((d, d), |(i, j)| q[(i, j)]))
}

/// Nengo 4's `ScatteredHypersphere` with its default quasi-random base.
fn scattered_hypersphere(
    n: usize,
    d: usize,
    surface: bool,
    min_magnitude: f64,
    rng: &mut impl Rng,
) -> Result<Array2<f64>> {
    if d == 1 {
        if surface {
            // half the points at -1 and half at +1, in random order (Nengo takes the sign of
            // x - 1/2, which is 0 only for x exactly 1/2; that point goes to +1 here)
            return Ok(quasirandom(n, 1, rng).mapv(|x| if x < 0.5 { -1.0 } else { 1.0 }));
        }
        let scale = |mut a: Array2<f64>| {
            if min_magnitude > 0.0 {
                a.mapv_inplace(|x| x * (1.0 - min_magnitude) + min_magnitude);
            }
            a
        };
        let pos = scale(quasirandom(n / 2, 1, rng));
        let neg = scale(quasirandom(n - n / 2, 1, rng));
        let mut values: Vec<f64> = pos.iter().copied().chain(neg.iter().map(|x| -x)).collect();
        values.shuffle(rng);
        return Ok(Array2::from_shape_vec((n, 1), values).expect("n values"));
    }
    let (cube, radius) = if surface {
        (quasirandom(n, d - 1, rng), None)
    } else {
        let all = quasirandom(n, d, rng);
        let min_d = min_magnitude.powi(d as i32);
        let radius: Vec<f64> = all
            .column(d - 1)
            .iter()
            .map(|&r| {
                let r = if min_magnitude != 0.0 {
                    r * (1.0 - min_d) + min_d
                } else {
                    r
                };
                r.powf(1.0 / d as f64)
            })
            .collect();
        (all.slice(s![.., ..d - 1]).to_owned(), Some(radius))
    };
    let mut mapped = spherical_transform(&cube);
    if let Some(radius) = radius {
        for (mut row, r) in mapped.rows_mut().into_iter().zip(radius) {
            row *= r;
        }
    }
    let rotation = random_orthogonal(d, rng)?;
    Ok(mapped.dot(&rotation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    // Generated by benches/peers/nengo_reference_math.py (section dists), Nengo 4.1.0, SciPy
    // 1.17.1: ScatteredHypersphere.spherical_coords_ppf(dims, y, approx=False).
    const PPF_Y: [f64; 9] = [0.0, 1e-09, 0.05, 0.2, 0.37, 0.5, 0.73, 0.99, 1.0];
    const PPF_DIMS_1: [f64; 9] = [
        0.0,
        1e-09,
        0.05,
        0.2,
        0.37000000000000005,
        0.5,
        0.73,
        0.99,
        1.0,
    ];
    const PPF_DIMS_2: [f64; 9] = [
        0.0,
        2.0131684845150093e-05,
        0.14356629312870628,
        0.2951672353008666,
        0.4162774325283955,
        0.5,
        0.6521505972369661,
        0.9362314391414801,
        1.0,
    ];
    const PPF_DIMS_3: [f64; 9] = [
        0.0,
        0.0005336590997764891,
        0.20195932521401722,
        0.3363165107491524,
        0.4340650286231429,
        0.5,
        0.6206083055302536,
        0.8840036179308276,
        1.0,
    ];
    const PPF_DIMS_5: [f64; 9] = [
        0.0,
        0.0071928578321421716,
        0.2665343483107478,
        0.3758107963885424,
        0.4504596197396351,
        0.5,
        0.5910129211807511,
        0.8133061763978411,
        1.0,
    ];
    const PPF_DIMS_16: [f64; 9] = [
        0.0,
        0.10222985667681485,
        0.36900072431779524,
        0.43223466056159726,
        0.4731924806975827,
        0.5,
        0.5494320657155121,
        0.6825404280376768,
        1.0,
    ];
    const PPF_DIMS_64: [f64; 9] = [
        0.0,
        0.27159311629007715,
        0.4345311471240324,
        0.4664132589500879,
        0.48674622104762444,
        0.5,
        0.5244663737699837,
        0.5922636389904299,
        1.0,
    ];
    const PPF_DIMS_500: [f64; 9] = [
        0.0,
        0.4150890045091364,
        0.47658396364846156,
        0.48801473591995015,
        0.49527370864493175,
        0.5,
        0.5087273624341303,
        0.5331027859632183,
        1.0,
    ];
    const PHI: [f64; 4] = [
        1.618033988749895,
        1.324717957244746,
        1.2207440846057596,
        1.085070245491451,
    ];
    const N_EVAL: [(usize, usize, usize); 7] = [
        (1, 1, 750),
        (20, 1, 750),
        (20, 2, 1000),
        (100, 4, 2000),
        (1000, 1, 2000),
        (1500, 3, 3000),
        (50, 16, 2500),
    ];

    #[test]
    fn spherical_ppf_matches_scipy() {
        let table: [(usize, &[f64; 9]); 7] = [
            (1, &PPF_DIMS_1),
            (2, &PPF_DIMS_2),
            (3, &PPF_DIMS_3),
            (5, &PPF_DIMS_5),
            (16, &PPF_DIMS_16),
            (64, &PPF_DIMS_64),
            (500, &PPF_DIMS_500),
        ];
        for (dims, want) in table {
            for (&y, &w) in PPF_Y.iter().zip(want) {
                let got = spherical_coords_ppf(dims, y);
                assert!(
                    (got - w).abs() <= 1e-12 + 1e-9 * w.abs(),
                    "dims {dims}, y {y}: got {got}, want {w}"
                );
            }
        }
    }

    /// Inputs for the fast inverse CDF: an even grid, the far tails, and the exact node values
    /// of the table (interval boundaries).
    fn ppf_inputs(table: &PpfTable) -> Vec<f64> {
        let mut ys: Vec<f64> = (0..=1000).map(|i| i as f64 / 1000.0).collect();
        ys.extend((0..1000).map(|i| ((i as f64 + 0.5) * 0.618_033_988_749_895) % 1.0));
        for e in [
            1e-300, 1e-200, 1e-100, 1e-30, 1e-15, 1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2,
        ] {
            ys.extend([e, 1.0 - e, 0.5 - e, 0.5 + e]);
        }
        for &f in table.cdf.iter().step_by(3) {
            ys.extend([0.5 * f, 1.0 - 0.5 * f]);
        }
        ys
    }

    #[test]
    fn fast_ppf_matches_the_exact_one() {
        let mut worst: f64 = 0.0;
        for dims in (1..=20).chain([24, 31, 48, 64, 128, 500]) {
            let table = PpfTable::new(dims);
            for y in ppf_inputs(&table) {
                let (fast, exact) = (table.ppf(y), spherical_coords_ppf(dims, y));
                assert!(
                    (fast - exact).abs() <= 1e-12,
                    "dims {dims}, y {y}: fast {fast}, exact {exact}"
                );
                assert!((0.0..=1.0).contains(&fast));
                worst = worst.max((fast - exact).abs());
            }
            // the table hands over to the exact solver only in the far tail
            let fallback = table.poly.iter().filter(|q| q.is_none()).count();
            let mass = table.cdf[fallback];
            assert!(
                table.poly[fallback..].iter().all(Option::is_some) && mass < 2e-4,
                "dims {dims}: {fallback} fallback intervals, holding {mass} of the mass"
            );
        }
        assert!(worst <= 1e-12, "{worst}");
    }

    #[test]
    fn spherical_transform_matches_the_exact_ppf_and_ignores_threads() {
        let cube = quasirandom(500, 12, &mut stream(5, 6, 7));
        let fast = spherical_transform(&cube);
        let (n, k) = cube.dim();
        for r in 0..n {
            let mut prod_sin = 1.0;
            for j in 0..k {
                let turn = if j + 1 == k { 2.0 } else { 1.0 };
                let angle = turn * PI * spherical_coords_ppf(k - j, cube[[r, j]]);
                let (s, c) = angle.sin_cos();
                assert!((fast[[r, j]] - prod_sin * c).abs() < 1e-12, "({r}, {j})");
                prod_sin *= s;
            }
            assert!((fast[[r, k]] - prod_sin).abs() < 1e-12, "({r}, {k})");
        }
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(pool.install(|| spherical_transform(&cube)), fast);
            let dist = NefDist::default_eval_points();
            assert_eq!(
                pool.install(|| dist.sample(300, 9, &mut stream(1, 1, 1)).unwrap()),
                dist.sample(300, 9, &mut stream(1, 1, 1)).unwrap()
            );
        }
    }

    #[test]
    fn phi_and_n_eval_points_match_nengo() {
        for (d, want) in [1, 2, 3, 8].into_iter().zip(PHI) {
            assert!((phi(d) - want).abs() < 1e-14, "phi({d})");
        }
        for (n, d, want) in N_EVAL {
            assert_eq!(default_n_eval_points(n, d), want, "({n}, {d})");
        }
    }

    fn norms(a: &Array2<f64>) -> Vec<f64> {
        a.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect()
    }

    fn all_dists() -> Vec<NefDist> {
        vec![
            NefDist::uniform(-1.0, 0.9),
            NefDist::gaussian(2.0, 0.5),
            NefDist::Choice(vec![vec![1.0, 2.0, 3.0], vec![-1.0, 0.0, 1.0]]),
            NefDist::UniformHypersphere {
                surface: true,
                min_magnitude: 0.0,
            },
            NefDist::UniformHypersphere {
                surface: false,
                min_magnitude: 0.3,
            },
            NefDist::default_encoders(),
            NefDist::default_eval_points(),
            NefDist::ScatteredHypersphere {
                surface: false,
                min_magnitude: 0.5,
            },
        ]
    }

    #[test]
    fn shapes_and_determinism() {
        for dist in all_dists() {
            let a = dist.sample(37, 3, &mut stream(1, 2, 3)).unwrap();
            let b = dist.sample(37, 3, &mut stream(1, 2, 3)).unwrap();
            let c = dist.sample(37, 3, &mut stream(1, 2, 4)).unwrap();
            assert_eq!(a.dim(), (37, 3), "{dist:?}");
            assert_eq!(a, b, "{dist:?}");
            assert_ne!(a, c, "{dist:?}");
            assert!(a.iter().all(|v| v.is_finite()));
            assert_eq!(
                dist.sample(0, 3, &mut stream(1, 2, 3)).unwrap().dim(),
                (0, 3)
            );
        }
    }

    #[test]
    fn hyperspheres_have_the_right_radii() {
        for d in [1, 2, 3, 7] {
            for scattered in [false, true] {
                let (sphere, ball, shell) = if scattered {
                    (
                        NefDist::default_encoders(),
                        NefDist::default_eval_points(),
                        NefDist::ScatteredHypersphere {
                            surface: false,
                            min_magnitude: 0.6,
                        },
                    )
                } else {
                    (
                        NefDist::UniformHypersphere {
                            surface: true,
                            min_magnitude: 0.0,
                        },
                        NefDist::UniformHypersphere {
                            surface: false,
                            min_magnitude: 0.0,
                        },
                        NefDist::UniformHypersphere {
                            surface: false,
                            min_magnitude: 0.6,
                        },
                    )
                };
                let rng = &mut stream(9, d as u64, scattered as u64);
                let n = 2000;
                for r in norms(&sphere.sample(n, d, rng).unwrap()) {
                    assert!((r - 1.0).abs() < 1e-12, "d {d}: |x| = {r}");
                }
                let radii = norms(&ball.sample(n, d, rng).unwrap());
                assert!(radii.iter().all(|&r| r <= 1.0 + 1e-12));
                // uniform in the ball: P(|x| <= r) = r^d, so E[|x|^d] = 1/2
                let m = radii.iter().map(|r| r.powi(d as i32)).sum::<f64>() / n as f64;
                assert!((m - 0.5).abs() < 0.03, "d {d}: E|x|^d = {m}");
                let radii = norms(&shell.sample(n, d, rng).unwrap());
                assert!(radii
                    .iter()
                    .all(|&r| (0.6 - 1e-12..=1.0 + 1e-12).contains(&r)));
            }
        }
    }

    #[test]
    fn one_d_surface_is_plus_minus_one_half_each() {
        let x = NefDist::default_encoders()
            .sample(100, 1, &mut stream(4, 5, 6))
            .unwrap();
        assert!(x.iter().all(|&v| v == 1.0 || v == -1.0));
        assert_eq!(x.iter().filter(|&&v| v > 0.0).count(), 50);
        let x = NefDist::default_eval_points()
            .sample(101, 1, &mut stream(4, 5, 6))
            .unwrap();
        assert_eq!(x.iter().filter(|&&v| v >= 0.0).count(), 50);
        assert!(x.iter().all(|v| v.abs() <= 1.0));
    }

    fn mean_var(x: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
        let n = x.clone().count() as f64;
        let mean = x.clone().sum::<f64>() / n;
        (mean, x.map(|v| (v - mean).powi(2)).sum::<f64>() / n)
    }

    #[test]
    fn moments_are_right() {
        let rng = &mut stream(3, 3, 3);
        let u = NefDist::uniform(-1.0, 0.9).sample(20_000, 2, rng).unwrap();
        let (m, v) = mean_var(u.iter().copied());
        assert!((m + 0.05).abs() < 0.01 && (v - 1.9f64.powi(2) / 12.0).abs() < 0.01);
        assert!(u.iter().all(|&x| (-1.0..0.9).contains(&x)));
        let g = NefDist::gaussian(2.0, 0.5).sample(20_000, 2, rng).unwrap();
        let (m, v) = mean_var(g.iter().copied());
        assert!((m - 2.0).abs() < 0.01 && (v - 0.25).abs() < 0.01);
        // every coordinate of a uniform point on the sphere in d dims has mean 0 and variance
        // 1/d; in the ball 1/(d + 2)
        for dist in [
            NefDist::default_encoders(),
            NefDist::UniformHypersphere {
                surface: true,
                min_magnitude: 0.0,
            },
            NefDist::default_eval_points(),
        ] {
            let d = 4;
            let x = dist.sample(8000, d, rng).unwrap();
            let want = if dist == NefDist::default_eval_points() {
                1.0 / (d as f64 + 2.0)
            } else {
                1.0 / d as f64
            };
            for col in x.columns() {
                let (m, v) = mean_var(col.iter().copied());
                assert!(
                    m.abs() < 0.02 && (v - want).abs() < 0.01,
                    "{dist:?}: {m} {v}"
                );
            }
        }
    }

    fn min_pairwise_distance(x: &Array2<f64>) -> f64 {
        let mut best = f64::INFINITY;
        for i in 0..x.nrows() {
            for j in 0..i {
                let diff = &x.row(i) - &x.row(j);
                best = best.min(diff.dot(&diff).sqrt());
            }
        }
        best
    }

    #[test]
    fn scattered_points_are_more_even_than_uniform_ones() {
        for (surface, d) in [(true, 2), (true, 3), (false, 2), (false, 3)] {
            let scattered = NefDist::ScatteredHypersphere {
                surface,
                min_magnitude: 0.0,
            };
            let uniform = NefDist::UniformHypersphere {
                surface,
                min_magnitude: 0.0,
            };
            let (mut s, mut u) = (0.0, 0.0);
            for seed in 0..5 {
                let rng = &mut stream(seed, 77, d as u64);
                s += min_pairwise_distance(&scattered.sample(200, d, rng).unwrap());
                u += min_pairwise_distance(&uniform.sample(200, d, rng).unwrap());
            }
            assert!(s > 1.5 * u, "surface {surface}, d {d}: {s} vs {u}");
        }
    }

    #[test]
    fn choice_and_array() {
        let options = vec![vec![1.0, 2.0], vec![3.0, 4.0]];
        let x = NefDist::Choice(options.clone())
            .sample(50, 2, &mut stream(0, 0, 0))
            .unwrap();
        for row in x.rows() {
            assert!(options.iter().any(|o| o[..] == row.to_vec()[..]));
        }
        let a = Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f64);
        assert_eq!(
            NefDist::Array(a.clone())
                .sample(3, 2, &mut stream(0, 0, 0))
                .unwrap(),
            a
        );
    }

    fn err(r: Result<Array2<f64>>) -> String {
        match r {
            Err(Error::Validation(m)) => m,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn bad_requests_are_clear_errors() {
        let rng = &mut stream(0, 0, 0);
        let a = Array2::zeros((3, 2));
        let m = err(NefDist::Array(a).sample(4, 2, rng));
        assert!(m.contains("3 x 2") && m.contains("4 x 2"), "{m}");
        let m = err(NefDist::Choice(vec![vec![1.0, 2.0]]).sample(4, 3, rng));
        assert!(m.contains("length 3"), "{m}");
        let m = err(NefDist::Choice(vec![]).sample(4, 3, rng));
        assert!(m.contains("at least one option"), "{m}");
        let m = err(NefDist::Choice(vec![vec![1.0], vec![1.0, 2.0]]).sample(4, 1, rng));
        assert!(m.contains("same length"), "{m}");
        let m = err(NefDist::gaussian(0.0, 0.0).sample(4, 1, rng));
        assert!(m.contains("standard deviation"), "{m}");
        let m = err(NefDist::uniform(0.0, f64::NAN).sample(4, 1, rng));
        assert!(m.contains("finite"), "{m}");
        let m = err(NefDist::default_encoders().sample(4, 0, rng));
        assert!(m.contains("at least 1 dimension"), "{m}");
        let m = err(NefDist::ScatteredHypersphere {
            surface: false,
            min_magnitude: 1.0,
        }
        .sample(4, 2, rng));
        assert!(m.contains("min_magnitude"), "{m}");
    }
}
