//! Seed 002 (modify weights at runtime): a custom learning rule written in Rust, with no
//! learning-rule type. `pre.neurons() -> out` starts at zero weights; every few steps the rule
//! reads pre's filtered activities and out's value from probes, compares with x², and writes
//! new weights (a delta rule) with `set_weights`.
//!
//! `cargo run --release --example host_learning [plot.png]`
//!
//! The plot (default `host_learning.png`): out against the target x² over the run; out starts
//! at zero and learns to follow. The last line printed is JSON with the
//! rmse before and after learning and what one call of the rule costs on this backend.

mod common;

use lamina::model::nef::*;
use lamina::prelude::*;
use ndarray::Array2;
use std::f64::consts::PI;
use std::path::PathBuf;
use std::time::Instant;

const SECONDS: f64 = 10.0;
/// Steps between calls of the rule.
const EVERY: u64 = 5;
const N: usize = 100;

fn input(t: f64) -> f64 {
    (2.0 * PI * 0.5 * t).sin()
}

/// The plot: out against its target x² over the whole run.
fn figure<'a>(target: &'a [(f64, f64)], learned: &'a [(f64, f64)]) -> common::Figure<'a> {
    common::Figure {
        title: format!(
            "Delta rule in Rust: pre.neurons() -> out learns x² from zero weights over {SECONDS} s"
        ),
        panels: vec![common::Panel {
            title: format!("x = sin(π t); weights rewritten with set_weights every {EVERY} steps"),
            x_label: "time (s)",
            y_label: "value (unitless)",
            x_range: (0.0, SECONDS),
            series: vec![
                common::Series {
                    points: learned,
                    colour: 0,
                    width: 2,
                    label: "out (10 ms lowpass)",
                },
                common::Series {
                    points: target,
                    colour: common::BLACK_LINE,
                    width: 1,
                    label: "target x² (x through the same lowpass)",
                },
            ],
            marks: vec![],
            legend: plotters::prelude::SeriesLabelPosition::UpperLeft,
        }],
        width: 900,
        panel_height: 360,
    }
}

fn main() -> lamina::Result<()> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "host_learning.png".into()),
    );
    let mut net = NefNetwork::new().with_seed(2);
    let stim = net.node("stim", Node::function(1, |t| vec![input(t)]))?;
    let pre = net.ensemble("pre", Ensemble::new(N, 1))?;
    let out = net.node("out", Node::passthrough(1))?;
    net.connect(stim, pre, Connection::new())?;
    let conn = net.connect(
        pre.neurons(),
        out,
        Connection::new().transform(Array2::zeros((1, N))),
    )?;
    let filter = Synapse::lowpass(0.01);
    let p_acts = net.probe(pre.neurons(), Probe::new().synapse(filter))?;
    let p_out = net.probe(out, Probe::new().synapse(filter))?;
    let p_stim = net.probe(stim, Probe::new().synapse(filter))?;

    let mut sim = Simulator::new(&net, BackendChoice::Auto)?;
    // The rule: w += -rate * (out - x²) * a / n, with the filtered values of the last step.
    let rate = 1e-4 * EVERY as f64;
    let mut calls = 0u64;
    let start = Instant::now();
    sim.run_with(SECONDS, EVERY, |sim| {
        let x = sim.latest(p_stim)?[0] as f64;
        let y = sim.latest(p_out)?[0] as f64;
        let acts = sim.latest(p_acts)?.to_vec();
        let err = y - x * x;
        let mut w = sim.weights(conn)?.mapv(|v| v as f64);
        for (wj, &a) in w.iter_mut().zip(&acts) {
            *wj -= rate * err * a as f64 / N as f64 * sim.dt();
        }
        calls += 1;
        sim.set_weights(conn, &w)
    })?;
    let with_rule = start.elapsed().as_secs_f64();
    // The same steps without the rule, for the cost of one call.
    let mut plain = Simulator::new(&net, BackendChoice::Auto)?;
    let start = Instant::now();
    plain.run(SECONDS)?;
    let without = start.elapsed().as_secs_f64();

    let t = sim.trange(p_out)?;
    let y = sim.data(p_out)?;
    let x = sim.data(p_stim)?;
    let rmse_over = |from: f64, to: f64| {
        let idx: Vec<usize> = (0..t.len())
            .filter(|&i| t[i] > from && t[i] <= to)
            .collect();
        common::rmse(
            idx.iter().map(|&i| y[[i, 0]] as f64),
            idx.iter().map(|&i| (x[[i, 0]] as f64).powi(2)),
        )
    };
    let target: Vec<(f64, f64)> = t
        .iter()
        .zip(x.column(0))
        .map(|(&t, &x)| (t, (x as f64).powi(2)))
        .collect();
    let learned = common::column(&t, &y, 0);
    common::draw(&path, &figure(&target, &learned))?;
    println!(
        "{}",
        serde_json::json!({
            "example": "host_learning",
            "backend": sim.backend_description(),
            "rmse_first_1s": rmse_over(0.0, 1.0),
            "rmse_last_1s": rmse_over(SECONDS - 1.0, SECONDS),
            "calls": calls,
            "steps_between_calls": EVERY,
            "seconds_with_rule": with_rule,
            "seconds_without_rule": without,
            "ms_per_call": (with_rule - without) * 1e3 / calls as f64,
            "plot": path.display().to_string(),
        })
    );
    Ok(())
}
