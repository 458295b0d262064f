//! The Potjans-Diesmann (2014) cortical microcircuit, with the parameters of `pd14.toml` (the
//! model maintainers' published figures): 8 populations of `LifCurrent` neurons, 77,169 at full
//! scale, about 3e8 synapses with a fixed total number per projection (multapses allowed),
//! normal weights (10% SD, L4E -> L2/3E doubled) and normal delays (50% SD, draws below dt set to
//! dt), Poisson background at 8 Hz with per-population in-degrees, and an optional thalamic
//! pulse.

use crate::error::{Error, Result};
use crate::model::{
    Connectivity, Dist, LifCurrent, Network, PoissonInput, PopulationId, SpikeProbe,
};
use crate::rng::{stream, KeyHasher};
use rand::Rng;
use serde::Deserialize;

/// The model's parameters, as in `src/builtin/pd14.toml`.
#[derive(Clone, Debug, Deserialize)]
pub struct Pd14 {
    pub populations: Vec<String>,
    pub sizes: Vec<u32>,
    /// Row = target, column = source.
    pub conn_probs: Vec<Vec<f64>>,
    pub k_ext: Vec<u32>,
    pub bg_rate: f64,
    pub w_mean: f64,
    pub w_rel_sd: f64,
    pub g: f64,
    pub w_l4e_to_l23e: f64,
    pub delay_exc: f64,
    pub delay_inh: f64,
    pub delay_rel_sd: f64,
    pub tau_m: f64,
    pub c_m: f64,
    pub e_l: f64,
    pub v_reset: f64,
    pub v_th: f64,
    pub t_ref: f64,
    pub tau_syn: f64,
    pub dt: f64,
    pub v0_mean: f64,
    pub v0_sd: f64,
    pub rates_nest_2016: Vec<f64>,
    pub rates_pd14_repo_dc: Vec<f64>,
}

/// The parameter file, shipped with the crate.
pub const PD14_TOML: &str = include_str!("pd14.toml");

/// The thalamic pulse of the original model: 902 neurons firing at 120 Hz from 700 ms for 10 ms,
/// projecting to L4 and L6 with these connection probabilities (same order as the populations).
const THALAMUS_SIZE: u32 = 902;
const THALAMUS_RATE_HZ: f64 = 120.0;
const THALAMUS_START_MS: f64 = 700.0;
const THALAMUS_DURATION_MS: f64 = 10.0;
const THALAMUS_PROBS: [f64; 8] = [0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196];

impl Pd14 {
    /// Parses the shipped parameter file.
    pub fn shipped() -> Result<Pd14> {
        Pd14::parse(PD14_TOML)
    }

    pub fn parse(text: &str) -> Result<Pd14> {
        let p: Pd14 =
            toml::from_str(text).map_err(|e| Error::Validation(format!("pd14 parameters: {e}")))?;
        let n = p.populations.len();
        let rows_ok = p.conn_probs.len() == n && p.conn_probs.iter().all(|r| r.len() == n);
        if p.sizes.len() != n || p.k_ext.len() != n || !rows_ok || p.rates_nest_2016.len() != n {
            return Err(Error::Validation(format!(
                "pd14 parameters: sizes, k_ext, rates and every row of conn_probs need one entry per population ({n})"
            )));
        }
        Ok(p)
    }

    /// Whether population `k` is excitatory (its name ends in E).
    pub fn is_excitatory(&self, k: usize) -> bool {
        self.populations[k].ends_with('E')
    }

    /// Synapses of a projection at full scale, as the reference code computes them:
    /// K = round(ln(1 - p) / ln(1 - 1/(N_pre N_post))).
    pub fn full_scale_synapses(&self, target: usize, source: usize) -> u64 {
        synapses_for(
            self.conn_probs[target][source],
            self.sizes[source],
            self.sizes[target],
        )
    }
}

/// Synapses that give `n_pre x n_post` pairs a connection probability `p` with multapses:
/// round(ln(1 - p) / ln(1 - 1/(n_pre n_post))).
fn synapses_for(p: f64, n_pre: u32, n_post: u32) -> u64 {
    if p <= 0.0 {
        return 0;
    }
    let pairs = n_pre as f64 * n_post as f64;
    ((-p).ln_1p() / (-1.0 / pairs).ln_1p()).round() as u64
}

/// The built network and handles to its parts.
pub struct Microcircuit {
    pub network: Network,
    pub params: Pd14,
    pub populations: Vec<PopulationId>,
    /// One spike probe per population, whole population, in the order of `params.populations`.
    pub spikes: Vec<SpikeProbe>,
    /// Neurons per population at this scale.
    pub sizes: Vec<u32>,
}

/// Builds the microcircuit at `scale` (neuron counts scaled, in-degrees kept, so the synapse
/// count scales linearly; 1.0 is the full model).
pub fn build(scale: f64, seed: u64, thalamus: bool) -> Result<Microcircuit> {
    let params = Pd14::shipped()?;
    build_with(params, scale, seed, thalamus)
}

/// Builds the microcircuit from given parameters.
pub fn build_with(params: Pd14, scale: f64, seed: u64, thalamus: bool) -> Result<Microcircuit> {
    let sizes = scaled_sizes(&params, scale)?;
    let mut net = Network::new().with_seed(seed).with_dt_ms(params.dt);
    let neuron = params.neuron();
    let mut pops = Vec::new();
    for (name, &n) in params.populations.iter().zip(&sizes) {
        pops.push(net.population(name, n, neuron.clone())?);
    }
    connect_populations(&mut net, &params, &pops, &sizes)?;
    if thalamus {
        add_thalamus(&mut net, &params, &pops, &sizes, scale, seed)?;
    }
    let spikes = pops
        .iter()
        .map(|&p| net.probe_spikes(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(Microcircuit {
        network: net,
        params,
        populations: pops,
        spikes,
        sizes,
    })
}

/// Neurons per population at `scale`; refuses a scale that leaves a population empty.
fn scaled_sizes(params: &Pd14, scale: f64) -> Result<Vec<u32>> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::Validation(format!(
            "scale must be a positive number, got {scale}"
        )));
    }
    let sizes: Vec<u32> = params
        .sizes
        .iter()
        .map(|&n| (n as f64 * scale).round() as u32)
        .collect();
    if let Some(k) = sizes.iter().position(|&n| n == 0) {
        return Err(Error::Validation(format!(
            "scale {scale} leaves population {} with no neurons (full size {}); use a scale of at least {:.2e}",
            params.populations[k],
            params.sizes[k],
            0.5 / *params.sizes.iter().min().unwrap_or(&1) as f64
        )));
    }
    Ok(sizes)
}

impl Pd14 {
    /// The neuron every population uses.
    fn neuron(&self) -> LifCurrent {
        LifCurrent {
            tau_m_ms: self.tau_m,
            c_m_pf: self.c_m,
            e_l_mv: self.e_l,
            v_reset_mv: self.v_reset,
            v_th_mv: self.v_th,
            t_ref_ms: self.t_ref,
            tau_syn_ex_ms: self.tau_syn,
            tau_syn_in_ms: self.tau_syn,
            i_e_pa: 0.0,
            v_init_mv: Dist::normal(self.v0_mean, self.v0_sd),
        }
    }

    /// Weights from population `source` to `target`, clipped to keep their sign.
    fn weight(&self, source: usize, target: usize) -> Dist {
        let w = self.w_mean;
        if self.is_excitatory(source) {
            let l4e_to_l23e =
                self.populations[source] == "L4E" && self.populations[target] == "L23E";
            let mean = if l4e_to_l23e {
                w * self.w_l4e_to_l23e
            } else {
                w
            };
            Dist::normal(mean, self.w_rel_sd * mean).clipped(0.0, f64::INFINITY)
        } else {
            let mean = self.g * w;
            Dist::normal(mean, self.w_rel_sd * mean.abs()).clipped(f64::NEG_INFINITY, 0.0)
        }
    }

    /// Delays from population `source`; draws below dt are set to dt.
    fn delay(&self, source: usize) -> Dist {
        let mean = if self.is_excitatory(source) {
            self.delay_exc
        } else {
            self.delay_inh
        };
        Dist::normal(mean, self.delay_rel_sd * mean).clamped(self.dt, f64::INFINITY)
    }

    /// Synapses into `target` at its scaled size from `k_full` at full scale. K scales with
    /// the target population, so the in-degree is kept.
    fn scaled_synapses(&self, k_full: f64, sizes: &[u32], target: usize) -> u64 {
        (k_full * sizes[target] as f64 / self.sizes[target] as f64).round() as u64
    }
}

/// The recurrent projections and the Poisson background, target by target (the order of the
/// network's draws).
fn connect_populations(
    net: &mut Network,
    params: &Pd14,
    pops: &[PopulationId],
    sizes: &[u32],
) -> Result<()> {
    for target in 0..pops.len() {
        for source in 0..pops.len() {
            let k_full = params.full_scale_synapses(target, source);
            let k = params.scaled_synapses(k_full as f64, sizes, target);
            if k > 0 {
                net.connect(
                    pops[source],
                    pops[target],
                    Connectivity::FixedTotalNumber(k),
                    params.weight(source, target),
                    params.delay(source),
                )?;
            }
        }
        net.poisson(
            pops[target],
            PoissonInput {
                in_degree: params.k_ext[target],
                rate_hz: params.bg_rate,
                weight_pa: params.w_mean,
            },
        )?;
    }
    Ok(())
}

/// The thalamic pulse: a spike source projecting to L4 and L6 with excitatory synapses.
fn add_thalamus(
    net: &mut Network,
    params: &Pd14,
    pops: &[PopulationId],
    sizes: &[u32],
    scale: f64,
    seed: u64,
) -> Result<()> {
    let n_th = ((THALAMUS_SIZE as f64 * scale).round() as u32).max(1);
    let th = net.spike_source("thalamus", thalamic_spike_times(n_th, seed))?;
    for (target, &p) in THALAMUS_PROBS.iter().enumerate() {
        if p > 0.0 {
            let k_full = synapses_for(p, THALAMUS_SIZE, params.sizes[target]) as f64;
            let k = params.scaled_synapses(k_full, sizes, target);
            // Population 0 (L23E) is excitatory: its weights and delays are the thalamus's.
            net.connect(
                th,
                pops[target],
                Connectivity::FixedTotalNumber(k),
                params.weight(0, target),
                params.delay(0),
            )?;
        }
    }
    Ok(())
}

/// Poisson spike times in the pulse window for `n_th` thalamic neurons, counter-based per
/// neuron so that they do not depend on the order they are drawn in.
fn thalamic_spike_times(n_th: u32, seed: u64) -> Vec<Vec<f64>> {
    let key = KeyHasher::default().str("thalamus").finish();
    (0..n_th)
        .map(|i| {
            let mut rng = stream(seed, key, i as u64);
            let mut t = THALAMUS_START_MS;
            let mut spikes = Vec::new();
            loop {
                let u: f64 = 1.0 - rng.random::<f64>();
                t += -u.ln() / THALAMUS_RATE_HZ * 1e3;
                if t >= THALAMUS_START_MS + THALAMUS_DURATION_MS {
                    break spikes;
                }
                spikes.push(t);
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_model_has_about_3e8_synapses() {
        let p = Pd14::shipped().unwrap();
        assert_eq!(p.sizes.iter().sum::<u32>(), 77_169);
        let total: u64 = (0..8)
            .flat_map(|t| (0..8).map(move |s| (t, s)))
            .map(|(t, s)| p.full_scale_synapses(t, s))
            .sum();
        assert!((2.9e8..3.1e8).contains(&(total as f64)), "{total}");
    }

    #[test]
    fn the_thalamic_pulse_fires_at_120_hz_from_700_ms_for_10_ms() {
        let m = build(0.1, 4, true).unwrap();
        let th = m
            .network
            .populations()
            .iter()
            .find(|p| p.name == "thalamus")
            .unwrap();
        let crate::model::NeuronKind::SpikeSource(times) = &th.kind else {
            panic!("not a spike source")
        };
        assert_eq!(times.len(), 90);
        let all: Vec<f64> = times.iter().flatten().copied().collect();
        assert!(all.iter().all(|t| (700.0..710.0).contains(t)));
        let rate = all.len() as f64 / 90.0 / 0.010;
        assert!((rate - 120.0).abs() < 25.0, "{rate} Hz");
    }

    #[test]
    fn a_scale_that_empties_a_population_is_refused() {
        let err = build(1e-5, 1, false).err().unwrap().to_string();
        assert!(err.contains("no neurons"), "{err}");
        assert!(build(-1.0, 1, false).is_err());
    }
}
