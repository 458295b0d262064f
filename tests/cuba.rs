//! The CUBA benchmark against Brian2, and the fixed-point quantisation of its inputs.

mod common;
use lamina::builtin::cuba;
use lamina::prelude::*;

/// Brian2 2.9.0 on the same network (benches/peers/brian2_cuba.py, N = 4000, 1 s, delays of
/// one step), seeds 1..8: mean rate 5.675 Hz, SD across seeds 0.197 Hz (3.5%); results in
/// benches/peers/RESULTS_brian2.md.
const BRIAN2_RATE_HZ: f64 = 5.675;
/// The 4-seed mean must fall within 6% of Brian2's: about 2.4 standard errors of the difference
/// between two 4- and 8-seed means with a 3.5% seed-to-seed SD.
const TOLERANCE: f64 = 0.06;

on_every_backend! {
    fn mean_rate_matches_brian2(backend: BackendChoice) {
        let seeds = [1u64, 2, 3, 4];
        let mut rates = Vec::new();
        for seed in seeds {
            let m = cuba::build(4000, seed)?;
            let mut sim = Simulator::new(&m.network, backend.clone())?;
            sim.run(1.0)?;
            let spikes = sim.spikes(&m.exc_spikes)?.steps.len() + sim.spikes(&m.inh_spikes)?.steps.len();
            rates.push(spikes as f64 / 4000.0 / sim.time());
        }
        let mean = rates.iter().sum::<f64>() / rates.len() as f64;
        let rel = (mean - BRIAN2_RATE_HZ).abs() / BRIAN2_RATE_HZ;
        eprintln!("cuba rates {rates:?}, mean {mean:.3} Hz vs Brian2 {BRIAN2_RATE_HZ} Hz ({:.1}%)", rel * 100.0);
        assert!(rel < TOLERANCE, "mean rate {mean} Hz is {:.1}% from Brian2's {BRIAN2_RATE_HZ} Hz", rel * 100.0);
        Ok(())
    }
}

#[test]
fn quantisation_step_is_below_1e_4_of_the_typical_weight() -> Result<()> {
    let m = cuba::build(4000, 1)?;
    let plan = lamina::lower::build(&m.network)?;
    for (p, scales) in plan.scales.iter().enumerate() {
        for s in scales {
            assert!(s.typical_pa > 0.0, "population {p} has an unused channel");
            assert!(
                s.relative_step() < 1e-4,
                "population {p}: step {} pA vs weight {} pA",
                s.step_pa(),
                s.typical_pa
            );
        }
    }
    Ok(())
}

#[test]
fn quantisation_holds_at_microcircuit_fan_in() -> Result<()> {
    // An L2/3E-like target: 10,000 synapses in (88 pA excitatory, -351 pA inhibitory) plus 1,600
    // Poisson sources at 8 Hz: the worst case for the fixed-point range.
    let mut net = Network::new();
    let src_e = net.population("src_e", 8000, LifCurrent::default())?;
    let src_i = net.population("src_i", 2000, LifCurrent::default())?;
    let tgt = net.population("tgt", 10, LifCurrent::default())?;
    net.connect(
        src_e,
        tgt,
        Connectivity::AllToAll,
        Dist::normal(87.8, 8.8).clipped(0.0, 1e9),
        1.5,
    )?;
    net.connect(
        src_i,
        tgt,
        Connectivity::AllToAll,
        Dist::normal(-351.2, 35.1).clipped(-1e9, 0.0),
        0.8,
    )?;
    net.poisson(
        tgt,
        PoissonInput {
            in_degree: 1600,
            rate_hz: 8.0,
            weight_pa: 87.8,
        },
    )?;
    let plan = lamina::lower::build(&net)?;
    for s in &plan.scales[2] {
        assert!(
            s.relative_step() < 1e-4,
            "step {} pA vs weight {} pA",
            s.step_pa(),
            s.typical_pa
        );
        assert!(
            s.bound_pa * s.scale() < 2f64.powi(31),
            "the worst case must fit in i32"
        );
    }
    Ok(())
}
