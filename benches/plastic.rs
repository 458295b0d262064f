//! The step cost of STDP: one sparse projection with per-synapse delays (1 to 5 ms), run once
//! static and once plastic (the built-in pair-based STDP), at 1e6 and 1e7 synapses, on the CPU
//! twin and on a GPU adapter when there is one. The source is 10,000 Poisson-like spike
//! sources at 10 Hz (spike times drawn on the host), the target 1,000 LIF neurons held just under
//! threshold by a constant current (less for more synapses) so that they fire from the input's
//! fluctuations, so pre arrivals and post spikes both do their work.
//!
//! cargo bench --bench plastic
//!
//! Each case opens its simulator, runs 100 ms to settle, then times `LAMINA_PLASTIC_REPEATS`
//! (3 by default) runs of 100 ms, alternating static and plastic so that both see the same
//! machine load; prints one JSON line per case (ms per step: median and best) and then a
//! table with the plastic / static ratio. `LAMINA_PLASTIC_SYNAPSES` (comma separated) replaces
//! the sizes. Not part of CI: it is a measurement, not a test.

use lamina::exec::gpu;
use lamina::prelude::*;
use std::time::Instant;

const N_PRE: u32 = 10_000;
const N_POST: u32 = 1_000;
const RATE_HZ: f64 = 10.0;
const DT_MS: f64 = 0.1;
const WINDOW_S: f64 = 0.1;

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|s| s.trim().parse().ok())
}

/// The network of `synapses` synapses (fixed in-degree), plastic or static. Spike times are
/// drawn for `seconds` from a fixed hash, so every case sees the same input.
fn network(synapses: u64, plastic: bool, seconds: f64) -> Result<(Network, ProjectionId)> {
    let mut net = Network::new().with_seed(11).with_dt_ms(DT_MS);
    let times: Vec<Vec<f64>> = (0..N_PRE as u64)
        .map(|i| {
            let mut t = 0.0;
            let mut out = Vec::new();
            for k in 0.. {
                let h = lamina::rng::mix64(i << 32 | k);
                let u = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                t -= u.ln() * 1000.0 / RATE_HZ;
                if t >= seconds * 1000.0 {
                    break;
                }
                out.push(t);
            }
            out
        })
        .collect();
    let pre = net.spike_source("pre", times)?;
    let in_degree = (synapses / N_POST as u64) as u32;
    // The mean synaptic drive (in-degree x rate x mean weight x tau_syn) plus this current stay
    // just under the rheobase (375 pA), whatever the size: the post neurons fire from the
    // fluctuations, at similar rates in every case.
    let mean_drive_pa = in_degree as f64 * RATE_HZ * 1.25 * 2e-3;
    let post = net.population(
        "post",
        N_POST,
        LifCurrent {
            i_e_pa: 370.0 - mean_drive_pa,
            ..LifCurrent::default()
        },
    )?;
    let proj = net.connect(
        pre,
        post,
        Connectivity::FixedInDegree(in_degree),
        // Not below 0.5 pA: with 10,000 inputs a neuron's fixed-point step is about 1.5e-5 pA,
        // and a static synapse far smaller than that is refused.
        Values::Dist(Dist::Uniform {
            low: 0.5,
            high: 2.0,
        }),
        Values::Dist(Dist::Uniform {
            low: 1.0,
            high: 5.0,
        }),
    )?;
    if plastic {
        net.stdp(proj, Stdp::song_abbott(2.0))?;
    }
    Ok((net, proj))
}

struct Case {
    backend: &'static str,
    synapses: u64,
    static_ms: Vec<f64>,
    plastic_ms: Vec<f64>,
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn best(xs: &[f64]) -> f64 {
    xs.iter().cloned().fold(f64::INFINITY, f64::min)
}

fn measure(
    backend: &'static str,
    choice: &BackendChoice,
    synapses: u64,
    repeats: usize,
) -> Result<Case> {
    let seconds = WINDOW_S * (repeats + 1) as f64;
    let mut sims = Vec::new();
    for plastic in [false, true] {
        let (net, _) = network(synapses, plastic, seconds)?;
        let mut sim = Simulator::new(&net, choice.clone())?;
        let plan = sim.plan();
        let plastic_count = plan.plastic.as_ref().map_or(0, |p| p.syns.len() as u64);
        eprintln!(
            "plastic bench: {} synapses, {}, on {}",
            plan.synapse_count() + plastic_count,
            if plastic { "plastic" } else { "static" },
            sim.backend_description()
        );
        sim.run(WINDOW_S)?;
        sims.push(sim);
    }
    let steps = (WINDOW_S * 1000.0 / DT_MS).round();
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..repeats {
        for (k, sim) in sims.iter_mut().enumerate() {
            let t = Instant::now();
            sim.run(WINDOW_S)?;
            times[k].push(t.elapsed().as_secs_f64() * 1e3 / steps);
        }
    }
    let [static_ms, plastic_ms] = times;
    Ok(Case {
        backend,
        synapses,
        static_ms,
        plastic_ms,
    })
}

fn main() -> Result<()> {
    let repeats: usize = env("LAMINA_PLASTIC_REPEATS").unwrap_or(3).max(1);
    let sizes: Vec<u64> = std::env::var("LAMINA_PLASTIC_SYNAPSES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000_000, 10_000_000]);
    let mut backends = vec![("cpu", BackendChoice::Cpu)];
    let opts = GpuOptions::from_env();
    if !gpu::adapters(opts.api.as_deref())
        .unwrap_or_default()
        .is_empty()
    {
        backends.push(("gpu", BackendChoice::Gpu(opts)));
    } else {
        eprintln!("plastic bench: no GPU adapter, the CPU twin only");
    }
    let mut cases = Vec::new();
    for &synapses in &sizes {
        for (name, choice) in &backends {
            let c = measure(name, choice, synapses, repeats)?;
            println!(
                "{}",
                serde_json::json!({
                    "bench": "plastic",
                    "backend": c.backend,
                    "synapses": c.synapses,
                    "static_ms_per_step": median(&c.static_ms),
                    "static_ms_per_step_best": best(&c.static_ms),
                    "plastic_ms_per_step": median(&c.plastic_ms),
                    "plastic_ms_per_step_best": best(&c.plastic_ms),
                    "ratio": median(&c.plastic_ms) / median(&c.static_ms),
                    "repeats": repeats,
                })
            );
            cases.push(c);
        }
    }
    println!("\n| backend | synapses | static ms/step | plastic ms/step | plastic / static |");
    println!("|---|---:|---:|---:|---:|");
    for c in &cases {
        println!(
            "| {} | {:.0e} | {:.3} | {:.3} | {:.2} |",
            c.backend,
            c.synapses as f64,
            median(&c.static_ms),
            median(&c.plastic_ms),
            median(&c.plastic_ms) / median(&c.static_ms)
        );
    }
    Ok(())
}
