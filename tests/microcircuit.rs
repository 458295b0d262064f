//! The Potjans-Diesmann microcircuit, scaled down: the full model is a benchmark
//! (`lamina run microcircuit`), these check its construction and its run on both backends.

mod common;
use common::assert_same_spikes;
use lamina::builtin::microcircuit;
use lamina::prelude::*;

const SCALE: f64 = 0.02;

/// A fingerprint of everything a plan holds.
fn plan_hash(plan: &lamina::lower::Plan) -> u64 {
    let mut h = lamina::rng::KeyHasher::default();
    for w in plan.syn_words.iter().chain(&plan.row_ptr) {
        h = h.u64(*w as u64);
    }
    for v in plan.v_init.iter().chain(&plan.v_drive) {
        h = h.u64(v.to_bits() as u64);
    }
    for s in plan.scales.iter().flatten() {
        h = h.u64(s.exponent as u64);
    }
    h.finish()
}

#[test]
fn construction_does_not_depend_on_the_thread_count() -> Result<()> {
    let m = microcircuit::build(SCALE, 3, true)?;
    let hashes: Vec<u64> = [1, 2, 3]
        .iter()
        .map(|&threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| lamina::lower::build(&m.network).map(|p| plan_hash(&p)))
        })
        .collect::<Result<_>>()?;
    assert_eq!(hashes[0], hashes[1]);
    assert_eq!(hashes[0], hashes[2]);
    Ok(())
}

#[test]
fn the_scaled_model_keeps_in_degrees_and_fits_in_8_bytes_per_synapse() -> Result<()> {
    let m = microcircuit::build(SCALE, 1, false)?;
    let plan = lamina::lower::build(&m.network)?;
    let p = &m.params;
    let full: u64 = (0..8)
        .flat_map(|t| (0..8).map(move |s| (t, s)))
        .map(|(t, s)| p.full_scale_synapses(t, s))
        .sum();
    let ratio = plan.synapse_count() as f64 / (full as f64 * SCALE);
    assert!(
        (ratio - 1.0).abs() < 0.01,
        "synapses scale linearly: ratio {ratio}"
    );
    let bytes = plan.buffer_bytes() as f64 / plan.synapse_count() as f64;
    assert!(bytes < 8.0, "{bytes} device bytes per synapse");
    assert_eq!(plan.syn_format.record_bits, 48);
    Ok(())
}

on_every_backend! {
    fn a_scaled_run_is_active_in_every_population_and_repeatable(backend: BackendChoice) {
        let m = microcircuit::build(SCALE, 1, false)?;
        let run = || -> Result<Vec<SpikeTrains>> {
            let mut sim = Simulator::new(&m.network, backend.clone())?;
            assert_eq!(sim.dispatches_per_step(), 2, "one update, one propagation");
            sim.run(0.05)?;
            m.spikes.iter().map(|p| sim.spikes(p).cloned()).collect()
        };
        let (a, b) = (run()?, run()?);
        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(!x.steps.is_empty(), "{} is silent", m.params.populations[k]);
            assert_same_spikes(&m.params.populations[k], x, y);
        }
        Ok(())
    }
}

#[test]
fn gpu_and_cpu_agree_on_the_scaled_microcircuit() -> Result<()> {
    let Some(gpu) = common::gpu_or_skip() else {
        return Ok(());
    };
    let m = microcircuit::build(SCALE, 2, true)?;
    let mut cpu_sim = Simulator::new(&m.network, BackendChoice::Cpu)?;
    let mut gpu_sim = Simulator::new(&m.network, gpu)?;
    cpu_sim.run_steps(400)?;
    gpu_sim.run_steps(400)?;
    for (k, probe) in m.spikes.iter().enumerate() {
        assert_same_spikes(
            &m.params.populations[k],
            cpu_sim.spikes(probe)?,
            gpu_sim.spikes(probe)?,
        );
    }
    Ok(())
}

#[test]
fn a_duration_shorter_than_dt_is_refused() -> Result<()> {
    let m = microcircuit::build(SCALE, 1, false)?;
    let mut sim = Simulator::new(&m.network, BackendChoice::Cpu)?;
    let err = sim.run(1e-5).unwrap_err().to_string();
    assert!(err.contains("shorter than one step"), "{err}");
    Ok(())
}
