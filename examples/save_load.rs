//! Seed 001's flow: learn weights with PES in one model, save them, load them doubled into a
//! second model.
//!
//! Model 1: a sine drives `pre` (100 LIF neurons); a decoded connection `pre -> post` (100
//! neurons, radius 2) starts at zero and PES (learning rate 1e-4) learns it from the error
//! `post - pre`: a communication channel. After 10 s its weights (1 x 100 decoders) are saved
//! to an `.npz`, with the ensembles' gains, biases and encoders, and the whole simulator state.
//!
//! Model 2: a fresh network with the same `pre` (same seed and name, so the same neurons), a
//! ramp from -1 to 1 as input, and `pre.neurons() -> post` whose transform is the saved
//! weights times 2, loaded from the file. No learning: `post` should represent 2 x.
//!
//! cargo run --release --example save_load [-- PLOT.png]
//!
//! The PNG (default `save_load.png`) has two panels. Top, model 1 over its 10 s of learning:
//! the input sine, `pre` decoded and `post` decoded, which starts at zero and follows `pre`
//! within about two periods as PES learns. Bottom, model 2 over 4 s: the target 2 x (-2 to 2)
//! and `post` decoded, which follows it with no learning. Decoded values are filtered by a
//! 10 ms lowpass. The `.npz` files are written next to the PNG
//! (`*_weights.npz`, `*_state.npz`; `np.load` reads them).
//!
//! Prints one JSON line: rms errors of model 1's `post` against the input in the last 2 s of
//! learning, and of model 2's `post` against 2 x; file sizes and save / load times.

mod common;

use common::Series;
use lamina::prelude::*;
use plotters::prelude::SeriesLabelPosition;
use std::f64::consts::PI;
use std::path::PathBuf;
use std::time::Instant;

const N: usize = 100;
const SEED: u64 = 1;
/// Lowpass of the decoded-value probes.
const PROBE_TAU: f64 = 0.01;
/// Delay of a decoded value behind the input: two connection synapses (5 ms each) and the
/// probe's filter, each about its time constant for slow inputs.
const LAG: f64 = 0.005 + 0.005 + PROBE_TAU;

/// The pre ensemble, identical in both models: its parameters are drawn from the network seed
/// and its name.
fn pre_ensemble(net: &mut NefNetwork) -> Result<EnsembleId> {
    net.ensemble("pre", Ensemble::new(N, 1))
}

fn input_1(t: f64) -> f64 {
    (2.0 * PI * 0.5 * t).sin()
}

fn input_2(t: f64) -> f64 {
    t / 2.0 - 1.0
}

fn millis(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// The plot: model 1 over its 10 s of learning, model 2 over its 4 s with the loaded weights.
fn figure<'a>(
    [stim, pre, post]: [&'a [(f64, f64)]; 3],
    [target2, post2]: [&'a [(f64, f64)]; 2],
) -> common::Figure<'a> {
    let series = Series::new;
    let panel = |title: &str, x_range, series| common::Panel {
        title: title.into(),
        x_label: "time (s)",
        y_label: "decoded value (unitless)",
        x_range,
        series,
        marks: vec![],
        legend: SeriesLabelPosition::UpperLeft,
    };
    common::Figure {
        title: "Save and load: PES learns pre -> post, the weights are saved, then loaded x2 \
                into a new model"
            .into(),
        panels: vec![
            panel(
                "Model 1: PES learns a communication channel (rate 1e-4)",
                (0.0, 10.0),
                vec![
                    series(pre, 2, 2, "pre decoded"),
                    series(post, 0, 2, "post decoded (learning)"),
                    series(stim, common::BLACK_LINE, 1, "input sin(π t)"),
                ],
            ),
            panel(
                "Model 2: the saved weights x2 as a transform, no learning",
                (0.0, 4.0),
                vec![
                    series(post2, 0, 2, "post decoded"),
                    series(target2, common::BLACK_LINE, 1, "target 2x, x = t/2 - 1"),
                ],
            ),
        ],
        width: 1200,
        panel_height: 340,
    }
}

fn main() -> Result<()> {
    let png = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "save_load.png".into()),
    );
    let stem = png.with_extension("");
    let weights_path = PathBuf::from(format!("{}_weights.npz", stem.display()));
    let state_path = PathBuf::from(format!("{}_state.npz", stem.display()));

    // Model 1: PES learns pre -> post from the error post - pre.
    let mut net1 = NefNetwork::new().with_seed(SEED);
    let stim = net1.node("stim", Node::function(1, |t| vec![input_1(t)]))?;
    let pre = pre_ensemble(&mut net1)?;
    let post = net1.ensemble("post", Ensemble::new(N, 1).radius(2.0))?;
    let error = net1.node("error", Node::passthrough(1))?;
    net1.connect(stim, pre, Connection::new())?;
    let learned = net1.connect(pre, post, Connection::new().function(1, |_| vec![0.0]))?;
    net1.connect(post, error, Connection::new())?;
    net1.connect(pre, error, Connection::new().scale(-1.0))?;
    let rule = net1.pes(learned, Pes::new(1e-4))?;
    net1.connect(error, rule, Connection::new())?;
    let lowpass = Probe::new().synapse(Synapse::lowpass(PROBE_TAU));
    let p_stim = net1.probe(stim, Probe::new())?;
    let p_pre = net1.probe(pre, lowpass)?;
    let p_post = net1.probe(post, lowpass)?;

    let mut sim1 = Simulator::new(&net1, BackendChoice::Auto)?;
    sim1.run(10.0)?;

    let start = Instant::now();
    sim1.save_weights(&weights_path)?;
    let save_weights_ms = millis(start);
    let start = Instant::now();
    sim1.checkpoint(&state_path)?;
    let save_state_ms = millis(start);

    // The saved state resumes bit for bit in a fresh simulator of model 1.
    let start = Instant::now();
    let mut resumed = Simulator::new(&net1, BackendChoice::Auto)?;
    let build_ms = millis(start);
    let start = Instant::now();
    resumed.load_checkpoint(&state_path)?;
    let load_state_ms = millis(start);
    sim1.run(0.5)?;
    resumed.run(0.5)?;
    if resumed.data(p_post)? != sim1.data(p_post)? {
        return Err(Error::Simulation(
            "the resumed model 1 differs from the uninterrupted one".into(),
        ));
    }

    // Model 1's error in the last 2 s of learning (before the extra half second).
    let t1 = sim1.trange(p_post)?;
    let post1 = sim1.data(p_post)?;
    let last = (8000..10000).collect::<Vec<_>>();
    let rmse_model1 = common::rmse(
        last.iter().map(|&k| post1[[k, 0]] as f64),
        last.iter().map(|&k| input_1(t1[k] - LAG)),
    );

    // Model 2: a fresh network, the same pre, the saved weights doubled as a transform.
    let start = Instant::now();
    // Connections are numbered in the order they were made: `learned` is the second, conn1.
    let w = lamina::io::load_array(&weights_path, "conn1")?;
    let load_array_ms = millis(start);
    let mut net2 = NefNetwork::new().with_seed(SEED);
    let ramp = net2.node("stim", Node::function(1, |t| vec![input_2(t)]))?;
    let pre2 = pre_ensemble(&mut net2)?;
    let post2 = net2.ensemble("post", Ensemble::new(N, 1).radius(2.0))?;
    net2.connect(ramp, pre2, Connection::new())?;
    net2.connect(pre2.neurons(), post2, Connection::new().transform(&w * 2.0))?;
    let p_post2 = net2.probe(post2, lowpass)?;
    let mut sim2 = Simulator::new(&net2, BackendChoice::Auto)?;
    // The transform only means the same thing if pre's neurons are the same ones.
    let gain1 = lamina::io::load_vector(&weights_path, "ens0.gain")?;
    if sim2.ensemble(pre2)?.gain != gain1 {
        return Err(Error::Simulation(
            "model 2's pre ensemble differs from model 1's".into(),
        ));
    }
    sim2.run(4.0)?;
    let t2 = sim2.trange(p_post2)?;
    let post2_data = sim2.data(p_post2)?;
    // Skip the first 50 ms: post starts at zero, the target at -2.
    let rmse_model2 = common::rmse(
        (50..t2.len()).map(|k| post2_data[[k, 0]] as f64),
        (50..t2.len()).map(|k| 2.0 * input_2(t2[k] - LAG)),
    );

    // Loose bounds: a failed load or a wrong transform gives errors of order 1.
    if !(rmse_model1 < 0.15 && rmse_model2 < 0.2) {
        return Err(Error::Simulation(format!(
            "post does not follow its target: rms errors {rmse_model1:.3} (model 1) and \
             {rmse_model2:.3} (model 2)"
        )));
    }

    let target2: Vec<(f64, f64)> = t2.iter().map(|&t| (t, 2.0 * input_2(t - LAG))).collect();
    // Model 1's first 10 s: the half second after the checkpoint only checks the resume.
    let n1 = 10000;
    let stim1 = common::column(&t1, &sim1.data(p_stim)?, 0);
    let pre1 = common::column(&t1, &sim1.data(p_pre)?, 0);
    let post1_line = common::column(&t1, &post1, 0);
    let post2_line = common::column(&t2, &post2_data, 0);
    common::draw(
        &png,
        &figure(
            [&stim1[..n1], &pre1[..n1], &post1_line[..n1]],
            [&target2, &post2_line],
        ),
    )?;

    let bytes = |p: &PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({
            "backend": sim1.backend_description(),
            "rmse_model1_last_2s": rmse_model1,
            "rmse_model2_vs_2x": rmse_model2,
            "learned_weights_norm": w.iter().map(|x| x * x).sum::<f64>().sqrt(),
            "weights_file": weights_path.display().to_string(),
            "weights_file_bytes": bytes(&weights_path),
            "state_file": state_path.display().to_string(),
            "state_file_bytes": bytes(&state_path),
            "save_weights_ms": save_weights_ms,
            "load_array_ms": load_array_ms,
            "save_state_ms": save_state_ms,
            "load_state_ms": load_state_ms,
            "build_model1_ms": build_ms,
            "plot": png.display().to_string(),
        })
    );
    Ok(())
}
