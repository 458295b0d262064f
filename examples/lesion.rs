//! Seed 000 (targeted synapse removal): A -> B carries a sine; after 1 s every input from A
//! into every other neuron of B is cut, while B's other input (a small constant from a node)
//! stays. Done twice: on a weight connection (`weights: true`, Nengo's recipe) and on a plain
//! decoded connection, which lamina cuts without switching to weights.
//!
//! `cargo run --release --example lesion [plot.png]`
//!
//! The plot (default `lesion.png`): top panel, B's decoded output through the weight
//! connection against its target (the input plus the offset); bottom panel, the same through
//! the decoded connection. A vertical line marks the lesion at t = 1 s. The last line printed is JSON with the figures.

mod common;

use lamina::lower::nef::solvers::Solver;
use lamina::model::nef::*;
use lamina::prelude::*;
use std::f64::consts::PI;
use std::path::PathBuf;
use std::time::Instant;

const SECONDS: f64 = 1.0;

fn input(t: f64) -> f64 {
    0.8 * (2.0 * PI * t).sin()
}

struct Run {
    t: Vec<f64>,
    out: ndarray::Array2<f32>,
    rmse_intact: f64,
    rmse_lesioned: f64,
    lesion_ms: f64,
}

fn run(weights: bool) -> lamina::Result<(Run, String)> {
    let mut net = NefNetwork::new().with_seed(0);
    let stim = net.node("stim", Node::function(1, |t| vec![input(t)]))?;
    let offset = net.node("offset", Node::constant(&[0.1]))?;
    let a = net.ensemble("a", Ensemble::new(100, 1))?;
    let b = net.ensemble("b", Ensemble::new(100, 1))?;
    net.connect(stim, a, Connection::new())?;
    net.connect(offset, b, Connection::new())?;
    let solver = Solver::LstsqL2 { reg: 0.1, weights };
    let conn = net.connect(a, b, Connection::new().solver(solver))?;
    let p = net.probe(b, Probe::new().synapse(Synapse::lowpass(0.01)))?;

    let mut sim = Simulator::new(&net, BackendChoice::Auto)?;
    sim.run(SECONDS)?;
    let every_other: Vec<usize> = (0..100).step_by(2).collect();
    let start = Instant::now();
    sim.lesion_connection(conn, Lesion::Post(&every_other))?;
    let lesion_ms = start.elapsed().as_secs_f64() * 1e3;
    sim.run(SECONDS)?;

    let out = sim.data(p)?;
    let t = sim.trange(p)?;
    // B represents input + 0.1; score against that, skipping 0.1 s after the start and the cut.
    let rmse_over = |from: f64, to: f64| {
        let idx: Vec<usize> = (0..t.len())
            .filter(|&i| t[i] > from && t[i] <= to)
            .collect();
        common::rmse(
            idx.iter().map(|&i| out[[i, 0]] as f64),
            idx.iter().map(|&i| input(t[i]) + 0.1),
        )
    };
    let run = Run {
        rmse_intact: rmse_over(0.1, SECONDS),
        rmse_lesioned: rmse_over(SECONDS + 0.1, 2.0 * SECONDS),
        t,
        out,
        lesion_ms,
    };
    Ok((run, sim.backend_description()))
}

/// The plot: per connection, B's decoded value against its target over the whole run, with
/// the lesion marked.
fn figure<'a>(
    target: &'a [(f64, f64)],
    weights_out: &'a [(f64, f64)],
    decoded_out: &'a [(f64, f64)],
) -> common::Figure<'a> {
    let panel = |title: &str, out| common::Panel {
        title: title.into(),
        x_label: "time (s)",
        y_label: "B decoded value (unitless)",
        x_range: (0.0, 2.0 * SECONDS),
        series: vec![
            common::Series {
                points: out,
                colour: 0,
                width: 2,
                label: "B decoded (10 ms lowpass)",
            },
            common::Series {
                points: target,
                colour: common::BLACK_LINE,
                width: 1,
                label: "target: input + 0.1",
            },
        ],
        marks: vec![common::Mark {
            x: SECONDS,
            label: "lesion: A cut from every other B neuron",
        }],
        legend: plotters::prelude::SeriesLabelPosition::UpperRight,
    };
    common::Figure {
        title: format!("Lesion of A -> B at t = {SECONDS} s: 50 of B's 100 neurons lose A's input"),
        panels: vec![
            panel(
                "A -> B as neuron-to-neuron weights (weights: true)",
                weights_out,
            ),
            panel(
                "A -> B as decoders (cut without switching to weights)",
                decoded_out,
            ),
        ],
        width: 900,
        panel_height: 320,
    }
}

fn main() -> lamina::Result<()> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "lesion.png".into()),
    );
    let (w, backend) = run(true)?;
    let (f, _) = run(false)?;
    let target: Vec<(f64, f64)> = w.t.iter().map(|&t| (t, input(t) + 0.1)).collect();
    let (w_out, f_out) = (
        common::column(&w.t, &w.out, 0),
        common::column(&f.t, &f.out, 0),
    );
    common::draw(&path, &figure(&target, &w_out, &f_out))?;
    println!(
        "{}",
        serde_json::json!({
            "example": "lesion",
            "backend": backend,
            "lesioned_post_neurons": 50,
            "rmse_intact": w.rmse_intact,
            "rmse_lesioned": w.rmse_lesioned,
            "factored_rmse_intact": f.rmse_intact,
            "factored_rmse_lesioned": f.rmse_lesioned,
            "lesion_ms": w.lesion_ms,
            "factored_lesion_ms": f.lesion_ms,
            "plot": path.display().to_string(),
        })
    );
    Ok(())
}
