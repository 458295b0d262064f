//! Same seed, same spikes: run to run, however projections are grouped, whatever order the
//! network is built in, on any number of host threads, and after reset().

mod common;
use common::assert_same_spikes;
use lamina::prelude::*;

/// Seed 004's network: 40 neurons in four groups of ten, `dv/dt = (I - v)/tau` with I = 2,
/// threshold 1, reset 0 (here in mV with c_m = tau_m), and fixed numbers of synapses 3, 5, 7, 9
/// from 2/3E and 4E.
struct Seed004 {
    net: Network,
    probes: Vec<SpikeProbe>,
}

const NAMES: [&str; 4] = ["2/3E", "2/3I", "4E", "4I"];
const SRC: [usize; 4] = [0, 0, 2, 2];
const TGT: [usize; 4] = [0, 1, 2, 3];
const NSYN: [u64; 4] = [3, 5, 7, 9];

fn neuron() -> LifCurrent {
    LifCurrent {
        tau_m_ms: 10.0,
        c_m_pf: 10.0,
        e_l_mv: 0.0,
        v_reset_mv: 0.0,
        v_th_mv: 1.0,
        t_ref_ms: 0.0,
        tau_syn_ex_ms: 1.0,
        tau_syn_in_ms: 1.0,
        i_e_pa: 2.0,
        v_init_mv: Dist::uniform(0.0, 1.0),
    }
}

/// `grouped`: one projection of four blocks (Brian2 method 2) or four projections (method 1).
/// `reversed`: populations and projections added in the opposite order.
fn seed004(grouped: bool, reversed: bool, sliced: bool) -> Result<Seed004> {
    let mut net = Network::new().with_seed(100);
    let mut slices: Vec<Option<NeuronSlice>> = vec![None; 4];
    if sliced {
        // One population of 40 and four slices of it, as the Brian2 user's subgroups; the names
        // key the randomness, so a single group cannot be compared with four populations.
        let all = net.population("all", 40, neuron())?;
        for (k, slot) in slices.iter_mut().enumerate() {
            *slot = Some(all.slice(10 * k as u32..10 * (k as u32 + 1)));
        }
    } else {
        let order: Vec<usize> = if reversed {
            (0..4).rev().collect()
        } else {
            (0..4).collect()
        };
        for k in order {
            slices[k] = Some(net.population(NAMES[k], 10, neuron())?.into());
        }
    }
    let s = |k: usize| slices[k].clone().unwrap();
    let mut blocks: Vec<Block> = (0..4)
        .map(|c| {
            Block::new(
                s(SRC[c]),
                s(TGT[c]),
                Connectivity::FixedTotalNumber(NSYN[c]),
                0.5,
                Dist::uniform(0.1, 2.0),
            )
        })
        .collect();
    if reversed {
        blocks.reverse();
    }
    if grouped {
        net.connect_blocks(blocks)?;
    } else {
        for b in blocks {
            net.connect_blocks(vec![b])?;
        }
    }
    let probes = (0..4)
        .map(|k| net.probe_spikes(s(k)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Seed004 { net, probes })
}

/// Two populations joined by a block of every rule, several from the same source so that rows
/// mix blocks generated row by row with drawn ones (fixed in-degree, explicit pairs); the blocks
/// are added in the given order. `with_probability`: include the one rule whose synapse count is
/// itself random.
fn every_rule(reversed: bool, with_probability: bool) -> Result<(Network, Vec<SpikeProbe>)> {
    let mut net = Network::new().with_seed(7);
    let a = net.population("a", 300, neuron())?;
    let b = net.population("b", 200, neuron())?;
    let w = || Dist::uniform(0.05, 0.2);
    let d = || Dist::uniform(0.5, 3.0);
    let mut blocks = vec![
        Block::new(a, b, Connectivity::FixedTotalNumber(5000), w(), d()),
        Block::new(a, b, Connectivity::FixedInDegree(7), -0.1, d()),
        Block::new(a, a, Connectivity::OneToOne, 0.1, 1.0),
        Block::new(
            a,
            b,
            Connectivity::Explicit(vec![(0, 1), (299, 0), (64, 64), (64, 64), (130, 7)]),
            vec![0.1, -0.2, 0.3, 0.1, 0.2],
            vec![1.0, 2.0, 3.0, 1.0, 0.5],
        ),
        Block::new(b, a, Connectivity::AllToAll, -0.01, d()),
        Block::new(a, b, Connectivity::FixedTotalNumber(3000), -0.1, d()),
    ];
    if with_probability {
        blocks.push(Block::new(
            a,
            a,
            Connectivity::FixedProbability(0.05),
            w(),
            d(),
        ));
    }
    if reversed {
        blocks.reverse();
    }
    for block in blocks {
        net.connect_blocks(vec![block])?;
    }
    let probes = vec![net.probe_spikes(a)?, net.probe_spikes(b)?];
    Ok((net, probes))
}

fn spikes_of(m: &Seed004, backend: &BackendChoice) -> Result<Vec<SpikeTrains>> {
    let mut sim = Simulator::new(&m.net, backend.clone())?;
    sim.run(0.2)?;
    m.probes.iter().map(|p| sim.spikes(p).cloned()).collect()
}

on_every_backend! {
    fn one_projection_of_four_blocks_equals_four_projections(backend: BackendChoice) {
        for sliced in [false, true] {
            let a = spikes_of(&seed004(false, false, sliced)?, &backend)?;
            let b = spikes_of(&seed004(true, false, sliced)?, &backend)?;
            for k in 0..4 {
                assert!(!a[k].steps.is_empty(), "group {k} is silent");
                assert_same_spikes(&format!("group {} (sliced: {sliced})", NAMES[k]), &a[k], &b[k]);
            }
        }
        Ok(())
    }

    fn rows_mixing_every_rule_depend_on_neither_threads_nor_order(backend: BackendChoice) {
        // The exact counts of the rules whose counts are not random: a fixed total number is
        // split among the rows without losing or adding one.
        let (net, _) = every_rule(false, false)?;
        let plan = lamina::lower::build(&net)?;
        assert_eq!(plan.synapse_count(), 5000 + 200 * 7 + 300 + 5 + 200 * 300 + 3000);
        // Plans and spikes on 1, 2 and 3 threads, with the blocks added in either order.
        let mut runs = Vec::new();
        for (threads, reversed) in [(1, false), (2, false), (3, false), (2, true)] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            runs.push(pool.install(|| -> Result<_> {
                let (net, probes) = every_rule(reversed, true)?;
                let plan = lamina::lower::build(&net)?;
                let mut sim = Simulator::new(&net, backend.clone())?;
                sim.run_steps(300)?;
                let spikes = probes
                    .iter()
                    .map(|p| sim.spikes(p).cloned())
                    .collect::<Result<Vec<_>>>()?;
                Ok((plan.row_ptr.clone(), plan.syn_words.clone(), spikes))
            })?);
        }
        let (row_ptr, words, spikes) = &runs[0];
        assert!(spikes.iter().all(|s| s.steps.len() > 100), "too few spikes");
        for (k, (r, w, s)) in runs.iter().enumerate().skip(1) {
            assert!(r == row_ptr, "run {k}: rows differ");
            assert!(w == words, "run {k}: records differ");
            for (p, (a, b)) in spikes.iter().zip(s).enumerate() {
                assert_same_spikes(&format!("run {k}, population {p}"), a, b);
            }
        }
        Ok(())
    }

    fn the_order_of_building_does_not_matter(backend: BackendChoice) {
        let a = spikes_of(&seed004(false, false, false)?, &backend)?;
        let b = spikes_of(&seed004(false, true, false)?, &backend)?;
        for k in 0..4 {
            assert_same_spikes(&format!("group {}", NAMES[k]), &a[k], &b[k]);
        }
        Ok(())
    }

    fn same_seed_same_spikes_and_another_seed_differs(backend: BackendChoice) {
        let run = |seed: u64| -> Result<SpikeTrains> {
            let m = lamina::builtin::cuba::build(1000, seed)?;
            let mut sim = Simulator::new(&m.network, backend.clone())?;
            sim.run(0.3)?;
            Ok(sim.spikes(&m.exc_spikes)?.clone())
        };
        let (a, b, c) = (run(5)?, run(5)?, run(6)?);
        assert!(a.steps.len() > 100, "{} spikes", a.steps.len());
        assert_same_spikes("run to run", &a, &b);
        assert_ne!(a.hash(), c.hash(), "seeds 5 and 6 gave the same spikes");
        Ok(())
    }

    fn reset_then_run_equals_a_fresh_simulator(backend: BackendChoice) {
        let m = lamina::builtin::cuba::build(1000, 3)?;
        let mut sim = Simulator::new(&m.network, backend.clone())?;
        sim.run(0.15)?;
        let first = sim.spikes(&m.exc_spikes)?.clone();
        sim.run(0.05)?;
        sim.reset()?;
        assert_eq!(sim.time(), 0.0);
        assert!(sim.spikes(&m.exc_spikes)?.steps.is_empty());
        sim.run(0.15)?;
        assert_same_spikes("after reset", &first, sim.spikes(&m.exc_spikes)?);
        Ok(())
    }

    fn running_in_pieces_equals_running_at_once(backend: BackendChoice) {
        let m = lamina::builtin::cuba::build(1000, 4)?;
        let mut whole = Simulator::new(&m.network, backend.clone())?;
        whole.run_steps(2500)?;
        let mut pieces = Simulator::new(&m.network, backend.clone())?;
        for n in [1, 999, 1, 1200, 299] {
            pieces.run_steps(n)?;
        }
        assert_same_spikes("pieces", whole.spikes(&m.exc_spikes)?, pieces.spikes(&m.exc_spikes)?);
        Ok(())
    }

    fn the_host_thread_count_changes_nothing(backend: BackendChoice) {
        // Built and run inside pools of 1, 2 and 3 threads: the synapses are drawn in parallel
        // work units, and the CPU twin updates neurons and delivers spikes in parallel (10,000
        // neurons is more than one of its tasks).
        let m = lamina::builtin::cuba::build(10_000, 8)?;
        let mut runs = Vec::new();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            runs.push(pool.install(|| -> Result<SpikeTrains> {
                let mut sim = Simulator::new(&m.network, backend.clone())?;
                sim.run_steps(600)?;
                Ok(sim.spikes(&m.exc_spikes)?.clone())
            })?);
        }
        assert!(runs[0].steps.len() > 1000, "{} spikes", runs[0].steps.len());
        assert_same_spikes("1 vs 2 threads", &runs[0], &runs[1]);
        assert_same_spikes("1 vs 3 threads", &runs[0], &runs[2]);
        Ok(())
    }

    fn plasticity_depends_on_neither_threads_nor_repeats(backend: BackendChoice) {
        // Recurrent STDP with delays of 1 to 2 ms on 10,000 neurons (more than one task of the
        // CPU twin), and a user synapse model on a second projection: the weights and spikes
        // on 1, 2 and 3 threads, and on a repeat, are the same bits.
        let mut net = Network::new().with_seed(21);
        // NEST's LIF, driven to fire irregularly at some Hz (the test neuron above fires every
        // step, too costly for a plastic network of this size).
        let lif = LifCurrent { v_init_mv: Dist::uniform(-70.0, -55.0), ..LifCurrent::default() };
        let pop = net.population("pop", 10_000, lif)?;
        net.poisson(pop, PoissonInput { in_degree: 40, rate_hz: 40.0, weight_pa: 110.0 })?;
        let delays = Values::Dist(Dist::Uniform { low: 1.0, high: 2.0 });
        let weights = || Values::Dist(Dist::Uniform { low: 0.0, high: 20.0 });
        let stdp = net.connect(pop, pop, Connectivity::FixedInDegree(20), weights(), delays.clone())?;
        net.stdp(stdp, Stdp::song_abbott(40.0))?;
        let model = net.connect(pop, pop, Connectivity::FixedInDegree(10), weights(), delays)?;
        let hebb = lamina::model::plasticity::SynapseModel::new("hebb")
            .pre_trace("x", 0.02)
            .on_post("w = min(rn(w + rn(0.5 * x)), 40.0);")
            .cpu_twin(|which, x, v| {
                if which == lamina::model::plasticity::Snippet::OnPost {
                    v[0] = (v[0] + 0.5 * x.pre_traces[0]).min(40.0);
                }
            });
        net.synapse_model(model, hebb, 40.0)?;
        let probe = net.probe_spikes(pop)?;
        let mut runs = Vec::new();
        for threads in [1, 2, 3, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            runs.push(pool.install(|| -> Result<(SpikeTrains, Vec<f32>, Vec<f32>)> {
                let mut sim = Simulator::new(&net, backend.clone())?;
                sim.run_steps(300)?;
                let w = sim.plastic_weights(stdp)?.to_vec();
                let m = sim.plastic_weights(model)?.to_vec();
                Ok((sim.spikes(&probe)?.clone(), w, m))
            })?);
        }
        assert!(runs[0].0.steps.len() > 1000, "{} spikes", runs[0].0.steps.len());
        let initial = Simulator::new(&net, BackendChoice::Cpu)?.plastic_weights(stdp)?.to_vec();
        assert_ne!(runs[0].1, initial, "the STDP weights learn");
        for (k, run) in runs.iter().enumerate().skip(1) {
            assert_same_spikes(&format!("run {k}"), &runs[0].0, &run.0);
            assert_eq!(runs[0].1, run.1, "run {k}: STDP weights");
            assert_eq!(runs[0].2, run.2, "run {k}: model weights");
        }
        Ok(())
    }

    fn simulators_can_be_built_and_dropped_many_times(backend: BackendChoice) {
        let m = lamina::builtin::cuba::build(500, 9)?;
        let mut hashes = Vec::new();
        for _ in 0..12 {
            let mut sim = Simulator::new(&m.network, backend.clone())?;
            sim.run_steps(200)?;
            hashes.push(sim.spikes(&m.exc_spikes)?.hash());
        }
        assert!(hashes.windows(2).all(|w| w[0] == w[1]));
        // Two live at once, stepping alternately, do not disturb each other.
        let mut a = Simulator::new(&m.network, backend.clone())?;
        let mut b = Simulator::new(&m.network, backend.clone())?;
        for _ in 0..4 {
            a.run_steps(50)?;
            b.run_steps(50)?;
        }
        assert_eq!(a.spikes(&m.exc_spikes)?.hash(), hashes[0]);
        assert_eq!(b.spikes(&m.exc_spikes)?.hash(), hashes[0]);
        Ok(())
    }
}
