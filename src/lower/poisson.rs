//! Binomial inverse-CDF tables for Poisson input.
//!
//! Each step a target neuron receives k ~ Binomial(in_degree, rate * dt) input spikes (Brian2's
//! `PoissonInput` draws exactly this). The CDF is tabulated on the host in f64 as u32 thresholds,
//! so the kernels draw k with one hashed u32 and integer comparisons only: the GPU and the CPU
//! twin agree bit for bit, with no transcendental functions on the device.

use crate::error::{Error, Result};

/// Longest table accepted; a wider distribution (mean far above 10^4 spikes per step) is better
/// modelled as a current.
pub const MAX_TABLE: usize = 1 << 16;

/// A tabulated distribution: k = k_min + (index of the first threshold above u), or
/// k_min + thresholds.len() - 1 when u is above all but the last.
#[derive(Clone, Debug, PartialEq)]
pub struct CdfTable {
    pub k_min: u32,
    pub thresholds: Vec<u32>,
}

impl CdfTable {
    /// The largest count the table can return.
    pub fn k_max(&self) -> u32 {
        self.k_min + self.thresholds.len() as u32 - 1
    }

    /// The count for a uniform u32 draw; the CPU twin of `draw_count` in `neuron_update.wgsl`.
    pub fn draw(&self, u: u32) -> u32 {
        draw_count(&self.thresholds, u) + self.k_min
    }
}

/// First index `t` in `[0, len - 1)` with `u < table[t]`, else `len - 1` (binary search).
pub fn draw_count(table: &[u32], u: u32) -> u32 {
    let (mut lo, mut hi) = (0u32, table.len() as u32 - 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if u < table[mid as usize] {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Tabulates Binomial(n, p) at a resolution of 2^-32.
pub fn binomial_table(n: u32, p: f64) -> Result<CdfTable> {
    const SCALE: f64 = 4_294_967_296.0;
    if n == 0 || p <= 0.0 {
        return Ok(CdfTable {
            k_min: 0,
            thresholds: vec![u32::MAX],
        });
    }
    if p >= 1.0 {
        return Ok(CdfTable {
            k_min: n,
            thresholds: vec![u32::MAX],
        });
    }
    // log pmf by the recurrence P(k+1) = P(k) (n-k)/(k+1) p/(1-p), from ln P(0) = n ln(1-p).
    let log_odds = p.ln() - (-p).ln_1p();
    let mut log_pmf = n as f64 * (-p).ln_1p();
    let mut cdf = 0.0f64;
    let mut k_min = None;
    let mut thresholds = Vec::new();
    for k in 0..=n {
        cdf += log_pmf.exp();
        let q = (cdf * SCALE).round();
        if k_min.is_none() && q >= 1.0 {
            k_min = Some(k);
        }
        if k_min.is_some() {
            if q >= SCALE || k == n {
                thresholds.push(u32::MAX);
                break;
            }
            thresholds.push(q as u32);
            if thresholds.len() >= MAX_TABLE {
                return Err(Error::Build(format!(
                    "Poisson input with in_degree {n} and {p} spikes per source per step spreads over more than {MAX_TABLE} counts; use a constant current or split it"
                )));
            }
        }
        log_pmf += ((n - k) as f64).ln() - ((k + 1) as f64).ln() + log_odds;
    }
    Ok(CdfTable {
        k_min: k_min.unwrap_or(0),
        thresholds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_reproduces_the_binomial_mean_and_variance() {
        let (n, p) = (2000u32, 8.0 * 1e-4); // PD14 background: 2000 sources at 8 Hz, dt 0.1 ms
        let t = binomial_table(n, p).unwrap();
        let draws = 200_000u32;
        let ks: Vec<f64> = (0..draws)
            .map(|i| t.draw(crate::rng::hash3(3, i, 7)) as f64)
            .collect();
        let mean = ks.iter().sum::<f64>() / draws as f64;
        let var = ks.iter().map(|k| (k - mean).powi(2)).sum::<f64>() / draws as f64;
        let (m, v) = (n as f64 * p, n as f64 * p * (1.0 - p));
        assert!((mean - m).abs() < 0.01 * m, "mean {mean} vs {m}");
        assert!((var - v).abs() < 0.03 * v, "var {var} vs {v}");
    }

    #[test]
    fn extreme_draws_stay_in_range() {
        let t = binomial_table(10, 0.5).unwrap();
        assert_eq!(t.draw(0), 0);
        assert_eq!(t.draw(u32::MAX), 10);
        let big = binomial_table(1_000_000, 0.01).unwrap();
        assert!(
            big.k_min > 9000 && big.k_max() < 11000,
            "{} {}",
            big.k_min,
            big.k_max()
        );
    }
}
