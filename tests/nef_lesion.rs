//! Lesions on every backend: a cut synapse carries nothing and stays cut under PES, other
//! inputs of the same neurons are untouched, `restore_synapses` lifts a lesion, bad lesions are refused.

mod common;

use lamina::lower::nef::solvers::Solver;
use lamina::model::nef::*;
use lamina::prelude::*;
use ndarray::Array2;
use std::f64::consts::PI;

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Decoders then the post encoders.
    Factored,
    /// A weight solver: post x pre currents.
    Weights,
    /// `a.neurons() -> b.neurons()`, multiplied by b's gains.
    Neurons,
}

const KINDS: [Kind; 3] = [Kind::Factored, Kind::Weights, Kind::Neurons];

/// stim -> a, a -> b (of `kind`, left out if `!with`), a second input into b from a node, and a
/// probe of b's spikes.
fn network(
    kind: Kind,
    with: bool,
) -> lamina::Result<(NefNetwork, Option<ConnectionId>, NefProbeId)> {
    let mut net = NefNetwork::new().with_seed(3);
    let stim = net.node("stim", Node::function(1, |t| vec![(2.0 * PI * t).sin()]))?;
    let other = net.node("other", Node::function(1, |t| vec![0.5 * (5.0 * t).cos()]))?;
    let a = net.ensemble("a", Ensemble::new(40, 1))?;
    let b = net.ensemble("b", Ensemble::new(30, 1))?;
    net.connect(stim, a, Connection::new())?;
    net.connect(other, b, Connection::new())?;
    let conn = if with {
        Some(match kind {
            Kind::Factored => net.connect(a, b, Connection::new())?,
            Kind::Weights => net.connect(
                a,
                b,
                Connection::new().solver(Solver::LstsqL2 {
                    reg: 0.1,
                    weights: true,
                }),
            )?,
            Kind::Neurons => {
                let t = Array2::from_shape_fn((30, 40), |(i, j)| {
                    ((i * 7 + j * 3) % 11) as f64 * 0.004 - 0.02
                });
                net.connect(a.neurons(), b.neurons(), Connection::new().transform(t))?
            }
        })
    } else {
        None
    };
    let p = net.probe(b.neurons(), Probe::new())?;
    Ok((net, conn, p))
}

fn spikes(sim: &mut Simulator, p: NefProbeId) -> lamina::Result<Array2<f32>> {
    sim.data(p)
}

/// PES on a connection of `kind` learning the identity from zero (a weight or neuron
/// connection starts from the decoders of zero), with its weights.
fn learning(kind: Kind) -> lamina::Result<(NefNetwork, ConnectionId)> {
    let mut net = NefNetwork::new().with_seed(5);
    let stim = net.node("stim", Node::function(1, |t| vec![0.7 * (3.0 * t).sin()]))?;
    let pre = net.ensemble("pre", Ensemble::new(50, 1))?;
    let post = net.ensemble("post", Ensemble::new(40, 1))?;
    let error = net.node("error", Node::passthrough(1))?;
    net.connect(stim, pre, Connection::new())?;
    let zero = Connection::new().function(1, |_| vec![0.0]);
    let conn = match kind {
        Kind::Factored => net.connect(pre, post, zero)?,
        Kind::Weights => net.connect(
            pre,
            post,
            zero.solver(Solver::LstsqL2 {
                reg: 0.1,
                weights: true,
            }),
        )?,
        Kind::Neurons => net.connect(
            pre.neurons(),
            post.neurons(),
            Connection::new().transform(Array2::zeros((40, 50))),
        )?,
    };
    let rule = net.pes(conn, Pes::new(5e-4))?;
    net.connect(post, error, Connection::new())?;
    net.connect(stim, error, Connection::new().scale(-1.0))?;
    net.connect(error, rule, Connection::new())?;
    Ok((net, conn))
}

on_every_backend! {
    fn lesioned_post_neurons_get_nothing_from_the_connection_and_keep_their_other_inputs(backend: BackendChoice) {
        let odd: Vec<usize> = (1..30).step_by(2).collect();
        for kind in KINDS {
            let (net, conn, p) = network(kind, true)?;
            let mut sim = Simulator::new(&net, backend.clone())?;
            sim.lesion_connection(conn.unwrap(), Lesion::Post(&odd))?;
            sim.run(0.3)?;
            let lesioned = spikes(&mut sim, p)?;

            let mut intact = Simulator::new(&net, backend.clone())?;
            intact.run(0.3)?;
            let intact = spikes(&mut intact, p)?;
            let (without, _, p2) = network(kind, false)?;
            let mut without = Simulator::new(&without, backend.clone())?;
            without.run(0.3)?;
            let without = spikes(&mut without, p2)?;

            let total = |d: &Array2<f32>, k: usize| d.column(k).iter().filter(|&&x| x > 0.0).count();
            for k in 0..30 {
                let (want, from) = if k % 2 == 1 { (&without, "without the connection") } else { (&intact, "intact") };
                assert_eq!(
                    lesioned.column(k), want.column(k),
                    "{kind:?}: neuron {k} should spike exactly as {from}"
                );
            }
            // The connection mattered: the lesioned neurons do change.
            assert!(
                odd.iter().any(|&k| total(&intact, k) != total(&without, k)),
                "{kind:?}: the connection made no difference to test"
            );
            let full = sim.full_weights(conn.unwrap())?;
            for k in 0..30 {
                let zero = full.row(k).iter().all(|&x| x == 0.0);
                assert_eq!(zero, k % 2 == 1, "{kind:?}: full weights of post neuron {k}");
            }
        }
        Ok(())
    }

    fn pes_never_regrows_a_lesioned_synapse_and_heal_gives_it_back(backend: BackendChoice) {
        for kind in KINDS {
            let (net, conn) = learning(kind)?;
            let mut sim = Simulator::new(&net, backend.clone())?;
            sim.run(0.3)?;
            let before = sim.weights(conn)?;
            let (rows, cols) = before.dim();
            // Pre neurons 0..10 everywhere; for weight connections also post 3 and a scatter.
            sim.lesion_connection(conn, Lesion::Pre(&(0..10).collect::<Vec<_>>()))?;
            let mut cut = Array2::from_shape_fn((rows, cols), |(_, j)| j < 10);
            if !matches!(kind, Kind::Factored) {
                sim.lesion_connection(conn, Lesion::Post(&[3]))?;
                let scatter = Array2::from_shape_fn((rows, cols), |(i, j)| (i * 13 + j * 7) % 9 == 0);
                sim.lesion_connection(conn, Lesion::Synapses(&scatter))?;
                cut.zip_mut_with(&scatter, |c, &s| *c |= s);
                cut.row_mut(3).fill(true);
            }
            let at_cut = sim.weights(conn)?;
            sim.run(0.4)?;
            let after = sim.weights(conn)?;
            let mut learned = 0;
            for ((i, j), &w) in after.indexed_iter() {
                if cut[[i, j]] {
                    assert_eq!(w, 0.0, "{kind:?}: cut weight ({i}, {j}) regrew");
                } else if w != at_cut[[i, j]] {
                    learned += 1;
                }
            }
            assert!(learned > (rows * cols) / 4, "{kind:?}: only {learned} uncut weights learned");
            assert!(before.iter().any(|&x| x != 0.0), "{kind:?}: nothing learned before the cut");

            sim.restore_connection(conn)?;
            assert_eq!(sim.lesion_mask(conn)?, None);
            let healed = sim.weights(conn)?;
            for ((i, j), &w) in healed.indexed_iter() {
                // Cut weights get the values they had when cut (no step ran between the cuts).
                let want = if cut[[i, j]] { before[[i, j]] } else { after[[i, j]] };
                assert_eq!(w, want, "{kind:?}: weight ({i}, {j}) after heal");
            }
            sim.run(0.2)?;
            let resumed = sim.weights(conn)?;
            assert!(
                cut.indexed_iter().any(|((i, j), &c)| c && resumed[[i, j]] != healed[[i, j]]),
                "{kind:?}: learning did not resume on healed synapses"
            );
        }
        Ok(())
    }

    fn set_weights_cannot_write_a_lesioned_synapse(backend: BackendChoice) {
        let (net, conn, _) = network(Kind::Weights, true)?;
        let mut sim = Simulator::new(&net, backend)?;
        sim.run(0.01)?;
        let w = sim.weights(conn.unwrap())?;
        let w64 = w.mapv(|x| x as f64 * 1.5);
        sim.set_weights(conn.unwrap(), &w64)?;
        assert_eq!(sim.weights(conn.unwrap())?, w64.mapv(|x| x as f32), "round trip");
        sim.lesion_connection(conn.unwrap(), Lesion::Post(&[0, 29]))?;
        sim.set_weights(conn.unwrap(), &w64)?;
        let back = sim.weights(conn.unwrap())?;
        for ((i, j), &x) in back.indexed_iter() {
            let want = if i == 0 || i == 29 { 0.0 } else { w64[[i, j]] as f32 };
            assert_eq!(x, want, "({i}, {j})");
        }

        // A block: rows 28..30, columns 5..8; the rest stays, row 29 stays cut.
        let block = Array2::from_elem((2, 3), 0.25);
        sim.set_weights_block(conn.unwrap(), (28, 5), &block)?;
        let after = sim.weights(conn.unwrap())?;
        for ((i, j), &x) in after.indexed_iter() {
            let want = match (i, j) {
                (29, _) => 0.0,
                (28, 5..=7) => 0.25,
                _ => back[[i, j]],
            };
            assert_eq!(x, want, "after the block: ({i}, {j})");
        }
        let err = sim.set_weights_block(conn.unwrap(), (29, 0), &block).unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
        let nan = Array2::from_elem((1, 1), f64::NAN);
        let err = sim.set_weights_block(conn.unwrap(), (4, 6), &nan).unwrap_err();
        assert!(err.to_string().contains("weight (4, 6) is NaN"), "{err}");
        Ok(())
    }

    fn full_weights_are_the_currents_into_each_post_neuron(backend: BackendChoice) {
        let (net, conn, _) = network(Kind::Factored, true)?;
        let mut sim = Simulator::new(&net, backend.clone())?;
        let conn = conn.unwrap();
        let dec = sim.weights(conn)?.mapv(|x| x as f64);
        let b = sim.nef_plan().built_ensembles[1].clone();
        let want = b.scaled_encoders.dot(&dec);
        let full = sim.full_weights(conn)?;
        assert_eq!(full.dim(), (30, 40));
        for (x, y) in full.iter().zip(&want) {
            assert!((*x as f64 - y).abs() <= 1e-6 * y.abs().max(1.0), "{x} vs {y}");
        }
        let (net, conn, _) = network(Kind::Neurons, true)?;
        let mut sim = Simulator::new(&net, backend)?;
        let conn = conn.unwrap();
        let w = sim.weights(conn)?;
        let gain = sim.nef_plan().built_ensembles[1].gain.clone();
        let full = sim.full_weights(conn)?;
        for ((i, j), &x) in full.indexed_iter() {
            assert_eq!(x, gain[i] as f32 * w[[i, j]]);
        }
        Ok(())
    }

    fn bad_lesions_are_refused_and_change_nothing(backend: BackendChoice) {
        let (net, conn, p) = network(Kind::Factored, true)?;
        let conn = conn.unwrap();
        let mut sim = Simulator::new(&net, backend.clone())?;
        let msg = |r: lamina::Result<()>| r.unwrap_err().to_string();
        assert!(msg(sim.lesion_connection(conn, Lesion::Post(&[30]))).contains("30 post neurons"));
        assert!(msg(sim.lesion_connection(conn, Lesion::Pre(&[40]))).contains("40 pre neurons"));
        let wrong = Array2::from_elem((40, 30), true);
        assert!(msg(sim.lesion_connection(conn, Lesion::Synapses(&wrong))).contains("30 x 40"));
        let mut single = Array2::from_elem((30, 40), false);
        single[[2, 5]] = true;
        assert!(msg(sim.lesion_connection(conn, Lesion::Synapses(&single))).contains("weights: true"));
        assert_eq!(sim.lesion_mask(conn)?, None, "a refused lesion leaves none behind");

        let mut net2 = NefNetwork::new();
        let n = net2.node("n", Node::constant(&[1.0]))?;
        let e = net2.ensemble("e", Ensemble::new(5, 1))?;
        let into_node = net2.node("sink", Node::passthrough(1))?;
        let from_node = net2.connect(n, e, Connection::new())?;
        let to_node = net2.connect(e, into_node, Connection::new())?;
        let mut sim2 = Simulator::new(&net2, backend)?;
        assert!(msg(sim2.lesion_connection(from_node, Lesion::Pre(&[0]))).contains("from a node"));
        assert!(msg(sim2.lesion_connection(to_node, Lesion::Post(&[0]))).contains("no neurons"));
        assert!(msg(sim2.lesion_connection(conn, Lesion::Post(&[0]))).contains("another network"));
        assert!(sim2.full_weights(to_node).is_err());
        // The refused lesions did not disturb the first simulator.
        sim.run(0.05)?;
        assert_eq!(sim.data(p)?.nrows(), 50);
        Ok(())
    }

    fn reset_lifts_lesions(backend: BackendChoice) {
        let (net, conn, p) = network(Kind::Factored, true)?;
        let mut sim = Simulator::new(&net, backend)?;
        sim.run(0.1)?;
        let first = sim.data(p)?;
        sim.lesion_connection(conn.unwrap(), Lesion::Post(&[0, 1, 2]))?;
        assert!(sim.nef_plan().sig.len() > sim_sig_len(&net)?);
        sim.reset()?;
        assert_eq!(sim.lesion_mask(conn.unwrap())?, None);
        sim.run(0.1)?;
        assert_eq!(sim.data(p)?, first);
        Ok(())
    }
}

fn sim_sig_len(net: &NefNetwork) -> lamina::Result<usize> {
    Ok(Simulator::new(net, BackendChoice::Cpu)?
        .nef_plan()
        .sig
        .len())
}

/// Lesions and heals mid-run, with PES, land the same on the GPU as on the CPU twin.
#[test]
fn gpu_and_cpu_agree_bit_for_bit_through_lesions() -> lamina::Result<()> {
    let Some(gpu) = common::gpu_or_skip() else {
        return Ok(());
    };
    let mut outs = Vec::new();
    for backend in [BackendChoice::Cpu, gpu] {
        let mut all = Vec::new();
        for kind in KINDS {
            let (net, conn) = learning(kind)?;
            let mut sim = Simulator::new(&net, backend.clone())?;
            sim.run(0.1)?;
            sim.lesion_connection(conn, Lesion::Post(&[1, 2, 3]))?;
            sim.run(0.1)?;
            sim.lesion_connection(conn, Lesion::Pre(&[7, 8]))?;
            sim.run(0.1)?;
            sim.restore_connection(conn)?;
            sim.run(0.1)?;
            all.extend(sim.signals()?);
            all.extend(sim.weights(conn)?.iter().copied());
        }
        outs.push(all);
    }
    common::assert_same("signals and weights", &outs[0], &outs[1]);
    Ok(())
}
