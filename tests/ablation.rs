//! Ablating neurons of the spiking path mid-run, on every backend: ablated neurons and spike
//! sources fall silent, the others are untouched, `restore` brings them back.

mod common;
use lamina::prelude::*;

fn driven() -> LifCurrent {
    LifCurrent {
        i_e_pa: 500.0,
        v_init_mv: Dist::Const(-70.0),
        ..LifCurrent::default()
    }
}

/// Four driven neurons and a spike source firing every 2 ms, unconnected, so ablating one
/// cannot change another.
fn network() -> lamina::Result<(Network, PopulationId, PopulationId, SpikeProbe, SpikeProbe)> {
    let mut net = Network::new();
    let pop = net.population("driven", 4, driven())?;
    let times: Vec<f64> = (1..200).map(|k| k as f64 * 2.0).collect();
    let src = net.spike_source("source", vec![times.clone(), times])?;
    let p = net.probe_spikes(pop)?;
    let q = net.probe_spikes(src)?;
    Ok((net, pop, src, p, q))
}

fn of(trains: &SpikeTrains, neuron: u32, from: f64, to: f64) -> Vec<f64> {
    trains
        .times_s
        .iter()
        .zip(&trains.neurons)
        .filter(|(&t, &n)| n == neuron && t >= from && t < to)
        .map(|(&t, _)| t)
        .collect()
}

on_every_backend! {
    fn ablated_neurons_are_silent_and_the_rest_untouched(backend: BackendChoice) {
        let (net, pop, src, p, q) = network()?;
        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run(0.1)?;
        sim.ablate(pop, &[1, 3])?;
        sim.ablate(src, &[0])?;
        sim.run(0.1)?;
        sim.restore(pop, &[1, 3])?;
        sim.restore(src, &[0])?;
        sim.run(0.1)?;
        let (spikes, sources) = (sim.spikes(&p)?.clone(), sim.spikes(&q)?.clone());

        let mut intact = Simulator::new(&net, backend)?;
        intact.run(0.3)?;
        let (want, want_src) = (intact.spikes(&p)?, intact.spikes(&q)?);
        for n in [0, 2] {
            assert_eq!(of(&spikes, n, 0.0, 0.3), of(want, n, 0.0, 0.3), "neuron {n} was not ablated");
        }
        assert_eq!(of(&sources, 1, 0.0, 0.3), of(want_src, 1, 0.0, 0.3), "source 1 was not ablated");
        for n in [1, 3] {
            assert!(of(&spikes, n, 0.1, 0.2).is_empty(), "ablated neuron {n} spiked");
            assert_eq!(of(&spikes, n, 0.0, 0.1), of(want, n, 0.0, 0.1));
            assert!(of(&spikes, n, 0.2, 0.3).len() > 5, "neuron {n} did not come back");
        }
        assert!(of(&sources, 0, 0.1, 0.2).is_empty(), "ablated source spiked");
        assert_eq!(of(&sources, 0, 0.2, 0.3), of(want_src, 0, 0.2, 0.3), "source came back on time");

        let (_, foreign, ..) = network()?;
        assert!(sim.ablate(foreign, &[0]).unwrap_err().to_string().contains("another network"));
        assert!(sim.ablate(pop, &[4]).unwrap_err().to_string().contains("4 neurons"));
        Ok(())
    }
}
