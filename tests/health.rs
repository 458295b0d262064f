//! The numerical health check: a state that becomes NaN or infinite, or input outside the
//! fixed-point range, stops the run with an error naming the first step, the population and
//! the neuron, on the GPU and on its CPU twin alike; a healthy run is not changed by a bit.

mod common;
use common::{assert_same, assert_same_spikes, recurrent};
use lamina::lower::layout::INPUT_BOUND;
use lamina::prelude::*;
use std::sync::Arc;

/// `calm` (10 neurons) and `hot` (5 neurons whose constant current overflows float32 in the
/// voltage update: 1e10 pA into 1e-30 pF), with `hot` ablated until `restore_at` so that its
/// first overflow is at a known step.
fn overflowing(backend: &BackendChoice) -> Result<(Simulator, PopulationId)> {
    let mut net = Network::new().with_seed(5);
    net.population("calm", 10, LifCurrent::default())?;
    let hot = net.population(
        "hot",
        5,
        LifCurrent {
            c_m_pf: 1e-30,
            i_e_pa: 1e10,
            ..LifCurrent::default()
        },
    )?;
    let mut sim = Simulator::new(&net, backend.clone())?;
    sim.set_health_check(true);
    sim.ablate(hot, &[0, 1, 2, 3, 4])?;
    Ok((sim, hot))
}

/// Decoders trained by PES with a learning rate far too large: each update overshoots the
/// error by more than the error itself, so it grows geometrically until it overflows.
fn diverging(backend: &BackendChoice, rate: f64) -> Result<(Simulator, NefProbeId)> {
    let mut net = NefNetwork::new().with_seed(3);
    let stim = net.node("stim", Node::function(1, |t| vec![(6.0 * t).sin()]))?;
    let a = net.ensemble("a", Ensemble::new(40, 1))?;
    let b = net.node("b", Node::passthrough(1))?;
    net.connect(stim, a, Connection::new())?;
    let conn = net.connect(a, b, Connection::new())?;
    let error = net.node("error", Node::passthrough(1))?;
    net.connect(b, error, Connection::new())?;
    net.connect(
        stim,
        error,
        Connection::new().transform(ndarray::array![[-1.0]]),
    )?;
    let pes = net.pes(conn, Pes::new(rate))?;
    net.connect(error, pes, Connection::new())?;
    let p = net.probe(b, Probe::new())?;
    let mut sim = Simulator::new(&net, backend.clone())?;
    sim.set_health_check(true);
    Ok((sim, p))
}

on_every_backend! {
    fn a_diverging_learning_rule_is_reported(backend: BackendChoice) {
        let (mut sim, _) = diverging(&backend, 1.0)?;
        let err = sim.run(2.0).unwrap_err();
        assert!(matches!(err, Error::Numerical(_)), "{err:?}");
        let text = err.to_string();
        for part in ["connection 1's weight", "probe 0 first reads", "learning rate"] {
            assert!(text.contains(part), "`{part}` not in: {text}");
        }
        // The same rule with a sane rate runs clean, with the check on.
        let (mut sane, p) = diverging(&backend, 1e-4)?;
        sane.run(2.0)?;
        assert!(sane.data(p)?.iter().all(|x| x.is_finite()));
        Ok(())
    }


    fn an_overflow_is_reported_at_its_first_step_population_and_neuron(backend: BackendChoice) {
        let (mut sim, hot) = overflowing(&backend)?;
        sim.run_steps(123)?;
        sim.restore(hot, &[4, 2])?;
        let err = sim.run_steps(500).unwrap_err();
        assert!(matches!(err, Error::Numerical(_)), "{err:?}");
        let text = err.to_string();
        for part in ["step 123 ", "t = 12.3 ms", "population `hot` neuron 2 ", "v became NaN or infinite", "c_m_pf"] {
            assert!(text.contains(part), "`{part}` not in: {text}");
        }
        // The chunk ran to its end; the error says so.
        assert_eq!(sim.n_steps(), 623);
        assert!(text.contains("went on to step 623"), "{text}");
        Ok(())
    }

    fn without_the_check_the_same_run_goes_on_silently(backend: BackendChoice) {
        let (mut sim, hot) = overflowing(&backend)?;
        sim.set_health_check(false);
        sim.restore(hot, &[0])?;
        sim.run_steps(200)?;
        assert!(!sim.health_check());
        Ok(())
    }

    fn input_beyond_the_fixed_point_range_is_reported(backend: BackendChoice) {
        // A plan changed after the build so that two Poisson spikes in one step reach 2^30
        // units: what the build's choice of scale rules out, and the check must catch.
        let mut net = Network::new().with_seed(2);
        let pop = net.population("target", 20, LifCurrent::default())?;
        net.poisson(pop, PoissonInput { in_degree: 1000, rate_hz: 10.0, weight_pa: 1.0 })?;
        let mut plan = lamina::lower::build(&net)?;
        plan.poisson[0].weight_q = INPUT_BOUND / 2;
        let mut sim = Simulator::from_plan(Arc::new(plan), backend.clone())?;
        sim.set_health_check(true);
        let err = sim.run_steps(1000).unwrap_err().to_string();
        assert!(err.contains("the excitatory input left the fixed-point range"), "{err}");
        assert!(err.contains("population `target`") && err.contains("rebuild"), "{err}");
        Ok(())
    }

    fn the_check_changes_no_bit_of_a_healthy_run(backend: BackendChoice) {
        let (net, spikes, state, _) = recurrent(11)?;
        let mut runs = Vec::new();
        for on in [false, true] {
            let mut sim = Simulator::new(&net, backend.clone())?;
            sim.set_health_check(on);
            sim.run_steps(2100)?;
            runs.push(sim);
        }
        assert_same_spikes("check on vs off", runs[0].spikes(&spikes)?, runs[1].spikes(&spikes)?);
        let v = |s: &Simulator| -> Vec<u32> {
            s.state(&state, StateVar::V).unwrap().iter().map(|x| x.to_bits()).collect()
        };
        assert_same("v, check on vs off", &v(&runs[0]), &v(&runs[1]));
        Ok(())
    }
}

#[test]
fn gpu_and_cpu_report_the_same_fault() {
    let Some(gpu) = common::gpu_or_skip() else {
        return;
    };
    let report = |backend: &BackendChoice| {
        let (mut sim, hot) = overflowing(backend).unwrap();
        sim.run_steps(1500).unwrap();
        sim.restore(hot, &[3, 1, 4]).unwrap();
        sim.run_steps(100).unwrap_err().to_string()
    };
    let (cpu, gpu) = (report(&BackendChoice::Cpu), report(&gpu));
    assert_eq!(cpu, gpu);
    assert!(
        cpu.contains("step 1500 ") && cpu.contains("neuron 1 "),
        "{cpu}"
    );
}
