//! Per-neuron arrays: initial state and constant currents given one value per neuron.

mod common;
use lamina::prelude::*;

/// CUBA-like drive of 40 neurons: recurrent synapses and Poisson input, so that initial
/// state and currents change who fires when.
fn network() -> Result<(Network, PopulationId, SpikeProbe)> {
    let mut net = Network::new().with_seed(9);
    let pop = net.population("pop", 40, LifCurrent::default())?;
    net.connect(pop, pop, Connectivity::FixedInDegree(8), 30.0, 1.0)?;
    net.poisson(
        pop,
        PoissonInput {
            in_degree: 50,
            rate_hz: 20.0,
            weight_pa: 40.0,
        },
    )?;
    let spikes = net.probe_spikes(pop)?;
    Ok((net, pop, spikes))
}

fn hash(net: &Network, probe: &SpikeProbe, backend: &BackendChoice) -> Result<u64> {
    let mut sim = Simulator::new(net, backend.clone())?;
    sim.run(0.2)?;
    Ok(sim.spikes(probe)?.hash())
}

on_every_backend! {
    fn arrays_equal_to_what_the_build_draws_change_nothing(backend: BackendChoice) {
        let (net, pop, probe) = network()?;
        let drawn = lamina::lower::build(&net)?.v_init;
        let mut same = net.clone();
        let v: Vec<f64> = drawn.iter().map(|&v| v as f64).collect();
        same.initial_state(pop, "v", &v)?;
        same.current_each(pop, &[0.0; 40])?;
        assert_eq!(hash(&net, &probe, &backend)?, hash(&same, &probe, &backend)?);
        // One current per neuron equal to a current for all: the same spikes.
        let mut all = net.clone();
        all.current(pop, 120.0)?;
        let mut each = net.clone();
        each.current_each(pop, &[120.0; 40])?;
        assert_eq!(hash(&all, &probe, &backend)?, hash(&each, &probe, &backend)?);
        Ok(())
    }

    fn each_neuron_gets_its_own_current_and_initial_potential(backend: BackendChoice) {
        let mut net = Network::new();
        let pop = net.population("pop", 3, LifCurrent::default())?;
        // Neuron 0 stays below threshold, 1 and 2 fire; 2 starts just under threshold and so
        // fires first.
        net.current_each(pop, &[100.0, 1000.0, 1000.0])?;
        net.initial_state(pop.slice(2..3), "v", &[-50.5])?;
        let probe = net.probe_spikes(pop)?;
        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run(0.1)?;
        let t = sim.spikes(&probe)?;
        let count = |n| t.neurons.iter().filter(|&&k| k == n).count();
        assert_eq!(count(0), 0);
        assert!(count(1) > 0 && count(2) > 0);
        assert_eq!(t.neurons[0], 2, "the neuron that started near threshold fires first");
        Ok(())
    }

    fn a_user_models_variables_start_where_they_are_set(backend: BackendChoice) {
        let mut net = Network::new();
        let pop = net.neurons("izh", 4, izhikevich(IzhikevichParams::default()))?;
        net.initial_state(pop, "u", &[-1.0, -2.0, -3.0, -4.0])?;
        net.initial_state(pop.slice(1..3), "v", &[-60.0, -61.0])?;
        let mut sim = Simulator::new(&net, backend.clone())?;
        assert_eq!(sim.neuron_state(pop, "u")?, [-1.0, -2.0, -3.0, -4.0]);
        let v = sim.neuron_state(pop, "v")?;
        assert_eq!((v[1], v[2]), (-60.0, -61.0));
        assert_eq!(v[0], v[3], "neurons without a value keep the drawn one");
        Ok(())
    }

    fn a_checkpoint_names_the_array_that_differs(backend: BackendChoice) {
        let (net, pop, _) = network()?;
        let dir = common::scratch("per-neuron", &backend);
        let path = dir.join("run.npz");
        let mut with_current = net.clone();
        with_current.current_each(pop, &[10.0; 40])?;
        let mut sim = Simulator::new(&with_current, backend.clone())?;
        sim.run(0.05)?;
        sim.checkpoint(&path)?;
        let mut other = net.clone();
        other.current_each(pop, &[11.0; 40])?;
        let err = Simulator::resume(&other, backend.clone(), &path).map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("differs in the neurons' constant input currents"), "{err}");
        let mut moved = with_current.clone();
        moved.initial_state(pop.slice(0..1), "v", &[-55.0])?;
        let err = Simulator::resume(&moved, backend.clone(), &path).map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("differs in the neurons' initial state"), "{err}");
        assert!(Simulator::resume(&with_current, backend.clone(), &path).is_ok());
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }
}

#[test]
fn arrays_of_the_wrong_length_or_variable_are_refused() {
    let (mut net, pop, _) = network().unwrap();
    let msg = |r: Result<()>| r.unwrap_err().to_string();
    assert!(msg(net.current_each(pop, &[1.0; 39])).contains("39 amplitudes for 40 neurons"));
    assert!(msg(net.initial_state(pop, "u", &[0.0; 40])).contains("no state variable `u`"));
    let mut v = vec![-60.0; 40];
    v[7] = f64::NAN;
    assert!(msg(net.initial_state(pop, "v", &v)).contains("values[7] is NaN"));
    let src = net.spike_source("src", vec![vec![]; 2]).unwrap();
    assert!(msg(net.current_each(src, &[1.0; 2])).contains("spike source"));
}
