//! Dale's principle (seed 001, a Nengo forum thread): `pre` (100 neurons) computes x^2 into
//! `post` (100 neurons) through neuron -> neuron weights in which 70% of the pre neurons are
//! excitatory (all their outgoing weights >= 0) and the rest inhibitory (all <= 0), solved
//! per post neuron as a sign-constrained regularised least squares problem fitted to the
//! currents the post neurons need (`Solver::Dale`). An unconstrained weight solver
//! (`Solver::LstsqL2 { weights: true }`) computes the same function into `post_lstsq` for
//! comparison. The input is the forum's ramp t/10 - 1 over 20 s.
//!
//! cargo run --release --example dale [-- out.png]
//!
//! The plot (default `dale.png`) has three panels:
//! 1. the input ramp and `pre`'s decoded value;
//! 2. the ideal x^2, `post` under Dale's principle and `post_lstsq` without it, all probed
//!    through a 0.1 s lowpass as in the forum post;
//! 3. the solved weights, one line per pre neuron: its weights onto the 100 post neurons in
//!    ascending order, excitatory neurons in blue (all at or above zero) and inhibitory ones
//!    in red (all at or below zero).
//!
//! Prints one JSON line: the rms error of x^2 under Dale's principle and without it, the
//! fraction of weights with the wrong sign (0), the excitatory fraction, and the build time.

mod common;

use common::Series;
use lamina::prelude::*;
use plotters::prelude::SeriesLabelPosition;
use std::path::PathBuf;

/// The plot: pre against the input, post (with and without Dale's principle) against the
/// ideal x², both over the whole run, and the solved weights.
fn figure<'a>(
    seconds: f64,
    [ramp, pre]: [&'a [(f64, f64)]; 2],
    [ideal, post, lstsq]: [&'a [(f64, f64)]; 3],
    weights: &'a [Vec<(f64, f64)>],
    excitatory: &[bool],
) -> common::Figure<'a> {
    let series = Series::new;
    let time = |title: &str, series| common::Panel {
        title: title.into(),
        x_label: "time (s)",
        y_label: "decoded value (unitless)",
        x_range: (0.0, seconds),
        series,
        marks: vec![],
        legend: SeriesLabelPosition::UpperMiddle,
    };
    common::Figure {
        title: format!(
            "Dale's principle: x² through 70% excitatory, 30% inhibitory pre neurons, {seconds} s"
        ),
        panels: vec![
            time(
                "pre represents the input ramp t/10 - 1",
                vec![
                    series(pre, 0, 2, "pre decoded (0.1 s lowpass)"),
                    series(ramp, common::BLACK_LINE, 1, "input t/10 - 1"),
                ],
            ),
            time(
                "post computes x² (all 0.1 s lowpass)",
                vec![
                    series(lstsq, 3, 2, "post_lstsq: unconstrained weights"),
                    series(post, 0, 2, "post: Dale's principle"),
                    series(ideal, common::BLACK_LINE, 1, "ideal x², delayed 0.11 s"),
                ],
            ),
            common::Panel {
                title: "Dale weights: each line one pre neuron's 100 weights, sorted".into(),
                x_label: "rank among the pre neuron's weights onto the 100 post neurons",
                y_label: "weight (post current per Hz)",
                x_range: (0.0, 99.0),
                series: weights
                    .iter()
                    .zip(excitatory)
                    .map(|(points, &e)| match e {
                        true => series(points, 0, 1, "excitatory pre neuron (all >= 0)"),
                        false => series(points, 1, 1, "inhibitory pre neuron (all <= 0)"),
                    })
                    .collect(),
                marks: vec![],
                legend: SeriesLabelPosition::UpperLeft,
            },
        ],
        width: 1000,
        panel_height: 340,
    }
}

fn main() -> Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "dale.png".into()));
    let seconds = 20.0;
    let ramp = |t: f64| t / 10.0 - 1.0;

    let mut net = NefNetwork::new().with_seed(1);
    let stim = net.node("stim", Node::function(1, move |t| vec![ramp(t)]))?;
    // As the forum post: maximum rates from 50 to 100 Hz.
    let ens = || Ensemble::new(100, 1).max_rates(NefDist::uniform(50.0, 100.0));
    let pre = net.ensemble("pre", ens())?;
    let post = net.ensemble("post", ens())?;
    let post_lstsq = net.ensemble("post_lstsq", ens())?;
    net.connect(stim, pre, Connection::new())?;
    let square = |x: &[f64]| vec![x[0] * x[0]];
    let dale = net.connect(
        pre,
        post,
        Connection::new()
            .function(1, square)
            .solver(Solver::dale(0.1, 0.7)),
    )?;
    net.connect(
        pre,
        post_lstsq,
        Connection::new()
            .function(1, square)
            .solver(Solver::LstsqL2 {
                reg: 0.1,
                weights: true,
            }),
    )?;
    let probe = Probe::new().synapse(Synapse::lowpass(0.1));
    let p_pre = net.probe(pre, probe)?;
    let p_post = net.probe(post, probe)?;
    let p_lstsq = net.probe(post_lstsq, probe)?;

    let mut sim = Simulator::new(&net, BackendChoice::Auto)?;
    sim.run(seconds)?;

    // The signs of the weights as simulated, against the mask the solver used.
    let weights = sim.weights(dale)?;
    let excitatory = sim.nef_plan().built_connections[dale.index()]
        .excitatory
        .clone()
        .expect("a Dale connection reports its excitatory neurons");
    let violations = weights
        .indexed_iter()
        .filter(|&((_, j), &w)| if excitatory[j] { w < 0.0 } else { w > 0.0 })
        .count();

    // The ideal lags the input by the filters on the way (5 ms, 5 ms and the probe's 100 ms);
    // the first second is the probe filter settling.
    let t = sim.trange(p_post)?;
    let lag = 0.11;
    let ideal: Vec<f64> = t.iter().map(|&t| ramp(t - lag).powi(2)).collect();
    let skip = t.iter().position(|&t| t >= 1.0).unwrap_or(0);
    let post_data = sim.data(p_post)?;
    let lstsq_data = sim.data(p_lstsq)?;
    let err = |data: &ndarray::Array2<f32>| {
        common::rmse(
            data.column(0).iter().skip(skip).map(|&v| v as f64),
            ideal.iter().skip(skip).copied(),
        )
    };

    let ramp_line: Vec<(f64, f64)> = t.iter().map(|&t| (t, ramp(t))).collect();
    let ideal_line: Vec<(f64, f64)> = t.iter().copied().zip(ideal.iter().copied()).collect();
    let pre_line = common::column(&t, &sim.data(p_pre)?, 0);
    let post_line = common::column(&t, &post_data, 0);
    let lstsq_line = common::column(&t, &lstsq_data, 0);
    let columns: Vec<Vec<(f64, f64)>> = (0..weights.ncols())
        .map(|j| {
            let mut w: Vec<f64> = weights.column(j).iter().map(|&v| v as f64).collect();
            w.sort_by(f64::total_cmp);
            w.into_iter()
                .enumerate()
                .map(|(k, v)| (k as f64, v))
                .collect()
        })
        .collect();
    common::draw(
        &out,
        &figure(
            seconds,
            [&ramp_line, &pre_line],
            [&ideal_line, &post_line, &lstsq_line],
            &columns,
            &excitatory,
        ),
    )?;

    let n_exc = excitatory.iter().filter(|&&e| e).count();
    println!(
        "{}",
        serde_json::json!({
            "backend": sim.backend_description(),
            "rmse": err(&post_data),
            "rmse_lstsq_weights": err(&lstsq_data),
            "sign_violation_fraction": violations as f64 / weights.len() as f64,
            "excitatory_fraction": n_exc as f64 / excitatory.len() as f64,
            "build_seconds": sim.build_seconds(),
            "plot": out.display().to_string(),
        })
    );
    Ok(())
}
