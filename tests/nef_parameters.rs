//! Built parameters read and written between steps, on every backend: encoders.

mod common;

use lamina::model::nef::*;
use lamina::prelude::*;
use ndarray::Array2;
use std::f64::consts::PI;

/// stim -> pre; pre.neurons() -> post.neurons() learning with PES from an error of -stim (post
/// is never decoded, so nothing depends on its decoders); post's encoders alternate +1, -1, or
/// the reverse.
fn network(flipped: bool) -> lamina::Result<(NefNetwork, EnsembleId, ConnectionId, NefProbeId)> {
    let mut net = NefNetwork::new().with_seed(9);
    let stim = net.node(
        "stim",
        Node::function(1, |t| vec![0.8 * (4.0 * PI * t).sin()]),
    )?;
    let pre = net.ensemble("pre", Ensemble::new(30, 1))?;
    let sign = if flipped { -1.0 } else { 1.0 };
    let enc = Array2::from_shape_fn((20, 1), |(i, _)| if i % 2 == 0 { sign } else { -sign });
    let post = net.ensemble("post", Ensemble::new(20, 1).encoders(NefDist::Array(enc)))?;
    let error = net.node("error", Node::passthrough(1))?;
    net.connect(stim, pre, Connection::new())?;
    let conn = net.connect(
        pre.neurons(),
        post.neurons(),
        Connection::new().transform(Array2::zeros((20, 30))),
    )?;
    let rule = net.pes(conn, Pes::new(1e-3))?;
    net.connect(stim, error, Connection::new().scale(-1.0))?;
    net.connect(error, rule, Connection::new())?;
    let p = net.probe(post.neurons(), Probe::new())?;
    Ok((net, post, conn, p))
}

on_every_backend! {
    fn set_encoders_equals_building_with_them(backend: BackendChoice) {
        let (net, post, conn, p) = network(false)?;
        let mut sim = Simulator::new(&net, backend.clone())?;
        let built = sim.ensemble(post)?.encoders.clone();
        // Read back from the f32 scaled encoders the neurons use.
        let close = |a: &Array2<f64>, b: &Array2<f64>| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(&sim.encoders(post)?, &built), "encoders as built");
        sim.set_encoders(post, &(-&built))?;
        assert!(close(&sim.encoders(post)?, &(-&built)), "encoders as set");
        sim.run(0.3)?;

        let (flipped, _, conn2, p2) = network(true)?;
        let mut want = Simulator::new(&flipped, backend)?;
        want.run(0.3)?;
        // PES encodes its error with the new encoders too: the learned weights agree.
        assert_eq!(sim.data(p)?, want.data(p2)?, "spikes");
        assert_eq!(sim.weights(conn)?, want.weights(conn2)?, "learned weights");
        assert!(sim.weights(conn)?.iter().any(|&w| w != 0.0), "PES learned something");

        let err = sim.set_encoders(post, &Array2::zeros((20, 2))).unwrap_err();
        assert!(err.to_string().contains("20x1 encoders"), "{err}");
        let err = sim.set_encoders(post, &Array2::from_elem((20, 1), f64::NAN)).unwrap_err();
        assert!(err.to_string().contains("NaN"), "{err}");
        Ok(())
    }

    fn flipped_encoders_flip_the_decoded_value(backend: BackendChoice) {
        let mut net = NefNetwork::new().with_seed(2);
        let stim = net.node("stim", Node::constant(&[0.5]))?;
        let a = net.ensemble("a", Ensemble::new(60, 1))?;
        net.connect(stim, a, Connection::new())?;
        let p = net.probe(a, Probe::new().synapse(Synapse::lowpass(0.02)))?;
        let mut sim = Simulator::new(&net, backend)?;
        sim.run(0.2)?;
        let e = sim.encoders(a)?;
        sim.set_encoders(a, &(-e))?;
        sim.run(0.2)?;
        let d = sim.data(p)?;
        let (before, after) = (d[[199, 0]], d[[399, 0]]);
        // The neurons now respond to x as they did to -x; decoders solved for the old
        // encoders read -x.
        assert!((before - 0.5).abs() < 0.1, "before: {before}");
        assert!((after + 0.5).abs() < 0.1, "after: {after}");
        Ok(())
    }
}
