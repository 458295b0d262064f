//! A spiking network and a NEF network stepped together as one program by one `Simulator`:
//! each part gives what it gives alone, bit for bit, through runs, ablations, lesions (which
//! reopen the backend) and resets, on every backend.

mod common;

use lamina::prelude::*;

/// Excitatory and inhibitory LIF populations with constant and Poisson drive and delayed projections, at
/// the default 0.1 ms step.
fn spiking() -> lamina::Result<(Network, PopulationId, SpikeProbe)> {
    let mut net = Network::new().with_seed(5);
    let exc = net.population("exc", 80, LifCurrent::default())?;
    let inh = net.population("inh", 20, LifCurrent::default())?;
    net.poisson(
        exc,
        PoissonInput {
            in_degree: 40,
            rate_hz: 60.0,
            weight_pa: 60.0,
        },
    )?;
    net.current(exc, 380.0)?;
    net.current(inh, 300.0)?;
    net.connect(exc, inh, Connectivity::FixedProbability(0.2), 80.0, 1.5)?;
    net.connect(inh, exc, Connectivity::FixedProbability(0.3), -120.0, 0.8)?;
    let probe = net.probe_spikes(exc.slice(0..80))?;
    Ok((net, exc, probe))
}

/// A NEF channel with a function node and PES, at the spiking network's step.
fn nef() -> lamina::Result<(NefNetwork, EnsembleId, ConnectionId, NefProbeId)> {
    let mut net = NefNetwork::new().with_seed(3).with_dt(1e-4);
    let stim = net.node("stim", Node::function(1, |t| vec![(20.0 * t).sin()]))?;
    let a = net.ensemble("a", Ensemble::new(40, 1))?;
    let b = net.ensemble("b", Ensemble::new(40, 1))?;
    net.connect(stim, a, Connection::new())?;
    let ab = net.connect(a, b, Connection::new())?;
    let probe = net.probe(b, Probe::new().synapse(Synapse::lowpass(0.01)))?;
    Ok((net, a, ab, probe))
}

on_every_backend! {
    fn both_parts_give_what_each_gives_alone(backend: BackendChoice) {
        let (snet, exc, spikes) = spiking()?;
        let (nnet, a, ab, decoded) = nef()?;
        let mut both = Simulator::new((&snet, &nnet), backend.clone())?;
        let mut alone_s = Simulator::new(&snet, backend.clone())?;
        let mut alone_n = Simulator::new(&nnet, backend.clone())?;

        // One program: every launch of both parts, in one step.
        assert_eq!(
            both.dispatches_per_step(),
            alone_s.dispatches_per_step() + alone_n.dispatches_per_step()
        );
        let kernels: Vec<&str> = both.program().launches().map(|l| l.kernel).collect();
        assert!(kernels.contains(&"propagate") && kernels.contains(&"nef_neurons"), "{kernels:?}");

        // The same runs and the same changes between steps, on both and on each alone.
        let each = |sim: &mut Simulator, spiking: bool, nef: bool| -> lamina::Result<()> {
            sim.run(0.02)?;
            if spiking {
                sim.ablate(exc, &[0, 1, 2, 3])?;
            }
            if nef {
                sim.ablate(a, &[5, 6])?;
            }
            sim.run(0.01)?;
            if nef {
                // A lesion rewrites the NEF tables and reopens the backend: the spiking
                // part's state and ablations must carry over.
                sim.lesion_connection(ab, Lesion::Post(&[0, 1, 2]))?;
            }
            sim.run(0.01)
        };
        each(&mut both, true, true)?;
        each(&mut alone_s, true, false)?;
        each(&mut alone_n, false, true)?;
        let (spk, alone_spk) = (both.spikes(&spikes)?, alone_s.spikes(&spikes)?);
        assert!(spk.neurons.len() > 50, "the spiking part spikes: {}", spk.neurons.len());
        assert_eq!(spk, alone_spk);
        assert!(spk.neurons.iter().zip(&spk.steps).all(|(&n, &s)| n >= 4 || s < 200));
        assert_eq!(both.data(decoded)?, alone_n.data(decoded)?);
        assert_eq!(both.trange(decoded)?.len(), 400);
        assert_eq!(both.n_steps(), 400);

        // A reset runs both parts again from the start, as built.
        let first = (spk.hash(), both.data(decoded)?);
        both.reset()?;
        each(&mut both, true, true)?;
        assert_eq!((both.spikes(&spikes)?.hash(), both.data(decoded)?), first);
        Ok(())
    }

    fn the_parts_must_share_dt_and_a_checkpoint_says_it_covers_one_kind(backend: BackendChoice) {
        let (snet, ..) = spiking()?;
        let (nnet, ..) = nef()?;
        let coarse = nnet.clone().with_dt(1e-3);
        let err = Simulator::new((&snet, &coarse), backend.clone()).err().expect("refused");
        let text = err.to_string();
        assert!(text.contains("different dt") && text.contains("0.0001") && text.contains("0.001"), "{text}");

        let mut both = Simulator::new((&snet, &nnet), backend)?;
        let path = std::env::temp_dir().join("lamina_mixed_checkpoint.npz");
        let text = both.checkpoint(&path).unwrap_err().to_string();
        assert!(text.contains("spiking and a NEF network together"), "{text}");
        assert!(!path.exists());
        Ok(())
    }
}
