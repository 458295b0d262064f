//! Seed 003: memristor synapses learning a communication channel, on the GPU. Every synapse of
//! `pre.neurons -> post.neurons` is a pair of memristors (the built-in `memristor` synapse
//! model: WGSL snippets, see `lamina::model::plasticity`); when a pre neuron spikes, the sign
//! of the post neuron's error picks which device of the pair gets a pulse, and the weight is
//! the difference of their normalised conductances. Nothing runs on the host between steps
//! but the probes.
//!
//! cargo run --release --example memristor [-- OUT_DIR]
//!
//! Tests the channel with learning off (the devices frozen by an unreachable error threshold),
//! learns for `LEARN_S` seconds, tests again, and prints one JSON line with `rmse_before` and
//! `rmse_after` (of post's decoded value against the input). Writes
//! `OUT_DIR/memristor_conductances.png` (default: the current directory): the normalised
//! conductances (r_min / r, in millionths) of a few synapses' devices over the run.

use lamina::prelude::*;
use plotters::prelude::*;
use std::f64::consts::PI;

const LEARN_S: f64 = 20.0;
const TEST_S: f64 = 2.0;
const N: usize = 100;
/// Synapses whose devices the plot follows: (post neuron, pre neuron).
const TRACKED: [(usize, usize); 4] = [(0, 0), (3, 7), (10, 20), (42, 99)];
/// Their colours in the plot: dark and distinct on white.
const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

fn main() -> Result<()> {
    let out_dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let params = MemristorParams::default();
    let mut net = NefNetwork::new().with_seed(3);
    let stim = net.node(
        "stim",
        Node::function(1, |t| vec![0.8 * (2.0 * PI * 0.5 * t).sin()]),
    )?;
    let pre = net.ensemble("pre", Ensemble::new(N, 1))?;
    let post = net.ensemble("post", Ensemble::new(N, 1))?;
    net.connect(stim, pre, Connection::new())?;
    // The weights start as the devices' initial state sets them (from the first step on).
    let conn = net.connect(
        pre.neurons(),
        post.neurons(),
        Connection::new().transform(ndarray::Array2::zeros((N, N))),
    )?;
    let rule = net.learn(conn, memristor(params)?)?;
    // The error, post - input, as a node would give it in Nengo.
    net.connect(post, rule, Connection::new())?;
    net.connect(stim, rule, Connection::new().scale(-1.0))?;
    let p_stim = net.probe(stim, Probe::new())?;
    let p_post = net.probe(post, Probe::new().synapse(Synapse::lowpass(0.01)))?;

    let mut sim = Simulator::new(&net, BackendChoice::Auto)?;
    let mut samples: Vec<(f64, Vec<f32>)> = Vec::new();
    let mut sample = |sim: &mut Simulator| -> Result<()> {
        let pos = sim.rule_state(rule, "r_pos")?;
        let neg = sim.rule_state(rule, "r_neg")?;
        let g = |r: f32| params.r_min as f32 / r;
        let row = TRACKED
            .iter()
            .flat_map(|&(i, j)| [g(pos[[i, j]]), g(neg[[i, j]])])
            .collect();
        samples.push((sim.time(), row));
        Ok(())
    };
    let run = |sim: &mut Simulator,
               seconds: f64,
               sample: &mut dyn FnMut(&mut Simulator) -> Result<()>|
     -> Result<()> {
        let pieces = (seconds / 0.1).round() as usize;
        for _ in 0..pieces {
            sim.run(0.1)?;
            sample(sim)?;
        }
        Ok(())
    };

    sample(&mut sim)?;
    let threshold = params.err_threshold;
    sim.set_rule_param(rule, "err_threshold", 1e30)?;
    run(&mut sim, TEST_S, &mut sample)?;
    let before = (0, sim.n_steps() as usize);
    sim.set_rule_param(rule, "err_threshold", threshold)?;
    run(&mut sim, LEARN_S, &mut sample)?;
    sim.set_rule_param(rule, "err_threshold", 1e30)?;
    let from = sim.n_steps() as usize;
    run(&mut sim, TEST_S, &mut sample)?;
    let after = (from, sim.n_steps() as usize);

    let x = sim.data(p_stim)?;
    let y = sim.data(p_post)?;
    // Skip the first 0.2 s of each test: the filtered output still settles.
    let settle = (0.2 / sim.dt()) as usize;
    let rmse = |(a, b): (usize, usize)| {
        let sq: f64 = (a + settle..b)
            .map(|k| (y[[k, 0]] as f64 - x[[k, 0]] as f64).powi(2))
            .sum();
        (sq / (b - a - settle) as f64).sqrt()
    };
    let png = std::path::Path::new(&out_dir).join("memristor_conductances.png");
    plot(
        &png,
        &samples,
        (before.1 as f64 * sim.dt(), from as f64 * sim.dt()),
    )
    .map_err(|e| Error::Simulation(format!("cannot draw {}: {e}", png.display())))?;
    println!(
        "{}",
        serde_json::json!({
            "backend": sim.backend_description(),
            "synapses": N * N,
            "learn_s": LEARN_S,
            "rmse_before": rmse(before),
            "rmse_after": rmse(after),
            "plot": png.display().to_string(),
        })
    );
    Ok(())
}

/// The normalised conductances (r_min / r, so 1 at the device's lowest resistance) of the
/// tracked devices over time, in millionths, with the learning phase shaded.
fn plot(
    path: &std::path::Path,
    samples: &[(f64, Vec<f32>)],
    learning: (f64, f64),
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // The DejaVu font compiled in: no system fonts needed.
    let _ =
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    // The conductances lie near 1e-6 of their maximum: drawn in millionths.
    const SCALE: f64 = 1e6;
    let root = BitMapBackend::new(path, (1000, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let t_end = samples.last().map_or(1.0, |s| s.0);
    let (lo, hi) = samples
        .iter()
        .flat_map(|(_, row)| row.iter().map(|&g| g as f64 * SCALE))
        .fold((f64::MAX, f64::MIN), |(a, b), g| (a.min(g), b.max(g)));
    let pad = (hi - lo).max(1e-9) * 0.05;
    let (y0, y1) = (lo - pad, hi + pad);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Memristor pairs learning a channel: 4 of {} synapses, test / learn / test",
                N * N
            ),
            ("sans-serif", 20),
        )
        .margin(10)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..t_end, y0..y1)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .x_desc("time (s)")
        .y_desc("normalised conductance r_min / r (millionths)")
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .draw()?;
    let shade = RGBColor(225, 225, 245);
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(learning.0, y0), (learning.1, y1)],
            shade.filled(),
        )))?
        .label(format!(
            "learning on ({:.0} - {:.0} s); tests before and after",
            learning.0, learning.1
        ))
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], shade.filled()));
    for (k, &(i, j)) in TRACKED.iter().enumerate() {
        for (d, name) in ["+ device (thick)", "- device (thin)"].iter().enumerate() {
            let color = COLOURS[k];
            let series = samples
                .iter()
                .map(|(t, row)| (*t, row[2 * k + d] as f64 * SCALE));
            let style = color.stroke_width(if d == 0 { 3 } else { 1 });
            chart
                .draw_series(LineSeries::new(series, style))?
                .label(format!("synapse post {i}, pre {j}: {name}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
