//! User-defined neuron models: snippets checked with naga, errors in the snippet's own lines,
//! and the models running like the built-in kinds (projections, delays, Poisson and current
//! inputs, probes, ablation, the health check) on both backends.

mod common;
use lamina::lower::propagators::Propagators;
use lamina::prelude::*;

/// The snippet error of a model that should not check.
fn snippet_error(model: NeuronModel) -> (String, usize, usize, String) {
    match model.check() {
        Err(Error::Snippet {
            model: m,
            snippet,
            line,
            column,
            message,
        }) => {
            assert_eq!(m, model.name());
            (snippet, line, column, message)
        }
        other => panic!("expected a snippet error, got {other:?}"),
    }
}

/// A model that passes every check, to break one piece at a time.
fn counter() -> NeuronModel {
    NeuronModel::new("counter")
        .state("x", 0.0)
        .param("limit", 10.0)
        .update("x = x + 1.0;")
        .threshold("x >= limit")
        .reset("x = 0.0;")
}

#[test]
fn broken_snippets_are_reported_in_their_own_lines() {
    let (snippet, line, _, message) = snippet_error(counter().update("let a = 1.0;\nx = x + ;"));
    assert_eq!((snippet.as_str(), line), ("update", 2), "{message}");
    assert!(message.contains("2 | x = x + ;"), "{message}");

    let (snippet, line, column2, message) = snippet_error(counter().threshold("x >= limt"));
    assert_eq!(
        (snippet.as_str(), line, column2),
        ("threshold", 1, 6),
        "{message}"
    );
    assert!(message.contains("limt"), "{message}");

    // A threshold must be a bool.
    let (snippet, line, _, message) = snippet_error(counter().threshold("x + 1.0"));
    assert_eq!((snippet.as_str(), line), ("threshold", 1), "{message}");

    // Parameters and inputs are read-only; the message says which values may be written.
    let (snippet, line, _, message) = snippet_error(counter().reset("x = 0.0;\nlimit = 3.0;"));
    assert_eq!((snippet.as_str(), line), ("reset", 2), "{message}");
    assert!(message.contains("read-only"), "{message}");
    let (snippet, _, _, message) = snippet_error(counter().update("in_ex = 1.0;"));
    assert_eq!(snippet, "update", "{message}");

    // A type error: a u32 added to an f32.
    let (snippet, line, _, message) = snippet_error(counter().update("x = x + index;"));
    assert_eq!((snippet.as_str(), line), ("update", 1), "{message}");
}

#[test]
fn declarations_are_checked_before_the_snippets() {
    let cases = [
        (
            NeuronModel::new("m").update(";").threshold("true"),
            "state variables",
        ),
        (counter().update(""), "no update"),
        (counter().threshold(" "), "no threshold"),
        (counter().param("in_ex", 1.0), "lamina provides"),
        (counter().param("nm_x", 1.0), "lamina provides"),
        (counter().state("2x", 0.0), "not a WGSL identifier"),
        (counter().param("x", 1.0), "twice"),
        (counter().param("k", f64::NAN), "finite"),
        (counter().state("y", Dist::uniform(1.0, 0.0)), "low <= high"),
        (counter().refractory_ms(-1.0), "refractory_ms"),
        (counter().reset("if (x > 1.0) { return; }"), "return"),
    ];
    for (model, expect) in cases {
        let got = model.check();
        assert!(
            matches!(&got, Err(Error::Validation(m)) if m.contains(expect)),
            "{expect}: {got:?}"
        );
    }
    let many = (0..17).fold(counter(), |m, k| m.state(&format!("s{k}"), 0.0));
    assert!(matches!(many.check(), Err(Error::Validation(m)) if m.contains("1 to 16")));
    // A name that is a WGSL keyword compiles nowhere: a declaration error, not a snippet one.
    let keyword = counter().param("loop", 1.0).check();
    assert!(
        matches!(&keyword, Err(Error::Validation(m)) if m.contains("declarations")),
        "{keyword:?}"
    );
    // The network checks a model when its population is added.
    let mut net = Network::new();
    let added = net.neurons("bad", 10, counter().update("x = y;"));
    assert!(matches!(added, Err(Error::Snippet { .. })), "{added:?}");
    assert!(counter().with_param("nope", 1.0).is_err());
    izhikevich(IzhikevichParams::default())
        .check()
        .expect("izhikevich checks");
}

/// `LifCurrent` written as a user-defined model, operation for operation as the built-in
/// neuron update, with the propagators computed on the host as the build does.
fn lif_as_snippets(n: &LifCurrent, dt_ms: f64) -> NeuronModel {
    let p = Propagators::new(n, dt_ms);
    NeuronModel::new("lif_snippets")
        .state("v", n.v_init_mv.clone())
        .state("i_ex", 0.0)
        .state("i_in", 0.0)
        .param("p22", p.p22)
        .param("p21_ex", p.p21_ex)
        .param("p21_in", p.p21_in)
        .param("p11_ex", p.p11_ex)
        .param("p11_in", p.p11_in)
        .param("drive", p.v_drive(n, n.i_e_pa) as f32 as f64)
        .param("v_th", n.v_th_mv)
        .param("v_reset", n.v_reset_mv)
        .refractory_ms(n.t_ref_ms)
        .update(
            "if (!refractory) {
                 let syn = rn(rn(p21_ex * i_ex) + rn(rn(p21_in * i_in) + drive));
                 v = rn(rn(p22 * v) + syn);
             }
             i_ex = flush(rn(rn(p11_ex * i_ex) + in_ex));
             i_in = flush(rn(rn(p11_in * i_in) + in_in));",
        )
        .threshold("v > v_th")
        .reset("v = v_reset;")
        .cpu_twin(|x, s| {
            let p = x.params;
            let flush = |y: f32| if y.abs() < f32::MIN_POSITIVE { 0.0 } else { y };
            if !x.refractory {
                let syn = p[1] * s[1] + (p[2] * s[2] + p[5]);
                s[0] = p[0] * s[0] + syn;
            }
            s[1] = flush(p[3] * s[1] + x.in_ex);
            s[2] = flush(p[4] * s[2] + x.in_in);
            let fired = !x.refractory && s[0] > p[6];
            if fired {
                s[0] = p[7];
            }
            fired
        })
}

/// A recurrent network of one population of `kind` with Poisson drive, excitatory and
/// inhibitory delayed projections, and a spike source; probes on everything.
fn recurrent(
    kind: Option<NeuronModel>,
    lif: &LifCurrent,
) -> Result<(Network, PopulationId, SpikeProbe, StateProbe)> {
    let mut net = Network::new().with_seed(7);
    let pop = match kind {
        Some(model) => net.neurons("pop", 200, model)?,
        None => net.population("pop", 200, lif.clone())?,
    };
    let stim = net.spike_source("stim", (0..20).map(|k| vec![5.0 + k as f64]).collect())?;
    net.poisson(
        pop,
        PoissonInput {
            in_degree: 50,
            rate_hz: 40.0,
            weight_pa: 90.0,
        },
    )?;
    net.connect(
        pop.slice(0..160),
        pop,
        Connectivity::FixedProbability(0.1),
        60.0,
        Dist::uniform(0.5, 3.0),
    )?;
    net.connect(
        pop.slice(160..200),
        pop,
        Connectivity::FixedProbability(0.1),
        -200.0,
        1.0,
    )?;
    net.connect(stim, pop.slice(0..50), Connectivity::AllToAll, 120.0, 2.0)?;
    let spikes = net.probe_spikes(pop)?;
    let state = net.probe_state(pop.slice(0..10), 0.1)?;
    Ok((net, pop, spikes, state))
}

on_every_backend! {
    fn lif_written_as_snippets_matches_the_built_in_lif_bit_for_bit(backend: BackendChoice) {
        let lif = LifCurrent { v_init_mv: Dist::Const(-65.0), ..LifCurrent::default() };
        let model = lif_as_snippets(&lif, 0.1);
        let (built_in, _, s1, v1) = recurrent(None, &lif)?;
        let (custom, _, s2, v2) = recurrent(Some(model), &lif)?;
        let mut a = Simulator::new(&built_in, backend.clone())?;
        let mut b = Simulator::new(&custom, backend)?;
        a.run(0.3)?;
        b.run(0.3)?;
        let (ta, tb) = (a.spikes(&s1)?, b.spikes(&s2)?);
        assert!(ta.steps.len() > 200, "only {} spikes", ta.steps.len());
        assert_eq!(ta.hash(), tb.hash(), "spike trains differ");
        // A state probe on a user-defined population records its first variable as V.
        let (va, vb) = (a.state(&v1, StateVar::V)?, b.state(&v2, StateVar::V)?);
        common::assert_same("v", va.as_slice().unwrap(), vb.as_slice().unwrap());
        // Its other columns are not the model's: asking for them is an error that says why.
        let other = b.state(&v2, StateVar::ISynEx);
        assert!(matches!(&other, Err(Error::Simulation(m)) if m.contains("neuron_state")), "{other:?}");
        Ok(())
    }

    fn izhikevich_fires_as_a_plain_replay_of_its_equations(backend: BackendChoice) {
        // A regular-spiking neuron under a constant 10 pA: tonic firing with adaptation.
        let dt = 0.1;
        let p = IzhikevichParams::REGULAR_SPIKING;
        let mut net = Network::new().with_dt_ms(dt);
        let pop = net.neurons("rs", 1, izhikevich(p))?;
        net.current(pop, 10.0)?;
        let probe = net.probe_spikes(pop)?;
        let mut sim = Simulator::new(&net, backend)?;
        sim.run(1.0)?;
        let got = &sim.spikes(&probe)?.steps;
        // The same scheme in f64.
        let (mut v, mut u) = (p.v_init, p.b * p.v_init);
        let mut want = Vec::new();
        for step in 0..10_000u64 {
            for _ in 0..2 {
                v += 0.5 * dt * (0.04 * v * v + 5.0 * v + 140.0 - u + 10.0);
            }
            u += dt * p.a * (p.b * v - u);
            if v >= 30.0 {
                want.push(step);
                v = p.c;
                u += p.d;
            }
        }
        assert!(want.len() > 5, "{want:?}");
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        // f32 against f64: each interval can end a step apart, and the phase drifts slowly.
        for (g, w) in got.iter().zip(&want) {
            let tolerance = 1 + w / 2000;
            assert!(g.abs_diff(*w) <= tolerance, "spike at step {g}, the f64 replay's at {w}");
        }
        // Adaptation: the intervals grow.
        assert!(want[2] - want[1] > want[1] - want[0]);
        Ok(())
    }

    fn state_and_parameters_between_steps_and_ablation(backend: BackendChoice) {
        let mut net = Network::new();
        let model = counter()
            .state("total", 0.0)
            .update("x = x + 1.0;\ntotal = total + 1.0;")
            .cpu_twin(|inp, s| {
                s[0] += 1.0;
                s[1] += 1.0;
                let fired = !inp.refractory && s[0] >= inp.params[0];
                if fired {
                    s[0] = 0.0;
                }
                fired
            });
        let pop = net.neurons("c", 4, model)?;
        let lif = net.population("lif", 1, LifCurrent::default())?;
        let probe = net.probe_spikes(pop)?;
        let mut sim = Simulator::new(&net, backend)?;
        sim.run_steps(25)?;
        // Fires at steps 9 and 19 (x reaches 10 on the 10th update).
        let first: Vec<u64> = sim.spikes(&probe)?.steps.iter().step_by(4).copied().collect();
        assert_eq!(first, vec![9, 19]);
        assert_eq!(sim.neuron_state(pop, "x")?, vec![5.0; 4]);
        assert_eq!(sim.neuron_state(pop, "total")?, vec![25.0; 4]);
        assert_eq!(sim.neuron_param(pop, "limit")?, 10.0);
        sim.set_neuron_param(pop, "limit", 7.0)?;
        sim.set_neuron_state(pop, "total", &[1.0, 2.0, 3.0, 4.0])?;
        sim.set_neuron_state(pop, "x", &[0.0, 1.0, 2.0, 3.0])?;
        sim.ablate(pop, &[3])?;
        sim.run_steps(5)?;
        let late: Vec<(u64, u32)> = {
            let t = sim.spikes(&probe)?;
            t.steps.iter().zip(&t.neurons).filter(|(s, _)| **s >= 25).map(|(s, n)| (*s, *n)).collect()
        };
        // Neuron 2 reaches 7 after 5 updates, neuron 1 would after 6; ablated neuron 3 (at 3,
        // which would reach 7 first) is frozen.
        assert_eq!(late, vec![(29, 2)]);
        assert_eq!(sim.neuron_state(pop, "total")?, vec![6.0, 7.0, 8.0, 4.0]);
        assert_eq!(sim.neuron_state(pop, "x")?, vec![5.0, 6.0, 0.0, 3.0]);

        for bad in [
            sim.neuron_state(pop, "y").map(|_| ()),
            sim.neuron_state(lif, "v").map(|_| ()),
            sim.set_neuron_state(pop, "x", &[1.0]),
            sim.set_neuron_state(pop, "x", &[f32::NAN; 4]),
            sim.set_neuron_param(pop, "limit", f64::INFINITY),
            sim.neuron_param(pop, "x").map(|_| ()),
        ] {
            assert!(matches!(&bad, Err(Error::Simulation(_))), "{bad:?}");
        }
        let unknown = sim.neuron_state(pop, "y");
        assert!(matches!(&unknown, Err(Error::Simulation(m)) if m.contains("`x`, `total`")), "{unknown:?}");
        Ok(())
    }

    fn a_checkpoint_carries_the_models_state_and_parameters(backend: BackendChoice) {
        let lif = LifCurrent::default();
        let (mut net, pop, spikes, _) = recurrent(Some(lif_as_snippets(&lif, 0.1)), &lif)?;
        // A second model after it, driven by the first: two kinds, and state after both.
        let izh = net.neurons("izh", 30, izhikevich(IzhikevichParams::CHATTERING))?;
        net.connect(pop, izh, Connectivity::FixedProbability(0.2), 3.0, 1.0)?;
        let dir = common::scratch("neuron_model_checkpoint", &backend);
        let path = dir.join("run.npz");
        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run_steps(300)?;
        sim.set_neuron_param(pop, "v_th", -56.0)?;
        sim.checkpoint(&path)?;
        sim.run_steps(300)?;
        let (v, i_ex) = (sim.neuron_state(pop, "v")?, sim.neuron_state(pop, "i_ex")?);
        let u = sim.neuron_state(izh, "u")?;
        let hash = sim.spikes(&spikes)?.hash();
        let mut resumed = Simulator::new(&net, backend)?;
        resumed.load_checkpoint(&path)?;
        assert_eq!(resumed.neuron_param(pop, "v_th")?, -56.0);
        resumed.run_steps(300)?;
        common::assert_same("v", &v, &resumed.neuron_state(pop, "v")?);
        common::assert_same("i_ex", &i_ex, &resumed.neuron_state(pop, "i_ex")?);
        common::assert_same("u", &u, &resumed.neuron_state(izh, "u")?);
        assert!(u.iter().any(|&x| x != u[0]), "the second model never moved: {u:?}");
        assert_eq!(hash, resumed.spikes(&spikes)?.hash());
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }

    fn the_health_check_names_a_model_whose_state_overflows(backend: BackendChoice) {
        let mut net = Network::new();
        let grow = counter().state("g", 1.0).update("g = g * 1e30;").cpu_twin(|_, s| {
            s[1] *= 1e30;
            false
        });
        net.neurons("boom", 3, grow)?;
        let mut sim = Simulator::new(&net, backend)?;
        sim.set_health_check(true);
        let got = sim.run_steps(10);
        assert!(
            matches!(&got, Err(Error::Numerical(m)) if m.contains("`counter`") && m.contains("step 1 ")),
            "{got:?}"
        );
        Ok(())
    }
}

#[test]
fn a_wgsl_only_model_runs_on_the_gpu_and_is_refused_on_the_cpu() -> lamina::Result<()> {
    let mut net = Network::new();
    let pop = net.neurons("c", 2, counter())?;
    let probe = net.probe_spikes(pop)?;
    let cpu = Simulator::new(&net, BackendChoice::Cpu);
    assert!(
        matches!(&cpu, Err(Error::Simulation(m)) if m.contains("`counter`") && m.contains("lavapipe") && m.contains("cpu_twin")),
        "{:?}",
        cpu.err()
    );
    let Some(gpu) = common::gpu_or_skip() else {
        return Ok(());
    };
    let mut sim = Simulator::new(&net, gpu)?;
    sim.run_steps(30)?;
    assert_eq!(sim.spikes(&probe)?.steps, vec![9, 9, 19, 19, 29, 29]);
    Ok(())
}

#[test]
fn izhikevich_network_on_the_gpu_equals_its_cpu_twin_bit_for_bit() -> lamina::Result<()> {
    let Some(gpu) = common::gpu_or_skip() else {
        return Ok(());
    };
    let mut net = Network::new().with_seed(3).with_dt_ms(0.5);
    let exc = net.neurons("exc", 160, izhikevich(IzhikevichParams::REGULAR_SPIKING))?;
    let inh = net.neurons("inh", 40, izhikevich(IzhikevichParams::FAST_SPIKING))?;
    for pop in [exc, inh] {
        net.poisson(
            pop,
            PoissonInput {
                in_degree: 20,
                rate_hz: 50.0,
                weight_pa: 4.0,
            },
        )?;
        net.connect(
            exc,
            pop,
            Connectivity::FixedProbability(0.1),
            Dist::uniform(0.0, 6.0),
            Dist::uniform(1.0, 10.0),
        )?;
        net.connect(inh, pop, Connectivity::FixedProbability(0.1), -5.0, 1.0)?;
    }
    let spikes = net.probe_spikes(exc)?;
    let mut cpu = Simulator::new(&net, BackendChoice::Cpu)?;
    let mut gpu = Simulator::new(&net, gpu)?;
    cpu.run(0.5)?;
    gpu.run(0.5)?;
    assert!(cpu.spikes(&spikes)?.steps.len() > 100);
    assert_eq!(cpu.spikes(&spikes)?.hash(), gpu.spikes(&spikes)?.hash());
    for pop in [exc, inh] {
        for var in ["v", "u"] {
            let (c, g) = (cpu.neuron_state(pop, var)?, gpu.neuron_state(pop, var)?);
            common::assert_same(var, &c, &g);
        }
    }
    Ok(())
}
