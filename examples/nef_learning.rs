//! Nengo's classic PES example, on the GPU: `pre` represents a sine, a connection from `pre`
//! to `post` starts out computing nothing, and PES, driven by the error post - pre^2, learns to
//! compute the square. Also decodes the square directly (solved on the host) for comparison.
//!
//! cargo run --release --example nef_learning
//!
//! Prints one JSON line: the rms error of the learned square in the first and the last second,
//! and of the solved one.

use lamina::prelude::*;
use std::f64::consts::PI;

fn main() -> Result<()> {
    let mut net = NefNetwork::new().with_seed(1);
    let stim = net.node("stim", Node::function(1, |t| vec![(2.0 * PI * t).sin()]))?;
    let pre = net.ensemble("pre", Ensemble::new(100, 1))?;
    let post = net.ensemble("post", Ensemble::new(100, 1))?;
    let solved = net.ensemble("solved", Ensemble::new(100, 1))?;
    let error = net.node("error", Node::passthrough(1))?;
    net.connect(stim, pre, Connection::new())?;

    // Starts at zero; learns x^2 from the error signal.
    let learned = net.connect(pre, post, Connection::new().function(1, |_| vec![0.0]))?;
    let pes = net.pes(learned, Pes::new(2e-4))?;
    net.connect(post, error, Connection::new())?;
    net.connect(
        pre,
        error,
        Connection::new().function(1, |x| vec![-x[0] * x[0]]),
    )?;
    net.connect(error, pes, Connection::new())?;

    // Solved on the host: decoders for x^2 from the start.
    net.connect(
        pre,
        solved,
        Connection::new().function(1, |x| vec![x[0] * x[0]]),
    )?;

    let p_post = net.probe(post, Probe::new().synapse(Synapse::lowpass(0.01)))?;
    let p_solved = net.probe(solved, Probe::new().synapse(Synapse::lowpass(0.01)))?;

    let mut sim = Simulator::new(&net, BackendChoice::Auto)?;
    sim.run(10.0)?;

    // The ideal: the square of the input, late by the filters on the way (about 20 ms).
    let t = sim.trange(p_post)?;
    let ideal: Vec<f64> = t
        .iter()
        .map(|&t| (2.0 * PI * (t - 0.02)).sin().powi(2))
        .collect();
    let rmse = |data: &ndarray::Array2<f32>, from: usize, to: usize| {
        let sq: f64 = (from..to)
            .map(|k| (data[[k, 0]] as f64 - ideal[k]).powi(2))
            .sum();
        (sq / (to - from) as f64).sqrt()
    };
    let post_data = sim.data(p_post)?;
    let solved_data = sim.data(p_solved)?;
    let n = post_data.nrows();
    println!(
        "{}",
        serde_json::json!({
            "backend": sim.backend_description(),
            "rmse_learned_first_second": rmse(&post_data, 100, 1000),
            "rmse_learned_last_second": rmse(&post_data, n - 1000, n),
            "rmse_solved": rmse(&solved_data, 100, n),
            "dispatches_per_step": sim.dispatches_per_step(),
        })
    );
    Ok(())
}
