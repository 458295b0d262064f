//! Bad input returns an error that says what was wrong; it never panics.

mod common;
use lamina::prelude::*;

#[track_caller]
fn assert_err<T: std::fmt::Debug>(r: Result<T>, needle: &str) {
    match r {
        Ok(v) => panic!("expected an error mentioning `{needle}`, got Ok({v:?})"),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(needle),
                "error `{msg}` should mention `{needle}`"
            );
        }
    }
}

fn two_pops() -> (Network, PopulationId, PopulationId) {
    let mut net = Network::new();
    let a = net.population("a", 10, LifCurrent::default()).unwrap();
    let b = net.population("b", 5, LifCurrent::default()).unwrap();
    (net, a, b)
}

#[test]
fn explicit_indices_out_of_range() {
    let (mut net, a, b) = two_pops();
    assert_err(
        net.connect(a, b, Connectivity::Explicit(vec![(0, 1), (3, 5)]), 1.0, 1.0),
        "out of range",
    );
    assert_err(
        net.connect(a.slice(5..12), b, Connectivity::AllToAll, 1.0, 1.0),
        "out of range",
    );
    assert_err(
        net.connect(a.slice(4..4), b, Connectivity::AllToAll, 1.0, 1.0),
        "empty",
    );
}

#[test]
fn nan_and_infinite_weights() {
    let (mut net, a, b) = two_pops();
    assert_err(
        net.connect(a, b, Connectivity::AllToAll, f64::NAN, 1.0),
        "not a finite",
    );
    assert_err(
        net.connect(
            a,
            b,
            Connectivity::AllToAll,
            Dist::normal(f64::INFINITY, 1.0),
            1.0,
        ),
        "finite",
    );
    let pairs = Connectivity::Explicit(vec![(0, 0), (1, 1)]);
    assert_err(
        net.connect(a, b, pairs, vec![1.0, f64::NAN], 1.0),
        "synapse 1",
    );
}

#[test]
fn negative_and_zero_step_delays() {
    let (mut net, a, b) = two_pops();
    assert_err(
        net.connect(a, b, Connectivity::OneToOne, 1.0, 1.0),
        "equal sizes",
    );
    assert_err(net.connect(a, b, Connectivity::AllToAll, 1.0, -1.0), ">= 0");
    assert_err(
        net.connect(a, b, Connectivity::AllToAll, 1.0, 0.01),
        "at least one step",
    );
    assert_err(
        net.connect(a, b, Connectivity::AllToAll, 1.0, Dist::normal(1.0, 0.5)),
        "clip drawn delays",
    );
    assert!(net
        .connect(
            a,
            b,
            Connectivity::AllToAll,
            1.0,
            Dist::normal(1.0, 0.5).clipped(0.1, 10.0)
        )
        .is_ok());
}

#[test]
fn zero_sized_and_duplicate_populations() {
    let mut net = Network::new();
    assert_err(
        net.population("empty", 0, LifCurrent::default()),
        "no neurons",
    );
    net.population("x", 3, LifCurrent::default()).unwrap();
    assert_err(
        net.population("x", 3, LifCurrent::default()),
        "already exists",
    );
    let bad = LifCurrent {
        tau_m_ms: 0.0,
        ..LifCurrent::default()
    };
    assert_err(net.population("y", 3, bad), "tau_m_ms");
    let bad = LifCurrent {
        v_reset_mv: -40.0,
        ..LifCurrent::default()
    };
    assert_err(net.population("z", 3, bad), "v_reset_mv");
}

#[test]
fn handles_from_another_network() {
    let (mut net, a, _) = two_pops();
    let (mut other, c, _) = two_pops();
    assert_err(
        net.connect(a, c, Connectivity::AllToAll, 1.0, 1.0),
        "another network",
    );
    assert_err(net.probe_spikes(c), "another network");
    let foreign = other.probe_spikes(c).unwrap();
    net.probe_spikes(a).unwrap();
    let sim = Simulator::new(&net, BackendChoice::Cpu).unwrap();
    assert_err(sim.spikes(&foreign), "another network");
}

#[test]
fn other_invalid_inputs() {
    let (mut net, a, b) = two_pops();
    assert_err(
        net.connect(a, b, Connectivity::FixedProbability(1.5), 1.0, 1.0),
        "probability",
    );
    assert_err(
        net.poisson(
            b,
            PoissonInput {
                in_degree: 10,
                rate_hz: 20_000.0,
                weight_pa: 1.0,
            },
        ),
        "at most one",
    );
    assert_err(net.probe_state(a, 0.0), "sample_every_ms");
    let src = net.spike_source("src", vec![vec![1.0]]).unwrap();
    assert_err(net.probe_state(src, 1.0), "spike source");
    assert_err(
        net.connect(a, src, Connectivity::AllToAll, 1.0, 1.0),
        "spike source",
    );
    assert_err(net.spike_source("bad", vec![vec![f64::NAN]]), "finite");
    assert_err(net.connect_blocks(vec![]), "at least one block");
    let mut sim = Simulator::new(&net, BackendChoice::Cpu).unwrap();
    assert_err(sim.run(-1.0), ">= 0");
    assert_err(
        Simulator::new(&Network::new(), BackendChoice::Cpu).map(|_| ()),
        "no populations",
    );
}

#[test]
fn a_model_larger_than_the_adapter_allows_names_the_limit() {
    let Some(backend) = common::gpu_or_skip() else {
        return;
    };
    // 2 million neurons with a 20 ms delay: the ring needs 201 slots x 2M x 8 B = 3.2 GB,
    // beyond any adapter's storage binding limit (software adapters allow 128 MiB).
    let mut net = Network::new();
    let big = net
        .population("big", 2_000_000, LifCurrent::default())
        .unwrap();
    net.connect(
        big.slice(0..1),
        big.slice(1..2),
        Connectivity::OneToOne,
        1.0,
        20.0,
    )
    .unwrap();
    let err = Simulator::new(&net, backend)
        .err()
        .expect("the model cannot fit")
        .to_string();
    assert!(
        err.contains("max_storage_buffer_binding_size") || err.contains("max_buffer_size"),
        "{err}"
    );
    assert!(
        err.contains("3216000000"),
        "the error should give the size: {err}"
    );
}

#[test]
fn delays_beyond_the_record_are_refused_not_wrapped() {
    // 2^32 + 5 steps of 0.1 ms: once wrapped to a delay of 5 steps.
    for delay_ms in [429_496_730.1, 429_496_729.6, 6553.6] {
        let (mut net, a, b) = two_pops();
        net.connect(a, b, Connectivity::AllToAll, 10.0, delay_ms)
            .unwrap();
        assert_err(
            Simulator::new(&net, BackendChoice::Cpu).map(|_| ()),
            "exceeds the 65535 steps",
        );
    }
}

#[test]
fn changing_dt_after_adding_inputs_is_checked_at_build() {
    let (mut net, a, b) = two_pops();
    net.connect(a, b, Connectivity::AllToAll, 10.0, 0.1)
        .unwrap();
    assert_err(
        Simulator::new(&net.clone().with_dt_ms(1.0), BackendChoice::Cpu).map(|_| ()),
        "with_dt_ms",
    );
    let (mut net, _, b) = two_pops();
    let input = PoissonInput {
        in_degree: 10,
        rate_hz: 5000.0,
        weight_pa: 1.0,
    };
    net.poisson(b, input).unwrap();
    assert_err(
        Simulator::new(&net.clone().with_dt_ms(1.0), BackendChoice::Cpu).map(|_| ()),
        "at most one",
    );
    // A state probe's interval is in ms: it follows dt.
    let (mut net, a, _) = two_pops();
    let probe = net.probe_state(a, 1.0).unwrap();
    let mut sim = Simulator::new(&net.with_dt_ms(0.5), BackendChoice::Cpu).unwrap();
    sim.run(0.005).unwrap();
    let t = sim.state_times(&probe).unwrap();
    assert_eq!(t.len(), 5, "{t:?}");
    assert!((t[1] - t[0] - 1e-3).abs() < 1e-12, "{t:?}");
}

#[test]
fn a_nef_sub_slice_outside_its_slice_is_refused() {
    let mut net = NefNetwork::new();
    let a = net.ensemble("a", Ensemble::new(10, 3)).unwrap();
    let b = net.ensemble("b", Ensemble::new(10, 2)).unwrap();
    // Elements 0..2 of a one-element slice: once taken as a.slice(0..2).
    assert_err(
        net.connect(a.slice(0..1).slice(0..2), b, Connection::new()),
        "sub-slice",
    );
    assert_err(
        net.connect(a.slice(1..3).slice(1..1), b.slice(0..1), Connection::new()),
        "sub-slice",
    );
    net.connect(a.slice(1..3).slice(1..2), b.slice(0..1), Connection::new())
        .unwrap();
}

#[test]
fn nef_values_beyond_float32_are_refused() {
    // 1e300 is a finite f64 and an infinite f32: refused where it enters, not left to become
    // inf inside the simulation.
    let mut net = NefNetwork::new().with_seed(1);
    assert_err(
        net.node("huge", Node::constant(&[1e300])).map(|_| ()),
        "not finite in float32",
    );
    let stim = net.node("stim", Node::constant(&[0.5])).unwrap();
    let ens = net.ensemble("ens", Ensemble::new(10, 1)).unwrap();
    assert_err(
        net.connect(
            stim,
            ens,
            Connection::new().transform(ndarray::array![[1e39]]),
        )
        .map(|_| ()),
        "float32",
    );
    let wild = net
        .node(
            "wild",
            Node::function(1, |t| vec![if t > 0.01 { 1e300 } else { 0.0 }]),
        )
        .unwrap();
    net.connect(wild, ens, Connection::new()).unwrap();
    let mut sim = Simulator::new(&net, BackendChoice::Cpu).unwrap();
    assert_err(sim.run(0.05), "node `wild` returned 1e300");
}

#[test]
fn a_model_too_large_for_a_plan_is_refused_before_anything_is_drawn() {
    // 9e10 synapses: refused from the counts alone, in milliseconds, on either backend.
    let mut net = Network::new();
    let a = net.population("a", 300_000, LifCurrent::default()).unwrap();
    let b = net.population("b", 300_000, LifCurrent::default()).unwrap();
    net.connect(a, b, Connectivity::AllToAll, 1.0, 1.0).unwrap();
    for backend in [BackendChoice::Cpu, BackendChoice::Auto] {
        assert_err(
            Simulator::new(&net, backend).map(|_| ()),
            "about 9.00e10 synapses",
        );
    }
    // The full microcircuit at scale 20 has about 6e9.
    let big = lamina::builtin::microcircuit::build(20.0, 1, false).unwrap();
    assert_err(
        Simulator::new(&big.network, BackendChoice::Cpu).map(|_| ()),
        "2^32 - 1",
    );
}

#[test]
fn the_size_estimate_matches_what_the_build_makes() {
    use lamina::lower::estimate::Estimate;
    let mc = lamina::builtin::microcircuit::build(0.02, 1, false).unwrap();
    let cuba = lamina::builtin::cuba::build(2000, 1).unwrap();
    for (what, net) in [("microcircuit", &mc.network), ("cuba", &cuba.network)] {
        let est = Estimate::of(net).unwrap();
        let plan = lamina::lower::build(net).unwrap();
        assert_eq!(est.neurons, plan.neuron_count() as u64, "{what}");
        let drawn = plan.synapse_count() as f64;
        // The microcircuit's counts are exact; CUBA's are binomial draws around the mean.
        assert!(
            (est.synapses - drawn).abs() < 0.02 * drawn,
            "{what}: estimated {} synapses, drawn {drawn}",
            est.synapses
        );
        // The estimate covers the plan's buffers and the build's transient arrays on top.
        let plan_bytes = plan.buffer_bytes();
        assert!(
            est.host_bytes >= plan_bytes && est.host_bytes < 4 * plan_bytes,
            "{what}: estimated {} host bytes for a plan of {plan_bytes}",
            est.host_bytes
        );
    }
}

#[test]
fn weights_beyond_the_fixed_point_accumulator_are_refused_naming_the_largest() {
    let (mut net, a, b) = two_pops();
    net.connect(a, b, Connectivity::AllToAll, 1e14, 1.0)
        .unwrap();
    assert_err(
        Simulator::new(&net, BackendChoice::Cpu).map(|_| ()),
        "above the largest weight lamina accumulates exactly, 1.759e13 pA",
    );
    // Just below the largest, the build goes through.
    let (mut net, a, b) = two_pops();
    net.connect(a, b, Connectivity::FixedInDegree(1), -1.7e13, 1.0)
        .unwrap();
    assert!(Simulator::new(&net, BackendChoice::Cpu).is_ok());
}

#[test]
fn a_network_too_large_for_the_adapter_is_refused_before_it_is_built() {
    let Some(BackendChoice::Gpu(opts)) = common::gpu_or_skip() else {
        return;
    };
    // One neuron more than the smallest delay ring (2 slots x 2 channels x 4 bytes a neuron)
    // that one binding of this adapter holds.
    let limit = lamina::exec::gpu::context::binding_limit(&opts).unwrap().0;
    let neurons = u32::try_from(limit / 16 + 1).unwrap_or(u32::MAX / 4);
    let mut net = Network::new();
    net.population("big", neurons, LifCurrent::default())
        .unwrap();
    let err = Simulator::new(&net, BackendChoice::Gpu(opts))
        .map(|_| ())
        .unwrap_err();
    // Refused by the device's limit, or first by the host's memory on a machine with less
    // memory than the adapter binds: either way from the counts, before any work.
    let msg = err.to_string();
    assert!(
        msg.contains("need a delay ring of at least") || msg.contains("of host memory"),
        "{msg}"
    );
}

#[test]
fn a_negative_or_zero_time_step_names_the_value_the_rule_and_a_fix() {
    for dt in [-0.1, 0.0, f64::NAN] {
        let mut net = Network::new().with_dt_ms(dt);
        net.population("a", 10, LifCurrent::default()).unwrap();
        assert_err(
            Simulator::new(&net, BackendChoice::Cpu).map(|_| ()),
            &format!("dt = {dt} ms: the time step must be a positive number of milliseconds"),
        );
    }
    let mut nef = NefNetwork::new().with_dt(-0.001);
    nef.ensemble("a", Ensemble::new(10, 1)).unwrap();
    assert_err(
        Simulator::new(&nef, BackendChoice::Cpu).map(|_| ()),
        "dt = -0.001 s: the time step must be a positive number of seconds; use e.g. NefNetwork::with_dt(0.001)",
    );
}
