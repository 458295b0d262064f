//! Synapse models written as WGSL snippets (`model::plasticity`): broken snippets fail with
//! the snippet's own line, the built-in STDP agrees with a plain Rust replay of its rule, the
//! built-in models agree bit for bit between the GPU and their Rust twins, a WGSL-only model
//! runs on the GPU and is refused by the CPU backend with a pointer to a software adapter,
//! lesions hold under a synapse model, and parameters and state are reachable between steps.

mod common;

use lamina::model::nef::*;
use lamina::model::plasticity::*;
use lamina::prelude::*;
use ndarray::Array2;
use std::f64::consts::PI;

const N_PRE: usize = 24;
const N_POST: usize = 6;

/// The snippet error of `model`, or a panic saying what came instead.
#[track_caller]
fn snippet_error(model: SynapseModel) -> (String, usize, usize, String) {
    match model.check() {
        Err(Error::Snippet {
            snippet,
            line,
            column,
            message,
            ..
        }) => (snippet, line, column, message),
        other => panic!("expected a snippet error, got {other:?}"),
    }
}

#[test]
fn a_syntax_error_names_the_snippet_line_and_column() {
    let model = SynapseModel::new("broken")
        .param("rate", 0.1)
        .on_pre("let x = rate;\nw = w + ;\n");
    let (snippet, line, column, message) = snippet_error(model);
    assert_eq!((snippet.as_str(), line), ("on_pre", 2), "{message}");
    assert_eq!(column, 9, "{message}");
    assert!(message.contains("2 | w = w + ;"), "{message}");
}

#[test]
fn an_unknown_variable_is_reported_where_it_is_used() {
    let model = SynapseModel::new("typo")
        .state("g", 0.0)
        .per_step("g = g * 0.5;\nw = g + gg;");
    let (snippet, line, column, message) = snippet_error(model);
    assert_eq!(
        (snippet.as_str(), line, column),
        ("per_step", 2, 9),
        "{message}"
    );
    assert!(message.contains("gg"), "{message}");
}

#[test]
fn a_type_error_is_reported_on_its_line() {
    let model = SynapseModel::new("types").on_post("\n\nw = error > 0.0;");
    let (snippet, line, _, message) = snippet_error(model);
    assert_eq!((snippet.as_str(), line), ("on_post", 3), "{message}");
}

#[test]
fn writing_a_read_only_value_is_refused() {
    for code in ["error = 1.0;", "rate = 2.0;", "apre = 0.0;", "dt = 0.1;"] {
        let model = SynapseModel::new("writes")
            .param("rate", 1.0)
            .pre_trace("apre", 0.02)
            .on_pre(code);
        let (snippet, line, _, message) = snippet_error(model);
        assert_eq!((snippet.as_str(), line), ("on_pre", 1), "{code}: {message}");
    }
}

#[test]
fn declarations_are_checked_before_the_snippets() {
    let no_snippet = SynapseModel::new("empty").param("a", 1.0).check();
    assert!(
        matches!(&no_snippet, Err(Error::Validation(m)) if m.contains("no snippet")),
        "{no_snippet:?}"
    );
    let cases = [
        (
            SynapseModel::new("m").param("error", 1.0),
            "lamina provides",
        ),
        (
            SynapseModel::new("m").state("1x", 0.0),
            "not a WGSL identifier",
        ),
        (
            SynapseModel::new("m").param("a", 1.0).state("a", 0.0),
            "twice",
        ),
        (SynapseModel::new("m").param("a", f64::NAN), "finite"),
        (SynapseModel::new("m").pre_trace("tr", 0.0), "positive"),
    ];
    for (model, expect) in cases {
        let model = model.per_step("w = w;");
        let got = model.check();
        assert!(
            matches!(&got, Err(Error::Validation(m)) if m.contains(expect)),
            "{expect}: {got:?}"
        );
    }
    let returns = SynapseModel::new("m")
        .on_pre("if (w > 1.0) { return; }")
        .check();
    assert!(
        matches!(&returns, Err(Error::Validation(m)) if m.contains("return")),
        "{returns:?}"
    );
}

#[test]
fn built_in_models_pass_the_checks() -> lamina::Result<()> {
    stdp(StdpParams::default()).check()?;
    memristor(MemristorParams::default())?.check()?;
    let bad = memristor(MemristorParams {
        exponent: 0.2,
        ..MemristorParams::default()
    });
    assert!(matches!(bad, Err(Error::Validation(_))), "{bad:?}");
    Ok(())
}

#[test]
fn learn_refuses_what_the_connection_cannot_give() -> lamina::Result<()> {
    let mut net = NefNetwork::new();
    let a = net.ensemble("a", Ensemble::new(10, 1))?;
    let b = net.ensemble("b", Ensemble::new(10, 1))?;
    let rate = net.ensemble(
        "rate",
        Ensemble::new(10, 1).neuron(NefNeuron::LifRate(LifRate::default())),
    )?;
    // STDP needs post spikes: a decoded connection has no post neurons in its rows.
    let decoded = net.connect(a, b, Connection::new())?;
    let got = net.learn(decoded, stdp(StdpParams::default()));
    assert!(
        matches!(&got, Err(Error::Validation(m)) if m.contains("post neurons")),
        "{got:?}"
    );
    let from_rates = net.connect(
        rate.neurons(),
        b.neurons(),
        Connection::new().transform(Array2::zeros((10, 10))),
    )?;
    let got = net.learn(from_rates, stdp(StdpParams::default()));
    assert!(
        matches!(&got, Err(Error::Validation(m)) if m.contains("rate neurons")),
        "{got:?}"
    );
    // A broken snippet fails at `learn`, before any simulator exists.
    let broken = SynapseModel::new("broken").on_pre("w = nope;");
    let conn = net.connect(
        a.neurons(),
        b.neurons(),
        Connection::new().transform(Array2::zeros((10, 10))),
    )?;
    assert!(matches!(
        net.learn(conn, broken),
        Err(Error::Snippet { .. })
    ));
    net.learn(conn, stdp(StdpParams::default()))?;
    let twice = net.learn(conn, stdp(StdpParams::default()));
    assert!(matches!(twice, Err(Error::Validation(_))), "{twice:?}");
    Ok(())
}

/// stim -> pre (N_PRE LIF), pre.neurons -> post.neurons (N_POST LIF, weights starting
/// uniform in [0.2, 0.8] w_max) learning with `model`, an error node -> the rule; probes of
/// both spike trains and of the weights.
struct Plastic {
    net: NefNetwork,
    conn: ConnectionId,
    rule: LearningRuleId,
    pre_spikes: NefProbeId,
    post_spikes: NefProbeId,
    weights: NefProbeId,
}

fn plastic(model: SynapseModel, w0: f64) -> lamina::Result<Plastic> {
    let mut net = NefNetwork::new().with_seed(11);
    let stim = net.node(
        "stim",
        Node::function(1, |t| vec![(2.0 * PI * 3.0 * t).sin()]),
    )?;
    let pre = net.ensemble("pre", Ensemble::new(N_PRE, 1))?;
    let post = net.ensemble("post", Ensemble::new(N_POST, 1))?;
    net.connect(stim, pre, Connection::new())?;
    let t = Array2::from_shape_fn((N_POST, N_PRE), |(i, j)| {
        w0 * (0.2 + 0.6 * (((i * 7 + j * 5) % 13) as f64 / 12.0))
    });
    let conn = net.connect(
        pre.neurons(),
        post.neurons(),
        Connection::new().transform(t),
    )?;
    let rule = net.learn(conn, model)?;
    // An error for the models that read one: the post's decoded value minus the input.
    net.connect(post, rule, Connection::new())?;
    net.connect(stim, rule, Connection::new().scale(-1.0))?;
    let pre_spikes = net.probe(pre.neurons(), Probe::new())?;
    let post_spikes = net.probe(post.neurons(), Probe::new())?;
    let weights = net.probe_weights(conn, Probe::new())?;
    Ok(Plastic {
        net,
        conn,
        rule,
        pre_spikes,
        post_spikes,
        weights,
    })
}

/// STDP strong enough to move the weights visibly in half a second.
fn strong_stdp() -> SynapseModel {
    stdp(StdpParams {
        a_plus: 0.02,
        a_minus: -0.021,
        w_max: 0.05,
        ..StdpParams::default()
    })
}

on_every_backend! {
    fn stdp_agrees_with_a_plain_rust_replay_step_for_step(backend: BackendChoice) {
        let p = plastic(strong_stdp(), 0.05)?;
        let mut sim = Simulator::new(&p.net, backend)?;
        sim.run(0.5)?;
        let pre = sim.data(p.pre_spikes)?;
        let post = sim.data(p.post_spikes)?;
        let recorded = sim.data(p.weights)?;
        let steps = pre.nrows();
        let s = StdpParams::default();
        let (a_plus, a_minus, w_max) = (0.02, -0.021, 0.05);
        let decay_pre = (-sim.dt() / s.tau_pre).exp();
        let decay_post = (-sim.dt() / s.tau_post).exp();
        // The rule as documented, in f64: traces decay, then count this step's spikes; a pre
        // spike adds a_minus * apost, a post spike a_plus * apre; the weight stays in
        // [0, w_max]. The weights probe samples before the step's update.
        let mut w = recorded.row(0).to_owned().mapv(|x| x as f64);
        let mut apre = [0.0; N_PRE];
        let mut apost = [0.0; N_POST];
        let mut changed = 0;
        for n in 0..steps {
            let row = recorded.row(n);
            for (k, (&got, &want)) in row.iter().zip(w.iter()).enumerate() {
                assert!(
                    (got as f64 - want).abs() < 1e-5,
                    "step {n}, synapse {k}: recorded {got}, replay {want}"
                );
            }
            for j in 0..N_PRE {
                apre[j] = apre[j] * decay_pre + if pre[[n, j]] != 0.0 { 1.0 } else { 0.0 };
            }
            for i in 0..N_POST {
                apost[i] = apost[i] * decay_post + if post[[n, i]] != 0.0 { 1.0 } else { 0.0 };
            }
            for i in 0..N_POST {
                for j in 0..N_PRE {
                    let k = i * N_PRE + j;
                    let before = w[k];
                    if pre[[n, j]] != 0.0 {
                        w[k] = (w[k] + a_minus * apost[i]).clamp(0.0, w_max);
                    }
                    if post[[n, i]] != 0.0 {
                        w[k] = (w[k] + a_plus * apre[j]).clamp(0.0, w_max);
                    }
                    changed += (w[k] != before) as usize;
                }
            }
        }
        assert!(changed > 100, "STDP changed only {changed} weights in 0.5 s");
        Ok(())
    }

    fn lesioned_synapses_stay_cut_under_a_synapse_model(backend: BackendChoice) {
        let p = plastic(strong_stdp(), 0.05)?;
        let mut sim = Simulator::new(&p.net, backend)?;
        sim.run(0.05)?;
        let mask = Array2::from_shape_fn((N_POST, N_PRE), |(i, j)| (i + j) % 3 == 0);
        sim.lesion_connection(p.conn, Lesion::Synapses(&mask))?;
        let before = sim.weights(p.conn)?;
        sim.run(0.4)?;
        let after = sim.weights(p.conn)?;
        let mut moved = 0;
        for ((idx, &cut), (&b, &a)) in mask.indexed_iter().zip(before.iter().zip(after.iter())) {
            if cut {
                assert_eq!((b, a), (0.0, 0.0), "cut synapse {idx:?} changed");
            } else {
                moved += (a != b) as usize;
            }
        }
        assert!(moved > 20, "only {moved} uncut synapses learned");
        Ok(())
    }

    fn parameters_and_state_are_reachable_between_steps(backend: BackendChoice) {
        let model = memristor(MemristorParams::default())?;
        let p = plastic(model, 0.0)?;
        let mut sim = Simulator::new(&p.net, backend)?;
        let r_pos = sim.rule_state(p.rule, "r_pos")?;
        assert_eq!(r_pos.dim(), (N_POST, N_PRE));
        assert!(r_pos.iter().all(|&r| (1e8..=1.1e8).contains(&r)), "{r_pos:?}");
        assert_eq!(sim.rule_param(p.rule, "gain")?, 1e4);
        sim.run(0.2)?;
        let moved = sim.rule_state(p.rule, "r_pos")?;
        assert!(moved.iter().zip(&r_pos).any(|(a, b)| a < b), "no pulse lowered r_pos");
        // A threshold no error reaches stops learning: the devices keep their state.
        sim.set_rule_param(p.rule, "err_threshold", 1e30)?;
        let frozen = (sim.rule_state(p.rule, "r_pos")?, sim.rule_state(p.rule, "r_neg")?);
        sim.run(0.1)?;
        assert_eq!(frozen, (sim.rule_state(p.rule, "r_pos")?, sim.rule_state(p.rule, "r_neg")?));
        // The weight follows the state it is given: w = gain r_min (1/r_pos - 1/r_neg).
        sim.set_rule_state(p.rule, "r_pos", &Array2::from_elem((N_POST, N_PRE), 1e6))?;
        sim.set_rule_state(p.rule, "r_neg", &Array2::from_elem((N_POST, N_PRE), 2e6))?;
        sim.run_steps(1)?;
        let w = sim.weights(p.conn)?;
        let want = (1e4 * 1e2 * (1.0 / 1e6 - 1.0 / 2e6)) as f32;
        assert!(w.iter().all(|&x| (x - want).abs() < 1e-6 * want), "{w:?} vs {want}");
        for bad in [
            sim.rule_state(p.rule, "nope").err(),
            sim.rule_param(p.rule, "nope").err(),
            sim.set_rule_param(p.rule, "gain", f64::NAN).err(),
            sim.set_rule_state(p.rule, "r_pos", &Array2::zeros((2, 2))).err(),
        ] {
            assert!(matches!(bad, Some(Error::Simulation(_))), "{bad:?}");
        }
        Ok(())
    }
}

/// Runs `model` on a backend for `seconds`; returns the weights and every state variable.
fn final_variables(
    model: SynapseModel,
    w0: f64,
    backend: BackendChoice,
    seconds: f64,
) -> lamina::Result<Vec<Vec<f32>>> {
    let names: Vec<String> = model.state_names().map(String::from).collect();
    let p = plastic(model, w0)?;
    let mut sim = Simulator::new(&p.net, backend)?;
    sim.run(seconds)?;
    let mut out = vec![sim.weights(p.conn)?.iter().copied().collect()];
    for n in names {
        out.push(sim.rule_state(p.rule, &n)?.iter().copied().collect());
    }
    Ok(out)
}

#[test]
fn built_in_models_agree_bit_for_bit_with_their_rust_twins() -> lamina::Result<()> {
    let Some(gpu) = common::gpu_or_skip() else {
        return Ok(());
    };
    let models = [
        ("stdp", strong_stdp(), 0.05),
        ("memristor", memristor(MemristorParams::default())?, 0.0),
    ];
    for (name, model, w0) in models {
        let cpu = final_variables(model.clone(), w0, BackendChoice::Cpu, 0.5)?;
        let gpu = final_variables(model, w0, gpu.clone(), 0.5)?;
        for (k, (c, g)) in cpu.iter().zip(&gpu).enumerate() {
            common::assert_same(&format!("{name}: variable {k} (0 = w)"), c, g);
        }
        assert_ne!(cpu[0], vec![0.0; cpu[0].len()], "{name} learned nothing");
    }
    Ok(())
}

#[test]
fn a_wgsl_only_model_runs_on_the_gpu_and_the_cpu_says_why_it_cannot() -> lamina::Result<()> {
    // Weight decay towards zero, written by a user: no Rust twin.
    let decay = SynapseModel::new("decay")
        .param("keep", 0.99)
        .per_step("w = rn(w * keep);");
    let p = plastic(decay, 0.05)?;
    let cpu = Simulator::new(&p.net, BackendChoice::Cpu);
    match cpu {
        Err(Error::Simulation(m)) => {
            assert!(
                m.contains("`decay`") && m.contains("lavapipe") && m.contains("cpu_twin"),
                "{m}"
            )
        }
        other => panic!("expected a clear refusal, got {:?}", other.err()),
    }
    let Some(gpu) = common::gpu_or_skip() else {
        return Ok(());
    };
    let mut sim = Simulator::new(&p.net, gpu)?;
    let w0 = sim.weights(p.conn)?;
    sim.run_steps(10)?;
    let w = sim.weights(p.conn)?;
    for (k, (&a, &b)) in w0.iter().zip(w.iter()).enumerate() {
        let mut want = a;
        for _ in 0..10 {
            want *= 0.99f32;
        }
        assert_eq!(b, want, "synapse {k}");
    }
    Ok(())
}
