//! Steps of many spikes, of a few and of none, in turn: the neuron update counts each step's
//! spikes and sizes the propagation that follows it (even and odd steps counted apart, with no
//! launch between the two), so every spike of a step must reach its synapses whatever the step
//! before it held: none, three, 65,535 (the most workgroups one dispatch dimension takes),
//! 65,536 and 70,000 (past it, where workgroups take several spikes each).

mod common;
use lamina::prelude::*;

/// Source neurons, each wired to the target neuron of its own index.
const N: u32 = 70_000;
const DT_MS: f64 = 0.1;
const WEIGHT_PA: f64 = 10.0;
const TAU_SYN_MS: f64 = 2.0;
const STEPS: u64 = 12;

/// The steps at which source `j` fires.
fn schedule(j: u32) -> Vec<u64> {
    let mut steps = vec![0, 2];
    if j < 3 {
        steps.push(3);
    }
    if j < 65_536 {
        steps.push(5);
    }
    if j < 65_535 {
        steps.push(6);
    }
    if j % 2 == 1 {
        steps.push(8);
    }
    steps
}

/// The excitatory current of a target at the start of each step, in f64: a spike at step s
/// reaches the ring slot of step s + 1 (a delay of one step), is added in that step's update
/// and is seen from the next sample on, decaying by exp(-dt / tau) a step.
fn expected_current(fired: &[u64]) -> Vec<f64> {
    let decay = (-DT_MS / TAU_SYN_MS).exp();
    let mut current = 0.0;
    let mut samples = Vec::new();
    for step in 0..STEPS {
        samples.push(current);
        let arriving = fired.iter().filter(|&&s| s + 1 == step).count();
        current = decay * current + WEIGHT_PA * arriving as f64;
    }
    samples
}

on_every_backend! {
    fn every_spike_of_a_crowded_or_quiet_step_arrives(backend: BackendChoice) {
        let mut net = Network::new();
        let times: Vec<Vec<f64>> = (0..N)
            .map(|j| schedule(j).iter().map(|&s| s as f64 * DT_MS).collect())
            .collect();
        let src = net.spike_source("src", times)?;
        let quiet = LifCurrent {
            i_e_pa: 0.0,
            v_init_mv: Dist::Const(-70.0),
            tau_syn_ex_ms: TAU_SYN_MS,
            ..LifCurrent::default()
        };
        let tgt = net.population("tgt", N, quiet)?;
        let pairs: Vec<(u32, u32)> = (0..N).map(|j| (j, j)).collect();
        net.connect(src, tgt, Connectivity::Explicit(pairs), WEIGHT_PA, DT_MS)?;
        let fired = net.probe_spikes(src)?;
        let state = net.probe_state(tgt, DT_MS)?;
        let mut sim = Simulator::new(&net, backend)?;
        sim.run_steps(STEPS)?;

        // The sources fired as scheduled: the counts per step the test is about.
        let trains = sim.spikes(&fired)?;
        let mut per_step = vec![0u32; STEPS as usize];
        for &s in &trains.steps {
            per_step[s as usize] += 1;
        }
        assert_eq!(
            per_step,
            [N, 0, N, 3, 0, 65_536, 65_535, 0, N / 2, 0, 0, 0],
            "spikes per step"
        );

        let current = sim.state(&state, StateVar::ISynEx)?;
        assert_eq!(current.shape(), [STEPS as usize, N as usize]);
        let mut wrong = Vec::new();
        for j in 0..N {
            let want = expected_current(&schedule(j));
            for (k, &w) in want.iter().enumerate() {
                let got = current[[k, j as usize]] as f64;
                if (got - w).abs() > 1e-3 * w.max(1.0) {
                    wrong.push((j, k, got, w));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} (target, sample) pairs off, the first {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
        Ok(())
    }
}
