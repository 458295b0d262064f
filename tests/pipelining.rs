//! Pipelined chunks (the next chunk submitted before the last one's records are read) give the
//! same bits as chunks run one at a time: spikes, state probes, NEF probes, weights and
//! checkpoints, also when the run is interrupted between chunks by a lesion, an ablation, a
//! checkpoint, weight reads and writes, and host callbacks.

mod common;
use common::{assert_same, assert_same_spikes, recurrent};
use lamina::prelude::*;
use std::sync::Arc;

/// The bits of a float array.
fn bits(values: impl IntoIterator<Item = f32>) -> Vec<u32> {
    values.into_iter().map(f32::to_bits).collect()
}

/// What a spiking run left behind: spikes, the state probe's bits, and its checkpoint file.
struct SpikingRun {
    spikes: SpikeTrains,
    state: Vec<u32>,
    checkpoint: Vec<u8>,
}

/// The recurrent network run 7,500 steps (several 1,000-step chunks per piece), interrupted by
/// a lesion, a checkpoint (which reads every state buffer) and an ablation (a read and a
/// write of the refractory counters) between pieces.
fn spiking_run(backend: &BackendChoice, pipelined: bool, health: bool) -> Result<SpikingRun> {
    let (net, spikes, state, [exc, inh]) = recurrent(5)?;
    let mut sim = Simulator::new(&net, backend.clone())?;
    sim.set_pipelined(pipelined);
    sim.set_health_check(health);
    assert_eq!(sim.pipelined(), pipelined);
    // Each piece spans several chunks, so several are in flight at once.
    assert!(
        sim.program().chunk_steps <= 1_000,
        "{}",
        sim.program().chunk_steps
    );
    sim.run_steps(3_500)?;
    assert_eq!(sim.n_steps(), 3_500);
    let cut = sim.lesion(exc.slice(0..300), inh)?;
    assert!(cut > 1_000, "{cut} synapses cut");
    sim.run_steps(2_300)?;
    let dir = common::scratch(&format!("pipelining-{pipelined}-{health}"), backend);
    let file = dir.join("mid.ckpt");
    sim.checkpoint(&file)?;
    sim.ablate(exc, &(0..50).collect::<Vec<_>>())?;
    sim.run_steps(1_700)?;
    let mut state_bits = Vec::new();
    for var in [StateVar::V, StateVar::ISynEx, StateVar::ISynIn] {
        state_bits.extend(bits(sim.state(&state, var)?.iter().copied()));
    }
    let checkpoint = std::fs::read(&file).expect("the checkpoint just written");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(SpikingRun {
        spikes: sim.spikes(&spikes)?.clone(),
        state: state_bits,
        checkpoint,
    })
}

/// A small NEF network: a function node and a callback node (a host call every step) into
/// ensembles, a PES-learned connection, probes.
fn nef_network() -> Result<(NefNetwork, NefProbeId, NefProbeId, ConnectionId, EnsembleId)> {
    let mut net = NefNetwork::new().with_seed(4);
    let stim = net.node("stim", Node::function(1, |t| vec![(6.0 * t).sin()]))?;
    let pre = net.ensemble("pre", Ensemble::new(60, 1))?;
    let post = net.ensemble("post", Ensemble::new(60, 1))?;
    let mut calls = 0u64;
    let echo = net.node(
        "echo",
        Node::callback(1, 1, move |_t, x| {
            calls += 1;
            vec![0.5 * x[0] + 1e-4 * (calls % 7) as f64]
        }),
    )?;
    net.connect(stim, pre, Connection::new())?;
    net.connect(pre, echo, Connection::new())?;
    net.connect(echo, post, Connection::new().scale(0.5))?;
    let learned = net.connect(pre, post, Connection::new().function(1, |_| vec![0.0]))?;
    let error = net.node("error", Node::passthrough(1))?;
    let rule = net.pes(learned, Pes::new(1e-4))?;
    net.connect(post, error, Connection::new())?;
    net.connect(pre, error, Connection::new().scale(-1.0))?;
    net.connect(error, rule, Connection::new())?;
    let lowpass = Probe::new().synapse(Synapse::lowpass(0.01));
    let p_pre = net.probe(pre, lowpass)?;
    let p_post = net.probe(post, lowpass)?;
    Ok((net, p_pre, p_post, learned, pre))
}

/// What a NEF run left behind: both probes' bits and the learned weights' bits.
fn nef_run(backend: &BackendChoice, pipelined: bool) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>)> {
    let (net, p_pre, p_post, learned, pre) = nef_network()?;
    let mut sim = Simulator::new(&net, backend.clone())?;
    // The NEF health check reads each chunk's state at its end, which keeps one chunk in
    // flight; off, the chunks are pipelined.
    sim.set_health_check(false);
    sim.set_pipelined(pipelined);
    assert!(
        sim.program().chunk_steps <= 1_000,
        "{}",
        sim.program().chunk_steps
    );
    sim.run_steps(2_600)?;
    // A Rust rule every 900 steps: reads activities and weights, writes weights.
    sim.run_with(2.7, 900, |sim| {
        let acts = sim.activities(pre)?;
        let mut w = sim.weights(learned)?.mapv(|x| x as f64);
        for (j, a) in acts.iter().enumerate() {
            w[[0, j]] += 1e-7 * *a as f64;
        }
        sim.set_weights(learned, &w)
    })?;
    assert_eq!(sim.n_steps(), 5_300);
    Ok((
        bits(sim.data(p_pre)?.iter().copied()),
        bits(sim.data(p_post)?.iter().copied()),
        bits(sim.weights(learned)?.iter().copied()),
    ))
}

on_every_backend! {
    fn pipelined_and_unpipelined_spiking_runs_are_identical(backend: BackendChoice) {
        for health in [false, true] {
            let one_at_a_time = spiking_run(&backend, false, health)?;
            let pipelined = spiking_run(&backend, true, health)?;
            assert!(
                one_at_a_time.spikes.steps.len() > 2_000,
                "the network should be active: {} spikes",
                one_at_a_time.spikes.steps.len()
            );
            let what = format!("health check {health}");
            assert_same_spikes(&what, &one_at_a_time.spikes, &pipelined.spikes);
            assert_same(&format!("{what}: state probe bits"), &one_at_a_time.state, &pipelined.state);
            assert!(
                one_at_a_time.checkpoint == pipelined.checkpoint,
                "{what}: the checkpoints written between chunks differ"
            );
        }
        Ok(())
    }

    fn pipelined_and_unpipelined_nef_runs_are_identical(backend: BackendChoice) {
        let (pre_a, post_a, w_a) = nef_run(&backend, false)?;
        let (pre_b, post_b, w_b) = nef_run(&backend, true)?;
        assert_eq!(pre_a.len(), 5_300, "one sample per step");
        assert_same("pre probe bits", &pre_a, &pre_b);
        assert_same("post probe bits", &post_a, &post_b);
        assert_same("learned weight bits", &w_a, &w_b);
        Ok(())
    }

    // A fault the health check finds in one chunk is reported once the chunks already
    // submitted behind it have run, with the step the run reached; the spikes filed up to
    // there are those of an unpipelined run to the same step.
    fn a_fault_found_while_chunks_are_in_flight_is_reported_after_them(backend: BackendChoice) {
        // `hot` overflows float32 in its voltage update (1e10 pA into 1e-30 pF) once it is
        // restored at step 2,000.
        let mut net = Network::new().with_seed(2);
        let quiet = net.population("quiet", 10, LifCurrent::default())?;
        net.current(quiet, 500.0)?;
        let hot = net.population("hot", 3, LifCurrent {
            c_m_pf: 1e-30,
            i_e_pa: 1e10,
            ..LifCurrent::default()
        })?;
        let probe = net.probe_spikes(quiet)?;
        let mut runs = Vec::new();
        for pipelined in [false, true] {
            let mut sim = Simulator::new(&net, backend.clone())?;
            sim.set_health_check(true);
            sim.set_pipelined(pipelined);
            sim.ablate(hot, &[0, 1, 2])?;
            sim.run_steps(2_000)?;
            sim.restore(hot, &[1])?;
            let err = sim.run_steps(5_000).unwrap_err().to_string();
            assert!(err.contains("step 2000 ") && err.contains("`hot` neuron 1 "), "{err}");
            assert!(err.contains(&format!("went on to step {}", sim.n_steps())), "{err}");
            runs.push((sim.n_steps(), sim.spikes(&probe)?.clone()));
        }
        let (steps_one, spikes_one) = &runs[0];
        let (steps_piped, spikes_piped) = &runs[1];
        assert_eq!(*steps_one, 3_000, "unpipelined, the run stops with the faulty chunk");
        assert!(*steps_piped > 3_000 && *steps_piped <= 5_000, "{steps_piped}");
        let mut again = Simulator::new(&net, backend)?;
        again.set_health_check(false);
        again.set_pipelined(false);
        again.ablate(hot, &[0, 1, 2])?;
        again.run_steps(2_000)?;
        again.restore(hot, &[1])?;
        again.run_steps(*steps_piped - 2_000)?;
        assert_same_spikes("spikes to where the pipelined run stopped", again.spikes(&probe)?, spikes_piped);
        assert!(spikes_one.steps.len() < spikes_piped.steps.len());
        Ok(())
    }

    // The executor interface: chunks come back in the order they were submitted, as many may
    // be in flight as the ring holds and no more, and `run_chunk` refuses to run while chunks
    // are in flight (it would return an older chunk's records).
    fn chunks_come_back_in_order_and_the_ring_refuses_one_too_many(backend: BackendChoice) {
        let (net, ..) = recurrent(3)?;
        let program = Arc::new(lamina::lower::build(&net)?.program());
        let mut exec = lamina::exec::open(&program, &backend)?;
        let depth = exec.max_in_flight();
        assert!(depth >= 2, "a ring of {depth}");
        for k in 0..depth as u32 {
            exec.submit_chunk(k * 100, 100 + k, &[])?;
        }
        assert_eq!(exec.in_flight(), depth);
        let err = exec.submit_chunk(1_000, 10, &[]).unwrap_err().to_string();
        assert!(err.contains("collect"), "{err}");
        let err = exec.run_chunk(1_000, 10, &[]).unwrap_err().to_string();
        assert!(err.contains("in flight"), "{err}");
        for k in 0..depth as u32 {
            assert_eq!(exec.collect_chunk()?.steps, 100 + k, "chunk {k}");
        }
        assert_eq!(exec.in_flight(), 0);
        assert!(exec.collect_chunk().is_err(), "nothing left to collect");
        Ok(())
    }
}
