//! STDP on sparse spiking projections with per-synapse delays, on every backend: the weights
//! step for step against a plain re-statement of the rule; with zero amplitudes, the same
//! spikes as the same static projection; lesions hold while learning runs; a checkpoint
//! resumes with the same weights; the GPU and the CPU twin agree bit for bit.

mod common;
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
    Stdp {
        tau_pre_ms: 15.0,
        tau_post_ms: 25.0,
        a_plus_pa: 4.0,
        a_minus_pa: -4.5,
        w_min_pa: 0.0,
        w_max_pa: 80.0,
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
    let decay = |k: u64, tau: f64| -> f32 {
        let len = (20.0 * tau / DT_MS).ceil() as u64 + 1;
        if k >= len {
            0.0
        } else {
            (-(k as f64) * DT_MS / tau).exp() as f32
        }
    };
    let flush = |x: f32| if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x };
    let (a_plus, a_minus) = (rule.a_plus_pa as f32, rule.a_minus_pa as f32);
    let (lo, hi) = (rule.w_min_pa as f32, rule.w_max_pa as f32);
    syn.iter()
        .map(|s| {
            let d = (s.delay_ms / DT_MS).round() as u64;
            // (step, 0 = arrival / 1 = post spike)
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
            let (mut w, mut apre, mut apost, mut last) = (s.weight_pa as f32, 0f32, 0f32, 0u64);
            for (t, kind) in events {
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
    assert!(err.contains("has no STDP"), "{err}");
}
