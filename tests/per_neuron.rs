//! Per-neuron arrays: initial state, constant currents and parameters given one value per
//! neuron.

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

/// One neuron's LIF parameters, for the populations of one neuron that the per-neuron
/// parameters must reproduce.
fn neuron(k: usize) -> LifCurrent {
    let k = k as f64;
    LifCurrent {
        tau_m_ms: 10.0 + 4.0 * k,
        c_m_pf: 250.0 - 20.0 * k,
        e_l_mv: -70.0 + 0.5 * k,
        v_reset_mv: -70.0 + 2.0 * k,
        v_th_mv: -55.0 + 1.5 * k,
        t_ref_ms: 0.5 + 0.7 * k,
        tau_syn_ex_ms: 1.0 + 0.5 * k,
        tau_syn_in_ms: 3.0 - 0.4 * k,
        i_e_pa: 500.0 + 60.0 * k,
        ..LifCurrent::default()
    }
}

const N: usize = 5;

/// Spike times of the source that drives both networks: the same input to every neuron.
fn source_times() -> Vec<Vec<f64>> {
    (0..4)
        .map(|s| {
            (0..40)
                .map(|j| 1.0 + 2.3 * j as f64 + 0.7 * s as f64)
                .collect()
        })
        .collect()
}

/// Drives `target` from `src` (all to all: every neuron the same fan-in and weights, so that
/// a population of one gets the fixed-point scale of the whole) with excitation and inhibition.
fn drive(net: &mut Network, src: PopulationId, target: PopulationId) -> Result<()> {
    net.connect(src.slice(0..3), target, Connectivity::AllToAll, 90.0, 1.0)?;
    net.connect(src.slice(3..4), target, Connectivity::AllToAll, -120.0, 2.0)?;
    Ok(())
}

/// Per neuron: spike steps and the bits of v at every step, from a run of 0.1 s.
type Traces = Vec<(Vec<u64>, Vec<u32>)>;

fn traces(sim: &mut Simulator, probes: &[(SpikeProbe, StateProbe, u32)]) -> Result<Traces> {
    sim.run(0.1)?;
    let mut out = vec![(Vec::new(), Vec::new()); N];
    for (spikes, state, first) in probes {
        let t = sim.spikes(spikes)?;
        let v = sim.state(state, StateVar::V)?;
        for (step, local) in t.steps.iter().zip(&t.neurons) {
            out[(first + local) as usize].0.push(*step);
        }
        for (j, column) in v.columns().into_iter().enumerate() {
            out[*first as usize + j].1 = column.iter().map(|x| x.to_bits()).collect();
        }
    }
    Ok(out)
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
        assert!(
            err.to_string().contains(
                "the per-neuron input current of population `pop` differs from the \
                 checkpoint's (neuron 0: 11 here, 10 in the checkpoint)"
            ),
            "{err}"
        );
        let mut moved = with_current.clone();
        moved.initial_state(pop.slice(0..1), "v", &[-55.0])?;
        let err = Simulator::resume(&moved, backend.clone(), &path).map(|_| ()).unwrap_err();
        assert!(
            err.to_string().contains(
                "population `pop` has a per-neuron initial v, which the checkpoint's network \
                 had not"
            ),
            "{err}"
        );
        assert!(Simulator::resume(&with_current, backend.clone(), &path).is_ok());
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }

    fn per_neuron_parameters_run_as_populations_of_one_neuron(backend: BackendChoice) {
        let shared = LifCurrent::default();
        let v0: Vec<f64> = (0..N).map(|k| -68.0 + 2.5 * k as f64).collect();
        // One population, every parameter given per neuron.
        let mut net = Network::new().with_seed(4);
        let src = net.spike_source("src", source_times())?;
        let pop = net.population("pop", N as u32, shared.clone())?;
        for name in LifCurrent::PARAMETERS {
            let values: Vec<f64> = (0..N).map(|k| neuron(k).parameter(name).unwrap()).collect();
            net.parameter_each(pop, name, &values)?;
        }
        net.initial_state(pop, "v", &v0)?;
        net.current_each(pop, &[5.0, -10.0, 0.0, 20.0, 7.5])?;
        drive(&mut net, src, pop)?;
        let probes = [(net.probe_spikes(pop)?, net.probe_state(pop, 0.1)?, 0)];
        let mut sim = Simulator::new(&net, backend.clone())?;
        let each = traces(&mut sim, &probes)?;

        // The reference: each neuron alone in a population with its own parameters.
        let mut alone = Network::new().with_seed(4);
        let src = alone.spike_source("src", source_times())?;
        let mut probes = Vec::new();
        for k in 0..N {
            let p = alone.population(&format!("n{k}"), 1, neuron(k))?;
            alone.initial_state(p, "v", &v0[k..k + 1])?;
            alone.current(p, [5.0, -10.0, 0.0, 20.0, 7.5][k])?;
            drive(&mut alone, src, p)?;
            probes.push((alone.probe_spikes(p)?, alone.probe_state(p, 0.1)?, k as u32));
        }
        let mut sim = Simulator::new(&alone, backend.clone())?;
        let reference = traces(&mut sim, &probes)?;
        for k in 0..N {
            assert!(each[k].0.len() > 3, "neuron {k} fires: {:?} (alone: {:?})", each[k].0, reference[k].0);
            assert_eq!(each[k].0, reference[k].0, "spike steps of neuron {k}");
            assert_eq!(each[k].1, reference[k].1, "bits of v of neuron {k}");
        }
        // And the parameters matter: the neurons fire at different steps.
        assert_ne!(each[0].0, each[N - 1].0);
        Ok(())
    }

    fn per_neuron_values_equal_to_the_populations_change_nothing(backend: BackendChoice) {
        let (net, pop, probe) = network()?;
        let mut same = net.clone();
        let lif = LifCurrent::default();
        for name in ["v_th_mv", "tau_m_ms", "t_ref_ms", "i_e_pa"] {
            same.parameter_each(pop, name, &[lif.parameter(name).unwrap(); 40])?;
        }
        assert_eq!(hash(&net, &probe, &backend)?, hash(&same, &probe, &backend)?);
        // A lower threshold for half of them makes those fire more.
        let mut lower = net.clone();
        lower.parameter_each(pop.slice(0..20), "v_th_mv", &[-67.5; 20])?;
        let count = |net: &Network| -> Result<usize> {
            let mut sim = Simulator::new(net, backend.clone())?;
            sim.run(0.2)?;
            Ok(sim.spikes(&probe)?.neurons.iter().filter(|&&n| n < 20).count())
        };
        let (before, after) = (count(&net)?, count(&lower)?);
        assert!(after > before, "{before} spikes before, {after} after");
        Ok(())
    }

    fn a_user_models_parameters_per_neuron_run_as_populations_of_one(backend: BackendChoice) {
        let kinds = [
            IzhikevichParams::REGULAR_SPIKING,
            IzhikevichParams::FAST_SPIKING,
            IzhikevichParams::CHATTERING,
        ];
        let mut net = Network::new();
        let src = net.spike_source("src", source_times())?;
        let pop = net.neurons("izh", 3, izhikevich(IzhikevichParams::default()))?;
        net.parameter_each(pop, "a", &kinds.map(|k| k.a))?;
        net.parameter_each(pop, "c", &kinds.map(|k| k.c))?;
        net.parameter_each(pop, "d", &kinds.map(|k| k.d))?;
        net.current_each(pop, &[8.0, 9.0, 10.0])?;
        drive(&mut net, src, pop)?;
        let spikes = net.probe_spikes(pop)?;
        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run(0.2)?;
        let t = sim.spikes(&spikes)?.clone();
        let u = sim.neuron_state(pop, "u")?;
        assert_eq!(sim.neuron_param_each(pop, "d")?, kinds.map(|k| k.d as f32));
        assert_eq!(sim.neuron_param_each(pop, "b")?, [0.2f32; 3]);
        assert!(sim.neuron_param(pop, "d").is_err(), "one value of a per-neuron parameter");
        let mut set = Simulator::new(&net, backend.clone())?;
        set.set_neuron_param(pop, "d", 5.0)?;
        assert_eq!(set.neuron_param_each(pop, "d")?, [5.0f32; 3], "set for every neuron");
        assert_eq!(set.neuron_param_each(pop, "a")?, kinds.map(|k| k.a as f32), "the others stay");

        let mut alone = Network::new();
        let src = alone.spike_source("src", source_times())?;
        let mut probes = Vec::new();
        for (k, kind) in kinds.iter().enumerate() {
            let p = alone.neurons(&format!("n{k}"), 1, izhikevich(*kind))?;
            alone.current(p, [8.0, 9.0, 10.0][k])?;
            drive(&mut alone, src, p)?;
            probes.push((p, alone.probe_spikes(p)?));
        }
        let mut sim = Simulator::new(&alone, backend.clone())?;
        sim.run(0.2)?;
        for (k, (p, probe)) in probes.iter().enumerate() {
            let steps: Vec<u64> = t
                .steps
                .iter()
                .zip(&t.neurons)
                .filter(|(_, &n)| n == k as u32)
                .map(|(s, _)| *s)
                .collect();
            assert!(steps.len() > 2, "neuron {k} fires: {steps:?}");
            assert_eq!(steps, sim.spikes(probe)?.steps, "spike steps of neuron {k}");
            assert_eq!(u[k].to_bits(), sim.neuron_state(*p, "u")?[0].to_bits(), "u of {k}");
        }
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

#[test]
fn per_neuron_parameters_are_checked() {
    let (mut net, pop, _) = network().unwrap();
    let msg = |r: Result<()>| r.unwrap_err().to_string();
    let unknown = msg(net.parameter_each(pop, "v_thresh", &[-50.0; 40]));
    assert!(
        unknown.contains("no parameter `v_thresh`") && unknown.contains("\"v_th_mv\""),
        "{unknown}"
    );
    assert!(msg(net.parameter_each(pop, "v_th_mv", &[-50.0; 3])).contains("3 v_th_mv for 40"));
    let mut tau = vec![10.0; 40];
    tau[5] = -1.0;
    let bad = msg(net.parameter_each(pop, "tau_m_ms", &tau));
    assert!(
        bad.contains("neuron 5 of `pop`: tau_m_ms must be a positive number"),
        "{bad}"
    );
    tau[5] = f64::INFINITY;
    assert!(msg(net.parameter_each(pop, "tau_m_ms", &tau)).contains("tau_m_ms[5] is inf"));
    // Each value valid, together not: refused when the network is built, naming the neuron.
    let mut v_th = vec![-55.0; 40];
    v_th[9] = -75.0;
    net.parameter_each(pop, "v_th_mv", &v_th).unwrap();
    let err = Simulator::new(&net, BackendChoice::Cpu)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("v_reset_mv (-70) must lie below v_th_mv (-75)") && err.contains("neuron 9"),
        "{err}"
    );
    let src = net.spike_source("src", vec![vec![]; 2]).unwrap();
    assert!(msg(net.parameter_each(src, "v_th_mv", &[1.0; 2])).contains("spike source"));
    let izh = net
        .neurons("izh", 2, izhikevich(IzhikevichParams::default()))
        .unwrap();
    let unknown = msg(net.parameter_each(izh, "e", &[1.0; 2]));
    assert!(
        unknown.contains("no parameter `e`") && unknown.contains("\"a\""),
        "{unknown}"
    );
}
