//! Interventions on the spiking path mid-run, on every backend: ablated neurons and spike
//! sources fall silent, the others are untouched, `restore` brings them back; cut synapses
//! deliver nothing, the others are untouched, `restore_synapses` and `reset` bring them back.

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

/// Three spike sources -> three quiet LIF neurons (explicit pairs; target 0 gets the most, so
/// its bound sets the fixed-point scale), plus a fourth source into all of them. With `zeroed`,
/// synapses (0 -> 1) and (1 -> 1) have weight 0 from the start.
fn synapse_network(
    zeroed: bool,
) -> lamina::Result<(Network, PopulationId, PopulationId, StateProbe)> {
    let mut net = Network::new();
    let every = |first: f64, period: f64| {
        (0..30)
            .map(|k| first + k as f64 * period)
            .collect::<Vec<_>>()
    };
    let src = net.spike_source(
        "src",
        vec![every(1.0, 3.0), every(2.0, 3.0), every(1.5, 4.0)],
    )?;
    let other = net.spike_source("other", vec![every(0.5, 5.0)])?;
    let quiet = LifCurrent {
        i_e_pa: 0.0,
        v_init_mv: Dist::Const(-65.0),
        ..LifCurrent::default()
    };
    let tgt = net.population("tgt", 3, quiet)?;
    let pairs: Vec<(u32, u32)> = (0..3).flat_map(|i| (0..3).map(move |j| (i, j))).collect();
    let weights: Vec<f64> = pairs
        .iter()
        .map(|&(i, j)| match j {
            0 => 100.0,
            1 if zeroed && i < 2 => 0.0,
            _ => 40.0,
        })
        .collect();
    net.connect(
        src,
        tgt,
        Connectivity::Explicit(pairs),
        Values::Each(weights),
        1.0,
    )?;
    net.connect(other, tgt, Connectivity::AllToAll, 30.0, 1.5)?;
    let v = net.probe_state(tgt, 0.1)?;
    Ok((net, src, tgt, v))
}

/// The synapse tests, in a module of their own (the macro stamps one `cpu` and one `gpu`).
mod synapses {
    use super::*;

    on_every_backend! {
        fn cut_synapses_deliver_nothing_and_heal_brings_them_back(backend: BackendChoice) {
            let (net, src, tgt, v) = synapse_network(false)?;
            let mut sim = Simulator::new(&net, backend.clone())?;
            let before = sim.synapses(src, tgt)?;
            assert_eq!(before.len(), 9);
            assert_eq!(sim.lesion(src.slice(0..2), tgt.slice(1..2))?, 2);
            assert_eq!(sim.lesion(src.slice(0..2), tgt.slice(1..2))?, 0, "already cut");
            let after = sim.synapses(src, tgt)?;
            for (b, a) in before.iter().zip(&after) {
                let cut = b.post == 1 && b.pre < 2;
                assert_eq!(a.weight_pa, if cut { 0.0 } else { b.weight_pa }, "{b:?}");
                assert_eq!((a.pre, a.post, a.delay_ms), (b.pre, b.post, b.delay_ms));
            }
            assert!((before[0].weight_pa - 100.0).abs() < 1e-3 && before[0].delay_ms == 1.0);
            sim.run(0.05)?;

            // Exactly as a network built with those weights at zero.
            let (zeroed, _, _, v2) = synapse_network(true)?;
            let mut want = Simulator::new(&zeroed, backend.clone())?;
            want.run(0.05)?;
            assert_eq!(sim.state(&v, StateVar::V)?, want.state(&v2, StateVar::V)?);

            // Healed, it runs as intact; reset also lifts cuts.
            sim.restore_synapses()?;
            assert_eq!(sim.synapses(src, tgt)?, before);
            sim.lesion(src, tgt)?;
            sim.reset()?;
            assert_eq!(sim.synapses(src, tgt)?, before);
            sim.run(0.05)?;
            let mut intact = Simulator::new(&net, backend)?;
            intact.run(0.05)?;
            let (got, full) = (sim.state(&v, StateVar::V)?, intact.state(&v, StateVar::V)?);
            assert_eq!(got, full, "after reset, as intact");
            assert_ne!(full, want.state(&v2, StateVar::V)?, "the cut synapses mattered");

            let err = sim.lesion(src.slice(0..4), tgt).unwrap_err().to_string();
            assert!(err.contains("does not fit population `src` of 3 neurons"), "{err}");
            let (_, foreign, ..) = synapse_network(false)?;
            assert!(sim.synapses(foreign, tgt).unwrap_err().to_string().contains("another network"));
            Ok(())
        }
    }
}
