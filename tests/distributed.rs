//! One network on several processes gives the spikes of one process: ranks here are threads
//! of this process (`LocalGroup`); `tests/mpi.sh` runs the same networks as MPI processes.

mod common;

use lamina::builtin::{cuba, microcircuit};
use lamina::model::plasticity::Snippet;
use lamina::prelude::*;
use lamina::sim::distributed::{Communicator, LocalGroup};

/// Runs `job` on `ranks` ranks (threads), each with its own communicator, and returns what
/// each returned, in rank order.
fn on_ranks<T: Send>(
    ranks: usize,
    job: impl Fn(Box<dyn Communicator>) -> lamina::Result<T> + Sync,
) -> Vec<lamina::Result<T>> {
    let group = LocalGroup::new(ranks).expect("a group");
    std::thread::scope(|s| {
        let handles: Vec<_> = group
            .into_iter()
            .map(|comm| {
                let job = &job;
                s.spawn(move || job(Box::new(comm)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Runs `job` on each number of `ranks` and checks that every rank returns `alone`, what one
/// process gave.
fn every_rank_gives<T: PartialEq + std::fmt::Debug + Send>(
    ranks: &[usize],
    alone: &T,
    job: impl Fn(Box<dyn Communicator>) -> lamina::Result<T> + Sync,
) -> lamina::Result<()> {
    for &n in ranks {
        for (rank, r) in on_ranks(n, &job).into_iter().enumerate() {
            assert_eq!(&r?, alone, "rank {rank} of {n}");
        }
    }
    Ok(())
}

/// Every probe's spike hash after `seconds`, in one process.
fn hashes_alone(
    net: &Network,
    probes: &[SpikeProbe],
    backend: &BackendChoice,
    seconds: f64,
) -> lamina::Result<Vec<u64>> {
    let mut sim = Simulator::new(net, backend.clone())?;
    sim.run(seconds)?;
    probes.iter().map(|p| Ok(sim.spikes(p)?.hash())).collect()
}

/// Checks that 1, 2, 3 and 4 ranks give every probe the hashes of one process, on every rank,
/// and that the network fired at all.
fn same_spikes_on_1_to_4_ranks(
    net: &Network,
    probes: &[SpikeProbe],
    backend: &BackendChoice,
    seconds: f64,
) -> lamina::Result<()> {
    let alone = hashes_alone(net, probes, backend, seconds)?;
    let mut one = Simulator::new(net, backend.clone())?;
    one.run(seconds)?;
    let fired: usize = (probes.iter())
        .map(|p| one.spikes(p).map(|t| t.neurons.len()))
        .sum::<lamina::Result<usize>>()?;
    assert!(fired > 100, "the network should fire: {fired} spikes");
    for ranks in 1..=4 {
        let results = on_ranks(ranks, |comm| {
            let mut sim = Simulator::distributed(net, backend.clone(), comm)?;
            sim.run(seconds)?;
            let hashes: Vec<u64> = (probes.iter())
                .map(|p| Ok(sim.spikes(p)?.hash()))
                .collect::<lamina::Result<_>>()?;
            Ok((hashes, sim.rank_times()))
        });
        for (rank, result) in results.into_iter().enumerate() {
            let (hashes, times) = result?;
            assert_eq!(hashes, alone, "rank {rank} of {ranks}");
            assert!(times.exchanges > 0, "rank {rank} of {ranks} exchanged");
        }
    }
    Ok(())
}

/// A recurrent network whose delays are drawn from `delay_ms` (one step or longer), with
/// Poisson drive.
fn recurrent(delay_ms: Dist, seed: u64) -> lamina::Result<(Network, Vec<SpikeProbe>)> {
    Ok(recurrent_with_populations(delay_ms, seed)?.0)
}

/// [`recurrent`], with its populations (excitatory, inhibitory).
#[allow(clippy::type_complexity)]
fn recurrent_with_populations(
    delay_ms: Dist,
    seed: u64,
) -> lamina::Result<((Network, Vec<SpikeProbe>), (PopulationId, PopulationId))> {
    let mut net = Network::new().with_seed(seed);
    let exc = net.population("exc", 300, LifCurrent::default())?;
    let inh = net.population("inh", 100, LifCurrent::default())?;
    for (from, to, w) in [(exc, exc, 40.0), (exc, inh, 40.0), (inh, exc, -120.0)] {
        net.connect(
            from,
            to,
            Connectivity::FixedProbability(0.1),
            w,
            delay_ms.clone(),
        )?;
    }
    for pop in [exc, inh] {
        net.poisson(
            pop,
            PoissonInput {
                in_degree: 100,
                rate_hz: 40.0,
                weight_pa: 90.0,
            },
        )?;
    }
    let probes = vec![net.probe_spikes(exc)?, net.probe_spikes(inh)?];
    Ok(((net, probes), (exc, inh)))
}

on_every_backend! {
    fn cuba_gives_the_same_spikes_on_1_to_4_ranks(backend: BackendChoice) {
        let c = cuba::build(1000, 3)?;
        same_spikes_on_1_to_4_ranks(&c.network, &[c.exc_spikes, c.inh_spikes], &backend, 0.1)
    }

    fn the_microcircuit_gives_the_same_spikes_on_1_to_4_ranks(backend: BackendChoice) {
        let m = microcircuit::build(0.02, 11, false)?;
        same_spikes_on_1_to_4_ranks(&m.network, &m.spikes, &backend, 0.05)
    }

    fn delays_of_one_step_give_the_same_spikes(backend: BackendChoice) {
        let (net, probes) = recurrent(Dist::Const(0.1), 5)?;
        same_spikes_on_1_to_4_ranks(&net, &probes, &backend, 0.1)
    }

    fn heterogeneous_delays_give_the_same_spikes(backend: BackendChoice) {
        // Delays from 0.5 to 4 ms: blocks of 5 steps, arrivals spread over 35 steps.
        let (net, probes) = recurrent(Dist::Uniform { low: 0.5, high: 4.0 }, 6)?;
        same_spikes_on_1_to_4_ranks(&net, &probes, &backend, 0.1)
    }

    fn the_exchange_interval_is_the_shortest_delay_between_processes(backend: BackendChoice) {
        // Two areas, one step apart inside and 2 ms (20 steps) apart between: on two ranks,
        // one area each, they exchange every 20 steps.
        let mut net = Network::new().with_seed(12);
        let a = net.population("a", 200, LifCurrent::default())?;
        let b = net.population("b", 200, LifCurrent::default())?;
        for (from, to, delay) in [(a, a, 0.1), (b, b, 0.1), (a, b, 2.0), (b, a, 2.0)] {
            net.connect(from, to, Connectivity::FixedInDegree(20), 60.0, delay)?;
        }
        for pop in [a, b] {
            net.poisson(pop, PoissonInput { in_degree: 100, rate_hz: 40.0, weight_pa: 90.0 })?;
        }
        let probes = [net.probe_spikes(a)?, net.probe_spikes(b)?];
        let alone = hashes_alone(&net, &probes, &backend, 0.1)?;
        for r in on_ranks(2, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            sim.run(0.1)?;
            let hashes = probes.iter().map(|p| Ok(sim.spikes(p)?.hash()));
            let hashes = hashes.collect::<lamina::Result<Vec<u64>>>()?;
            Ok((sim.partition().unwrap().clone(), sim.rank_times().exchanges, hashes))
        }) {
            let (part, exchanges, hashes) = r?;
            assert_eq!(part.starts, vec![0, 200, 400]);
            assert_eq!(part.interval, 20);
            assert_eq!(exchanges, 1000 / 20);
            assert_eq!(hashes, alone);
        }
        Ok(())
    }

    fn a_probe_of_another_ranks_neurons_reads_as_in_one_process(backend: BackendChoice) {
        let ((mut net, _), (exc, inh)) =
            recurrent_with_populations(Dist::Uniform { low: 0.2, high: 2.0 }, 7)?;
        // The last inhibitory neurons belong to the last rank; rank 0 reads them.
        let spikes = net.probe_spikes(inh.slice(80..100))?;
        let state = net.probe_state(exc.slice(0..3), 0.3)?;
        let late = net.probe_state(inh.slice(95..100), 0.2)?;
        let mut one = Simulator::new(&net, backend.clone())?;
        one.run(0.05)?;
        one.run(0.03)?;
        let results = on_ranks(3, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            // Two runs, the first not a whole number of exchange intervals.
            sim.run(0.05)?;
            sim.run(0.03)?;
            let owner = sim.partition().unwrap().owner_of(399);
            Ok((
                sim.spikes(&spikes)?.clone(),
                sim.state(&state, StateVar::V)?,
                sim.state(&late, StateVar::ISynEx)?,
                sim.state_times(&late)?,
                owner,
            ))
        });
        let expected_spikes = one.spikes(&spikes)?;
        assert!(!expected_spikes.neurons.is_empty());
        for (rank, r) in results.into_iter().enumerate() {
            let (t, v, i_ex, times, owner) = r?;
            assert_eq!(owner, 2, "neuron 399 belongs to the last rank");
            assert_eq!(&t, expected_spikes, "rank {rank}");
            assert_eq!(v, one.state(&state, StateVar::V)?, "rank {rank}");
            assert_eq!(i_ex, one.state(&late, StateVar::ISynEx)?, "rank {rank}");
            assert_eq!(times, one.state_times(&late)?, "rank {rank}");
        }
        Ok(())
    }

    fn lesions_and_ablations_act_as_in_one_process(backend: BackendChoice) {
        let ((net, probes), (exc, inh)) =
            recurrent_with_populations(Dist::Uniform { low: 0.2, high: 2.0 }, 8)?;
        let act = |sim: &mut Simulator| -> lamina::Result<(u64, Vec<SynapseView>, Vec<u64>)> {
            sim.run(0.03)?;
            let cut = sim.lesion(inh.slice(0..50), exc)?;
            sim.ablate(exc, &[0, 1, 2, 299])?;
            sim.run(0.03)?;
            let view = sim.synapses(exc.slice(10..12), inh)?;
            let hashes = (probes.iter())
                .map(|p| Ok(sim.spikes(p)?.hash()))
                .collect::<lamina::Result<_>>()?;
            Ok((cut, view, hashes))
        };
        let (cut, mut view, hashes) = act(&mut Simulator::new(&net, backend.clone())?)?;
        assert!(cut > 0 && !view.is_empty());
        // Across processes the views come by pre neuron, then by the process of the post one.
        view.sort_by(|a, b| (a.pre, a.post).partial_cmp(&(b.pre, b.post)).unwrap());
        for (rank, r) in on_ranks(3, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            act(&mut sim)
        })
        .into_iter()
        .enumerate()
        {
            let (c, mut v, h) = r?;
            v.sort_by(|a, b| (a.pre, a.post).partial_cmp(&(b.pre, b.post)).unwrap());
            assert_eq!((c, &v, &h), (cut, &view, &hashes), "rank {rank}");
        }
        Ok(())
    }

    fn synapses_cut_and_healed_while_spikes_are_on_their_way_act_as_in_one_process(
        backend: BackendChoice
    ) {
        // Delays of 1.5 ms and more: the spikes other processes fired in the last 15 steps
        // before each change are delivered after it, and must deliver the weights they were
        // fired with, as in one process.
        let ((net, probes), (exc, inh)) =
            recurrent_with_populations(Dist::Uniform { low: 1.5, high: 3.0 }, 12)?;
        let act = |sim: &mut Simulator| -> lamina::Result<Vec<u64>> {
            sim.run(0.0333)?;
            sim.lesion(inh, exc)?;
            sim.lesion(exc.slice(0..150), exc)?;
            sim.run(0.0251)?;
            sim.restore_synapses()?;
            sim.run(0.0207)?;
            probes.iter().map(|p| Ok(sim.spikes(p)?.hash())).collect()
        };
        let alone = act(&mut Simulator::new(&net, backend.clone())?)?;
        every_rank_gives(&[2, 3], &alone, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            assert!(sim.partition().unwrap().interval >= 15);
            act(&mut sim)
        })
    }

    fn a_checkpoint_on_2_ranks_resumes_on_2_and_is_refused_on_3(backend: BackendChoice) {
        let (net, probes) = recurrent(Dist::Uniform { low: 0.3, high: 3.0 }, 9)?;
        let dir = common::scratch("distributed-checkpoint", &backend);
        let path = dir.join("run.npz");
        let alone = hashes_alone(&net, &probes, &backend, 0.1)?;
        let hashes = |sim: &Simulator| -> lamina::Result<Vec<u64>> {
            probes.iter().map(|p| Ok(sim.spikes(p)?.hash())).collect()
        };
        for r in on_ranks(2, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            // 0.043 s is not a whole number of exchange intervals: spikes are in flight.
            sim.run(0.043)?;
            sim.checkpoint(&path)?;
            sim.run(0.057)?;
            hashes(&sim)
        }) {
            assert_eq!(r?, alone);
        }
        for r in on_ranks(2, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            sim.load_checkpoint(&path)?;
            assert_eq!(sim.n_steps(), 430);
            sim.run(0.057)?;
            hashes(&sim)
        }) {
            assert_eq!(r?, alone, "resumed on 2 ranks");
        }
        for r in on_ranks(3, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            sim.load_checkpoint(&path)
        }) {
            let e = r.unwrap_err().to_string();
            assert!(e.contains("2 processes") && e.contains("3"), "{e}");
        }
        Ok(())
    }

    fn a_health_fault_on_one_rank_stops_every_rank(backend: BackendChoice) {
        // The last population's drive overflows float32; the last rank owns it.
        let mut net = Network::new().with_seed(2);
        let calm = net.population("calm", 300, LifCurrent::default())?;
        let wild = net.population(
            "wild",
            10,
            LifCurrent {
                c_m_pf: 1e-30,
                i_e_pa: 1e10,
                ..LifCurrent::default()
            },
        )?;
        net.connect(calm, wild, Connectivity::FixedInDegree(5), 30.0, 0.5)?;
        let mut one = Simulator::new(&net, backend.clone())?;
        one.set_health_check(true);
        let alone = one.run(0.01).unwrap_err().to_string();
        assert!(alone.contains("`wild`"), "{alone}");
        for (rank, r) in on_ranks(3, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            sim.set_health_check(true);
            sim.run(0.01)
        })
        .into_iter()
        .enumerate()
        {
            let e = r.unwrap_err().to_string();
            match rank {
                2 => assert!(e.contains("`wild`") && e.contains("NaN or infinite"), "{e}"),
                _ => assert!(e.contains("process 2 of 3 failed"), "{e}"),
            }
        }
        Ok(())
    }

    fn a_user_models_state_reads_whole_on_every_rank(backend: BackendChoice) {
        let mut net = Network::new().with_seed(4);
        let pop = net.neurons("izh", 120, izhikevich(IzhikevichParams::default()))?;
        net.connect(pop, pop, Connectivity::FixedInDegree(10), 2.0, 1.0)?;
        net.poisson(pop, PoissonInput { in_degree: 50, rate_hz: 30.0, weight_pa: 4.0 })?;
        let mut one = Simulator::new(&net, backend.clone())?;
        one.run(0.05)?;
        let expected = (one.neuron_state(pop, "v")?, one.neuron_state(pop, "u")?);
        for r in on_ranks(3, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            sim.run(0.05)?;
            Ok((sim.neuron_state(pop, "v")?, sim.neuron_state(pop, "u")?))
        }) {
            assert_eq!(r?, expected);
        }
        Ok(())
    }

    fn plastic_projections_learn_as_in_one_process(backend: BackendChoice) {
        // STDP on excitatory synapses with delays of 0.2 to 2 ms (two steps and more: the
        // interval becomes one step), a synapse model on inhibitory ones; a lesion of plastic
        // synapses and weights written between runs.
        let (net, probes, (exc, _), stdp_proj, model_proj) = plastic_network(0.2)?;
        type Seen = (Vec<u64>, Vec<f32>, Vec<SynapseView>, Vec<f32>, u64);
        let act = |sim: &mut Simulator| -> lamina::Result<Seen> {
            sim.run(0.04)?;
            let cut = sim.lesion(exc.slice(0..60), exc)?;
            let w: Vec<f64> = (sim.plastic_weights(stdp_proj)?.iter())
                .map(|&w| (w as f64 * 0.9).min(80.0))
                .collect();
            sim.set_plastic_weights(stdp_proj, &w)?;
            sim.run(0.0317)?;
            sim.restore_synapses()?;
            sim.run(0.02)?;
            let hashes = (probes.iter())
                .map(|p| Ok(sim.spikes(p)?.hash()))
                .collect::<lamina::Result<_>>()?;
            let weights = sim.plastic_weights(stdp_proj)?.to_vec();
            let view = sim.plastic_synapses(model_proj)?;
            let trace = sim.plastic_model_state(model_proj, "xpre")?.to_vec();
            Ok((hashes, weights, view, trace, cut))
        };
        let alone = act(&mut Simulator::new(&net, backend.clone())?)?;
        assert!(alone.4 > 0, "plastic synapses were cut");
        assert!(alone.1.iter().any(|&w| w != 40.0), "the weights learned");
        every_rank_gives(&[2, 3], &alone, |comm| {
            let mut sim = Simulator::distributed(&net, backend.clone(), comm)?;
            assert_eq!(sim.partition().unwrap().interval, 1);
            act(&mut sim)
        })
    }

    fn a_build_error_only_one_rank_draws_stops_every_rank(backend: BackendChoice) {
        // A process draws only the blocks onto populations it has neurons of: the delay of
        // b -> b, too long for a synapse, is found by the rank that holds b alone.
        let mut net = Network::new().with_seed(4);
        let a = net.population("a", 200, LifCurrent::default())?;
        let b = net.population("b", 200, LifCurrent::default())?;
        net.connect(a, a, Connectivity::FixedInDegree(20), 10.0, 1.0)?;
        net.connect(b, b, Connectivity::FixedInDegree(20), 10.0, 10_000.0)?;
        let alone = Simulator::new(&net, backend.clone()).err().expect("refused").to_string();
        assert!(alone.contains("65535 steps"), "{alone}");
        let results = on_ranks(2, |comm| Simulator::distributed(&net, backend.clone(), comm).map(|_| ()));
        let errors: Vec<String> = results.into_iter().map(|r| r.unwrap_err().to_string()).collect();
        assert!(errors[1].contains("65535 steps"), "{}", errors[1]);
        assert!(errors[0].contains("process 1 of 2 failed building"), "{}", errors[0]);
        Ok(())
    }

    fn plastic_synapses_of_one_step_between_processes_are_refused(backend: BackendChoice) {
        let (net, ..) = plastic_network(0.1)?;
        for r in on_ranks(2, |comm| Simulator::distributed(&net, backend.clone(), comm).map(|_| ())) {
            let e = r.unwrap_err().to_string();
            assert!(e.contains("plastic") && e.contains("at least two steps (0.2 ms here)"), "{e}");
        }
        // In one process they run.
        Simulator::new(&net, backend.clone())?.run(0.01)?;
        Ok(())
    }
}

/// The network of [`recurrent_with_populations`] with STDP on its excitatory synapses onto
/// excitatory neurons (delays from `shortest_ms` to 2 ms) and a pair-STDP synapse model on a
/// projection from the inhibitory neurons onto the excitatory ones.
#[allow(clippy::type_complexity)]
fn plastic_network(
    shortest_ms: f64,
) -> lamina::Result<(
    Network,
    Vec<SpikeProbe>,
    (PopulationId, PopulationId),
    ProjectionId,
    ProjectionId,
)> {
    let ((mut net, probes), (exc, inh)) = recurrent_with_populations(
        Dist::Uniform {
            low: 0.3,
            high: 2.0,
        },
        21,
    )?;
    let delays = Dist::Uniform {
        low: shortest_ms,
        high: 2.0,
    };
    let stdp_proj = net.connect(
        exc,
        exc,
        Connectivity::FixedInDegree(10),
        40.0,
        delays.clone(),
    )?;
    net.stdp(stdp_proj, common::pair_stdp())?;
    let model_proj = net.connect(inh, exc, Connectivity::FixedInDegree(5), -30.0, delays)?;
    let pair = SynapseModel::new("inhibitory_pair")
        .param("a", 1.5)
        .pre_trace("xpre", 0.015)
        .post_trace("xpost", 0.025)
        .on_pre("w = clamp(rn(w + rn(a * xpost)), -60.0, 0.0);")
        .on_post("w = clamp(rn(w - rn(a * xpre)), -60.0, 0.0);")
        .cpu_twin(|which, x, v| {
            let a = x.params[0];
            match which {
                Snippet::OnPre => v[0] = (v[0] + a * x.post_traces[0]).clamp(-60.0, 0.0),
                Snippet::OnPost => v[0] = (v[0] - a * x.pre_traces[0]).clamp(-60.0, 0.0),
                Snippet::PerStep => {}
            }
        });
    net.synapse_model(model_proj, pair, 60.0)?;
    Ok((net, probes, (exc, inh), stdp_proj, model_proj))
}

#[test]
fn a_failure_on_one_rank_stops_every_rank() {
    // Rank 1 asks for an adapter that does not exist; the others build fine, and still stop.
    let c = cuba::build(200, 1).unwrap();
    let results = on_ranks(3, |comm| {
        let choice = match comm.rank() {
            1 => BackendChoice::Gpu(GpuOptions {
                adapter: Some("no adapter has this name".into()),
                ..GpuOptions::default()
            }),
            _ => BackendChoice::Cpu,
        };
        Simulator::distributed(&c.network, choice, comm).map(|_| ())
    });
    for (rank, r) in results.into_iter().enumerate() {
        let e = r.unwrap_err().to_string();
        match rank {
            1 => assert!(e.contains("no adapter has this name"), "{e}"),
            _ => assert!(e.contains("process 1 of 3 failed"), "{e}"),
        }
    }
}

#[test]
fn the_split_balances_synapses_across_ranks() {
    let m = microcircuit::build(0.02, 11, false).unwrap();
    let parts: Vec<_> = on_ranks(4, |comm| {
        let sim = Simulator::distributed(&m.network, BackendChoice::Cpu, comm)?;
        Ok((sim.partition().unwrap().clone(), sim.plan().synapse_count()))
    })
    .into_iter()
    .map(|r| r.unwrap())
    .collect();
    // The ranks together hold every synapse of one process, each those onto its neurons.
    let total: u64 = parts.iter().map(|(_, held)| held).sum();
    let one = lamina::lower::build(&m.network).unwrap();
    assert_eq!(total, one.synapse_count());
    let expected: u64 = parts[0].0.synapses.iter().sum();
    for (rank, (p, held)) in parts.iter().enumerate() {
        assert_eq!(p.starts, parts[0].0.starts);
        assert_eq!(p.rank, rank as u32);
        assert_eq!(*held, p.synapses[rank], "rank {rank} reports what it drew");
        // Within 2% of a quarter, as the rules' expected in-degrees split them.
        let share = *held as f64 / total as f64;
        assert!((share - 0.25).abs() < 0.02, "rank {rank} holds {share}");
        let others = (0..4).filter(|&r| r != rank).map(|r| p.synapses[r]);
        let guess = others.sum::<u64>() + *held;
        assert!(
            (guess as f64 / total as f64 - 1.0).abs() < 0.02,
            "{guess} of {expected}"
        );
    }
}

#[test]
fn one_part_alone_is_refused() {
    let c = cuba::build(200, 1).unwrap();
    let alone = |mine: lamina::Result<u32>| mine;
    let part = lamina::lower::part::PartBuild {
        of: lamina::lower::part::PartOf { rank: 1, ranks: 2 },
        agree: &alone,
    };
    let plan = lamina::lower::build_part(&c.network, None, Some(part)).unwrap();
    let e = Simulator::from_plan(std::sync::Arc::new(plan), BackendChoice::Cpu)
        .err()
        .expect("a part alone is refused")
        .to_string();
    assert!(
        e.contains("process 1 of 2") && e.contains("Simulator::distributed"),
        "{e}"
    );
}
