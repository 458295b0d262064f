//! STDP on sparse spiking projections with per-synapse delays, on every backend: the weights
//! step for step against a plain re-statement of the rule; with zero amplitudes, the same
//! spikes as the same static projection; lesions hold while learning runs; a checkpoint
//! resumes with the same weights; the GPU and the CPU twin agree bit for bit.

mod common;
use lamina::model::plasticity::Snippet;
use lamina::prelude::*;

const DT_MS: f64 = 0.1;
const N_PRE: usize = 30;
const N_POST: usize = 4;

/// Pre spike times (ms): each source fires irregularly, from a fixed hash.
fn pre_times() -> Vec<Vec<f64>> {
    (0..N_PRE)
        .map(|i| {
            let mut t = 0.0;
            let mut out = Vec::new();
            for k in 0.. {
                let h = lamina::rng::mix64((i * 1000 + k) as u64);
                t += 2.0 + 18.0 * ((h >> 11) as f64 / (1u64 << 53) as f64);
                if t > 400.0 {
                    break;
                }
                out.push((t / DT_MS).round() * DT_MS);
            }
            out
        })
        .collect()
}

/// Every pre source onto every post neuron, delays 0.1 to 3 ms, weights `w0` (or spread in
/// [10, 60] pA when `w0` is `None`); post neurons near threshold.
struct Setup {
    net: Network,
    proj: ProjectionId,
    pre: PopulationId,
    post: PopulationId,
    spikes: SpikeProbe,
    pre_spikes: SpikeProbe,
}

fn setup(rule: Option<Stdp>, w0: Option<f64>) -> lamina::Result<Setup> {
    let mut net = Network::new().with_seed(9).with_dt_ms(DT_MS);
    let pre = net.spike_source("pre", pre_times())?;
    let post = net.population(
        "post",
        N_POST as u32,
        LifCurrent {
            i_e_pa: 330.0,
            v_init_mv: Dist::Const(-65.0),
            ..LifCurrent::default()
        },
    )?;
    let pairs: Vec<(u32, u32)> = (0..N_PRE as u32)
        .flat_map(|i| (0..N_POST as u32).map(move |j| (i, j)))
        .collect();
    let n = pairs.len();
    let weights: Vec<f64> = (0..n)
        .map(|k| w0.unwrap_or(10.0 + 50.0 * (k * 37 % 101) as f64 / 100.0))
        .collect();
    let delays: Vec<f64> = (0..n).map(|k| DT_MS * (1 + k * 13 % 30) as f64).collect();
    let proj = net.connect(
        pre,
        post,
        Connectivity::Explicit(pairs),
        Values::Each(weights),
        Values::Each(delays),
    )?;
    if let Some(rule) = rule {
        net.stdp(proj, rule)?;
    }
    let spikes = net.probe_spikes(post)?;
    let pre_spikes = net.probe_spikes(pre)?;
    Ok(Setup {
        net,
        proj,
        pre,
        post,
        spikes,
        pre_spikes,
    })
}

fn rule() -> Stdp {
    common::pair_stdp()
}

/// A synapse's events in step order: (step, 0) for a pre spike arriving after the synapse's
/// delay, (step, 1) for a spike of its post neuron; arrivals before post spikes at one step.
fn events(s: &SynapseView, pre: &SpikeTrains, post: &SpikeTrains, steps: u64) -> Vec<(u64, u8)> {
    let d = (s.delay_ms / DT_MS).round() as u64;
    let mut events: Vec<(u64, u8)> = (pre.steps.iter().zip(&pre.neurons))
        .filter(|(_, &n)| n == s.pre)
        .map(|(&t, _)| (t + d, 0))
        .filter(|&(t, _)| t < steps)
        .chain(
            (post.steps.iter().zip(&post.neurons))
                .filter(|(_, &n)| n == s.post)
                .map(|(&t, _)| (t, 1)),
        )
        .collect();
    events.sort();
    events
}

/// A trace's decay over `k` steps with time constant `tau_ms`, as the tables hold it:
/// exp(-k dt / tau) in f64 rounded to f32, 0 past 20 time constants.
fn decay(k: u64, tau_ms: f64) -> f32 {
    let len = (20.0 * tau_ms / DT_MS).ceil() as u64 + 1;
    if k >= len {
        0.0
    } else {
        (-(k as f64) * DT_MS / tau_ms).exp() as f32
    }
}

/// Subnormal results flushed to zero, as the kernels flush them.
fn flush(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// The rule restated plainly: each synapse's traces and weight from its pre spikes (arriving
/// after its delay) and its post neuron's spikes, in step order, arrivals before post spikes
/// at the same step; decays as exp(-steps dt / tau) in f64 rounded to f32, as the tables hold
/// (0 past 20 time constants).
fn restated(
    syn: &[SynapseView],
    pre: &SpikeTrains,
    post: &SpikeTrains,
    rule: &Stdp,
    steps: u64,
) -> Vec<f32> {
    let (a_plus, a_minus) = (rule.a_plus_pa as f32, rule.a_minus_pa as f32);
    let (lo, hi) = (rule.w_min_pa as f32, rule.w_max_pa as f32);
    syn.iter()
        .map(|s| {
            let (mut w, mut apre, mut apost, mut last) = (s.weight_pa as f32, 0f32, 0f32, 0u64);
            for (t, kind) in events(s, pre, post, steps) {
                apre = flush(apre * decay(t - last, rule.tau_pre_ms));
                apost = flush(apost * decay(t - last, rule.tau_post_ms));
                last = t;
                if kind == 0 {
                    apre = flush(apre + a_plus);
                    w = flush(w + apost);
                } else {
                    apost = flush(apost + a_minus);
                    w = flush(w + apre);
                }
                w = if w < lo {
                    lo
                } else if w > hi {
                    hi
                } else {
                    w
                };
            }
            w
        })
        .collect()
}

on_every_backend! {
    fn weights_follow_the_rule_step_for_step(backend: BackendChoice) {
        let s = setup(Some(rule()), None)?;
        let mut sim = Simulator::new(&s.net, backend.clone())?;
        let before = sim.plastic_synapses(s.proj)?;
        assert_eq!(before.len(), N_PRE * N_POST);
        sim.run(0.3)?;
        let (pre, post) = (sim.spikes(&s.pre_spikes)?.clone(), sim.spikes(&s.spikes)?.clone());
        assert!(post.neurons.len() > 20, "the post neurons fire: {}", post.neurons.len());
        let want = restated(&before, &pre, &post, &rule(), sim.n_steps());
        let got = sim.plastic_weights(s.proj)?;
        let changed = got.iter().zip(&before).filter(|(g, b)| **g as f64 != b.weight_pa).count();
        assert!(changed > got.len() / 2, "most weights learn: {changed} of {}", got.len());
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.to_bits(), w.to_bits(), "synapse {k}: {g} vs the rule's {w}");
        }
        // The CPU twin gives the same bits.
        let mut cpu = Simulator::new(&s.net, BackendChoice::Cpu)?;
        cpu.run(0.3)?;
        assert_eq!(cpu.spikes(&s.spikes)?, &post);
        assert_eq!(cpu.plastic_weights(s.proj)?, got);
        Ok(())
    }

    fn without_amplitudes_plasticity_delivers_as_a_static_projection(backend: BackendChoice) {
        let frozen = Stdp { a_plus_pa: 0.0, a_minus_pa: 0.0, ..rule() };
        // All weights at the bound, so both give their targets the same fixed-point scale.
        let plastic = setup(Some(Stdp { w_max_pa: 60.3, ..frozen }), Some(60.3))?;
        let fixed = setup(None, Some(60.3))?;
        let mut a = Simulator::new(&plastic.net, backend.clone())?;
        let mut b = Simulator::new(&fixed.net, backend)?;
        a.run(0.3)?;
        b.run(0.3)?;
        let spikes = a.spikes(&plastic.spikes)?;
        assert!(spikes.neurons.len() > 20, "{}", spikes.neurons.len());
        assert_eq!(spikes, b.spikes(&fixed.spikes)?);
        assert!(a.plastic_weights(plastic.proj)?.iter().all(|&w| w == 60.3f32));
        Ok(())
    }

    fn lesioned_plastic_synapses_stay_at_zero_while_learning(backend: BackendChoice) {
        let s = setup(Some(rule()), None)?;
        let mut sim = Simulator::new(&s.net, backend)?;
        sim.run(0.1)?;
        let at_cut = sim.plastic_weights(s.proj)?;
        let cut = sim.lesion(s.pre.slice(0..10), s.post.slice(0..2))?;
        assert_eq!(cut, 20);
        sim.run(0.2)?;
        let views = sim.plastic_synapses(s.proj)?;
        let is_cut = |v: &SynapseView| v.pre < 10 && v.post < 2;
        assert!(views.iter().filter(|v| is_cut(v)).all(|v| v.weight_pa == 0.0));
        assert!(views.iter().any(|v| !is_cut(v) && v.weight_pa != 0.0));
        sim.restore_synapses()?;
        let back = sim.plastic_synapses(s.proj)?;
        let at_cut_views: Vec<f32> = views
            .iter()
            .zip(&at_cut)
            .filter(|(v, _)| is_cut(v))
            .map(|(_, &w)| w)
            .collect();
        let restored: Vec<f32> = back.iter().filter(|v| is_cut(v)).map(|v| v.weight_pa as f32).collect();
        assert_eq!(restored, at_cut_views, "restored to the weights they had when cut");
        Ok(())
    }

    fn a_checkpoint_resumes_learning_with_the_same_weights(backend: BackendChoice) {
        let s = setup(Some(rule()), None)?;
        let path = std::env::temp_dir().join(format!(
            "lamina_stdp_{}_{}.npz",
            std::process::id(),
            backend == BackendChoice::Cpu
        ));
        let mut whole = Simulator::new(&s.net, backend.clone())?;
        whole.run(0.3)?;
        let mut first = Simulator::new(&s.net, backend.clone())?;
        first.run(0.15)?;
        first.lesion(s.pre.slice(0..3), s.post)?;
        first.checkpoint(&path)?;
        let mut resumed = Simulator::resume(&s.net, backend.clone(), &path)?;
        first.run(0.15)?;
        resumed.run(0.15)?;
        assert_eq!(resumed.plastic_weights(s.proj)?, first.plastic_weights(s.proj)?);
        assert_eq!(resumed.spikes(&s.spikes)?, first.spikes(&s.spikes)?);
        // Without the lesion, the pieces are the whole run.
        let mut a = Simulator::new(&s.net, backend.clone())?;
        a.run(0.15)?;
        a.checkpoint(&path)?;
        let mut b = Simulator::resume(&s.net, backend, &path)?;
        b.run(0.15)?;
        assert_eq!(b.plastic_weights(s.proj)?, whole.plastic_weights(s.proj)?);
        assert_eq!(b.spikes(&s.spikes)?, whole.spikes(&s.spikes)?);
        std::fs::remove_file(&path).ok();
        Ok(())
    }

    fn a_user_synapse_model_follows_its_rule_step_for_step(backend: BackendChoice) {
        let s = model_setup()?;
        let mut sim = Simulator::new(&s.net, backend.clone())?;
        let before = sim.plastic_synapses(s.proj)?;
        sim.run(0.3)?;
        let (pre, post) = (sim.spikes(&s.pre_spikes)?.clone(), sim.spikes(&s.spikes)?.clone());
        assert!(post.neurons.len() > 20, "the post neurons fire: {}", post.neurons.len());
        let want = restated_model(&before, &pre, &post, sim.n_steps());
        let got = sim.plastic_weights(s.proj)?;
        let arrivals = sim.plastic_model_state(s.proj, "arrivals")?;
        let changed = got.iter().zip(&before).filter(|(g, b)| **g as f64 != b.weight_pa).count();
        assert!(changed > got.len() / 2, "most weights learn: {changed} of {}", got.len());
        assert!(arrivals.iter().all(|&a| a > 3.0), "every synapse saw arrivals");
        for (k, ((g, a), (w, n))) in got.iter().zip(&arrivals).zip(&want).enumerate() {
            assert_eq!(g.to_bits(), w.to_bits(), "synapse {k}: {g} vs the rule's {w}");
            assert_eq!(a, n, "synapse {k}: arrivals");
        }
        // The traces are readable, each at its synapse's last event (a count: at least 1).
        let xpost = sim.plastic_model_state(s.proj, "xpost")?;
        assert!(xpost.iter().all(|&x| x > 0.0));
        let err = sim.plastic_model_state(s.proj, "ypre").unwrap_err().to_string();
        assert!(err.contains("no state variable or trace `ypre`") && err.contains("xpre"), "{err}");
        // The CPU twin gives the same bits.
        let mut cpu = Simulator::new(&s.net, BackendChoice::Cpu)?;
        cpu.run(0.3)?;
        assert_eq!(cpu.spikes(&s.spikes)?, &post);
        assert_eq!(cpu.plastic_weights(s.proj)?, got);
        assert_eq!(cpu.plastic_model_state(s.proj, "xpre")?, sim.plastic_model_state(s.proj, "xpre")?);
        Ok(())
    }

    fn a_model_and_stdp_run_side_by_side_as_each_alone(backend: BackendChoice) {
        // Two projections from the same sources onto the same neurons, one under STDP and one
        // under the model: each learns as it would alone on its own copy of the post neurons.
        let s = model_setup()?;
        let mut sim = Simulator::new(&s.net, backend.clone())?;
        sim.run(0.2)?;
        let alone = sim.plastic_weights(s.proj)?;
        let mut both = s.net.clone();
        let post2 = both.population(
            "post2",
            N_POST as u32,
            LifCurrent { i_e_pa: 330.0, v_init_mv: Dist::Const(-65.0), ..LifCurrent::default() },
        )?;
        let pairs: Vec<(u32, u32)> = (0..N_PRE as u32)
            .flat_map(|i| (0..N_POST as u32).map(move |j| (i, j)))
            .collect();
        let n = pairs.len();
        let stdp_proj = both.connect(
            s.pre,
            post2,
            Connectivity::Explicit(pairs),
            Values::Each(vec![30.0; n]),
            Values::Each((0..n).map(|k| DT_MS * (1 + k * 7 % 40) as f64).collect()),
        )?;
        both.stdp(stdp_proj, rule())?;
        let mut sim = Simulator::new(&both, backend)?;
        sim.run(0.2)?;
        assert_eq!(sim.plastic_weights(s.proj)?, alone);
        assert!(sim.plastic_weights(stdp_proj)?.iter().any(|&w| w != 30.0));
        Ok(())
    }

    fn lesioned_model_synapses_stay_at_zero_and_resume_from_a_checkpoint(backend: BackendChoice) {
        let s = model_setup()?;
        let mut sim = Simulator::new(&s.net, backend.clone())?;
        sim.run(0.1)?;
        sim.lesion(s.pre.slice(0..10), s.post.slice(0..2))?;
        let arrivals_at_cut = sim.plastic_model_state(s.proj, "arrivals")?;
        sim.run(0.1)?;
        let views = sim.plastic_synapses(s.proj)?;
        let arrivals = sim.plastic_model_state(s.proj, "arrivals")?;
        for (k, v) in views.iter().enumerate() {
            if v.pre < 10 && v.post < 2 {
                assert_eq!(v.weight_pa, 0.0, "a cut synapse stays at zero");
                assert_eq!(arrivals[k], arrivals_at_cut[k], "a cut synapse learns nothing");
            }
        }
        // Checkpoint (with the lesion) and resume: the same weights, model state and spikes.
        let path = std::env::temp_dir().join(format!(
            "lamina_stdp_model_{}_{}.npz",
            std::process::id(),
            backend == BackendChoice::Cpu
        ));
        sim.checkpoint(&path)?;
        let mut resumed = Simulator::resume(&s.net, backend, &path)?;
        sim.run(0.1)?;
        resumed.run(0.1)?;
        assert_eq!(resumed.plastic_weights(s.proj)?, sim.plastic_weights(s.proj)?);
        assert_eq!(
            resumed.plastic_model_state(s.proj, "arrivals")?,
            sim.plastic_model_state(s.proj, "arrivals")?
        );
        assert_eq!(resumed.spikes(&s.spikes)?, sim.spikes(&s.spikes)?);
        std::fs::remove_file(&path).ok();
        Ok(())
    }
}

#[test]
fn bad_rules_and_weights_outside_the_bounds_are_refused() {
    let s = setup(None, None).unwrap();
    let mut net = s.net.clone();
    let err = net
        .stdp(
            s.proj,
            Stdp {
                tau_pre_ms: 0.0,
                ..rule()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tau_pre_ms") && err.contains("> 0 ms"),
        "{err}"
    );
    let err = net
        .stdp(
            s.proj,
            Stdp {
                w_min_pa: 10.0,
                w_max_pa: 5.0,
                ..rule()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("w_min_pa < w_max_pa"), "{err}");
    // Weights spread in [10, 60] pA do not fit [0, 40].
    net.stdp(
        s.proj,
        Stdp {
            w_max_pa: 40.0,
            ..rule()
        },
    )
    .unwrap();
    let err = Simulator::new(&net, BackendChoice::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("[0, 40] pA") && err.contains("starts at"),
        "{err}"
    );
    // Reading a projection without STDP says so.
    let mut sim = Simulator::new(&s.net, BackendChoice::Cpu).unwrap();
    let err = sim.plastic_weights(s.proj).unwrap_err().to_string();
    assert!(err.contains("is not plastic"), "{err}");
}

// ---- User-defined synapse models on the same delayed projection ----

/// Pair-based STDP written as a user model, with its own trace time constants, a per-synapse
/// count of arrivals (a state variable), and a Rust twin.
fn pair_model() -> SynapseModel {
    SynapseModel::new("pair_stdp")
        .state("arrivals", 0.0)
        .param("a_plus", 4.0)
        .param("a_minus", -4.5)
        .param("w_max", 80.0)
        .pre_trace("xpre", 0.015)
        .post_trace("xpost", 0.025)
        .on_pre(
            "w = clamp(rn(w + rn(a_minus * xpost)), 0.0, w_max);\narrivals = rn(arrivals + 1.0);",
        )
        .on_post("w = clamp(rn(w + rn(a_plus * xpre)), 0.0, w_max);")
        .cpu_twin(|which, x, v| {
            let (a_plus, a_minus, w_max) = (x.params[0], x.params[1], x.params[2]);
            match which {
                Snippet::OnPre => {
                    v[0] = (v[0] + a_minus * x.post_traces[0]).clamp(0.0, w_max);
                    v[1] += 1.0;
                }
                Snippet::OnPost => v[0] = (v[0] + a_plus * x.pre_traces[0]).clamp(0.0, w_max),
                Snippet::PerStep => {}
            }
        })
}

fn model_setup() -> lamina::Result<Setup> {
    let mut s = setup(None, None)?;
    s.net.synapse_model(s.proj, pair_model(), 80.0)?;
    Ok(s)
}

/// `pair_model` restated plainly, as `restated` does for the built-in rule: traces count
/// events (decayed by the tables' factors, then up by 1 at their own event), an arrival's
/// snippet reads the post trace, a post spike's the pre trace. Returns weights and arrivals.
fn restated_model(
    syn: &[SynapseView],
    pre: &SpikeTrains,
    post: &SpikeTrains,
    steps: u64,
) -> Vec<(f32, f32)> {
    syn.iter()
        .map(|s| {
            let (mut w, mut arrivals) = (s.weight_pa as f32, 0f32);
            let (mut xpre, mut xpost, mut last) = (0f32, 0f32, 0u64);
            for (t, kind) in events(s, pre, post, steps) {
                xpre = flush(xpre * decay(t - last, 0.015 * 1e3));
                xpost = flush(xpost * decay(t - last, 0.025 * 1e3));
                last = t;
                if kind == 0 {
                    xpre += 1.0;
                    w = (w + -4.5 * xpost).clamp(0.0, 80.0);
                    arrivals += 1.0;
                } else {
                    xpost += 1.0;
                    w = (w + 4.0 * xpre).clamp(0.0, 80.0);
                }
            }
            (w, arrivals)
        })
        .collect()
}

#[test]
fn synapse_models_a_spiking_projection_cannot_run_are_refused_before_building() {
    let s = setup(None, None).unwrap();
    let mut net = s.net.clone();
    // A snippet error names the model, the snippet and its line.
    let bad = pair_model().on_post("w = w + 1.0;\nw = w + undefined_name;");
    let err = net
        .synapse_model(s.proj, bad, 80.0)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pair_stdp") && err.contains("on_post"),
        "{err}"
    );
    assert!(
        err.contains("undefined_name") && err.contains(" 2 |"),
        "{err}"
    );
    // No error signal on a spiking projection: `error` is unknown there.
    let err = net
        .synapse_model(s.proj, pair_model().on_post("w = w + error;"), 80.0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("error"), "{err}");
    let err = net
        .synapse_model(s.proj, pair_model().per_step("w = w * 0.5;"), 80.0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("per_step"), "{err}");
    let err = net
        .synapse_model(s.proj, pair_model(), 0.0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_weight_pa"), "{err}");
    // Weights outside ± max_weight_pa are refused at the build, naming the synapse.
    net.synapse_model(s.proj, pair_model(), 40.0).unwrap();
    let err = Simulator::new(&net, BackendChoice::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("[-40, 40] pA") && err.contains("starts at"),
        "{err}"
    );
    // One rule per projection.
    let err = net.stdp(s.proj, rule()).unwrap_err().to_string();
    assert!(err.contains("already has a synapse model"), "{err}");
    // A WGSL-only model cannot run on the CPU twin, and says so before any step.
    let mut net = s.net.clone();
    let wgsl_only = SynapseModel::new("wgsl_only")
        .param("a", 1.0)
        .on_pre("w = min(rn(w + a), 60.0);");
    net.synapse_model(s.proj, wgsl_only, 80.0).unwrap();
    let err = Simulator::new(&net, BackendChoice::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("wgsl_only") && err.contains("cpu_twin"),
        "{err}"
    );
}
