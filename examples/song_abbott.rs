//! Song, Miller and Abbott (2000), "Competitive Hebbian learning through spike-timing-dependent
//! synaptic plasticity": 1,000 Poisson inputs (15 Hz) excite 4 LIF neurons through plastic
//! synapses with random delays (0.1 to 5 ms); additive STDP with depression slightly stronger
//! than potentiation (`Stdp::song_abbott`, Brian2's example rule: a_plus = 0.01 w_max,
//! a_minus = -1.05 a_plus) drives the weights apart, many to zero and some to the maximum, so
//! their histogram, uniform at the start, becomes bimodal. Current-based LIF neurons
//! (`LifCurrent`) stand in for the paper's conductance-based ones.
//!
//! cargo run --release --example song_abbott [-- SECONDS [OUT_DIR]]
//!
//! Runs the network for SECONDS (200 by default; the weights separate over minutes of
//! biological time, as in Brian2's example) on `BackendChoice::Auto` (a hardware GPU if there
//! is one; an API named in `LAMINA_BACKEND` is honoured), then the same network on the CPU
//! twin, and prints one JSON line: `backend`, `synapses`, `max_delay_steps`,
//! `fraction_near_zero` and `fraction_near_max` (weights within 10% of either bound, with the
//! initial weights' fractions beside them), the post neurons' rate over the last 10 s,
//! `spike_hash`, `cpu_spike_hash` and whether the final weights equal the CPU twin's bit for
//! bit. Writes `OUT_DIR/song_abbott_weights.png` (default: the current directory): the
//! histograms of the weights at the start and at the end.

use lamina::prelude::*;
use plotters::prelude::*;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const N_IN: usize = 1000;
const N_POST: usize = 4;
const RATE_HZ: f64 = 15.0;
const DT_MS: f64 = 0.1;
const W_MAX_PA: f64 = 6.0;
const MAX_DELAY_MS: f64 = 5.0;
const BINS: usize = 20;
const DEFAULT_SECONDS: f64 = 200.0;

struct Setup {
    net: Network,
    proj: ProjectionId,
    post_spikes: SpikeProbe,
    initial: Vec<f64>,
    max_delay_steps: u32,
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds = match args.next() {
        Some(s) => s.parse::<f64>().ok().filter(|s| *s > 0.0).ok_or_else(|| {
            Error::Validation(format!("SECONDS is `{s}`; give a positive number"))
        })?,
        None => DEFAULT_SECONDS,
    };
    let out_dir = args.next().unwrap_or_else(|| ".".into());
    let setup = network(seconds)?;

    let (backend, spike_hash, final_w, rate_hz) = run(&setup, BackendChoice::Auto, seconds)?;
    let (_, cpu_spike_hash, cpu_w, _) = run(&setup, BackendChoice::Cpu, seconds)?;
    let same_weights = final_w
        .iter()
        .zip(&cpu_w)
        .all(|(a, b)| a.to_bits() == b.to_bits());

    let near = |w: &[f64], bound: f64| {
        w.iter()
            .filter(|&&w| (w - bound).abs() <= 0.1 * W_MAX_PA)
            .count() as f64
            / w.len() as f64
    };
    let png = std::path::Path::new(&out_dir).join("song_abbott_weights.png");
    let last: Vec<f64> = final_w.iter().map(|&w| w as f64).collect();
    let first = &setup.initial;
    plot(&png, &setup.initial, &last, seconds)
        .map_err(|e| Error::Simulation(format!("cannot draw {}: {e}", png.display())))?;
    println!(
        "{}",
        serde_json::json!({
            "backend": backend,
            "seconds": seconds,
            "inputs": N_IN,
            "post_neurons": N_POST,
            "synapses": final_w.len(),
            "max_delay_steps": setup.max_delay_steps,
            "w_max_pa": W_MAX_PA,
            "fraction_near_zero": near(&last, 0.0),
            "fraction_near_max": near(&last, W_MAX_PA),
            // The same fractions of the initial, uniform weights (about 0.1 each): the contrast.
            "initial_fraction_near_zero": near(first, 0.0),
            "initial_fraction_near_max": near(first, W_MAX_PA),
            "post_rate_hz": rate_hz,
            "spike_hash": format!("{spike_hash:016x}"),
            "cpu_spike_hash": format!("{cpu_spike_hash:016x}"),
            "weights_equal_cpu": same_weights,
            "plot": png.display().to_string(),
        })
    );
    Ok(())
}

/// Poisson inputs drawn once on the host (a seeded stream, so every backend sees the same
/// trains), all-to-all onto `N_POST` LIF neurons, weights uniform in [0, w_max], delays uniform
/// in [dt, 5 ms].
fn network(seconds: f64) -> Result<Setup> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2000);
    let mut net = Network::new().with_seed(2000).with_dt_ms(DT_MS);
    let times: Vec<Vec<f64>> = (0..N_IN)
        .map(|_| {
            // Exponential intervals, rounded to the step as any spike time is.
            let mut t = 0.0;
            let mut out = Vec::new();
            loop {
                t += -(1.0 - rng.random::<f64>()).ln() * 1000.0 / RATE_HZ;
                if t >= seconds * 1000.0 {
                    break out;
                }
                out.push(t);
            }
        })
        .collect();
    let inputs = net.spike_source("inputs", times)?;
    // Song et al.'s neuron: 20 ms membrane, rest -70 mV, threshold -54 mV, reset -60 mV; 5 ms
    // excitatory synapses. With every weight at w_max the mean drive is about twice what
    // reaches threshold: learning has to pick which inputs stay strong.
    let post = net.population(
        "post",
        N_POST as u32,
        LifCurrent {
            tau_m_ms: 20.0,
            c_m_pf: 250.0,
            e_l_mv: -70.0,
            v_reset_mv: -60.0,
            v_th_mv: -54.0,
            t_ref_ms: 1.0,
            tau_syn_ex_ms: 5.0,
            tau_syn_in_ms: 5.0,
            i_e_pa: 0.0,
            v_init_mv: Dist::Uniform {
                low: -70.0,
                high: -54.0,
            },
        },
    )?;
    let pairs: Vec<(u32, u32)> = (0..N_IN as u32)
        .flat_map(|i| (0..N_POST as u32).map(move |j| (i, j)))
        .collect();
    let initial: Vec<f64> = (0..pairs.len())
        .map(|_| rng.random::<f64>() * W_MAX_PA)
        .collect();
    let max_delay_steps = (MAX_DELAY_MS / DT_MS).round() as u32;
    let delays: Vec<f64> = (0..pairs.len())
        .map(|_| DT_MS * rng.random_range(1..=max_delay_steps) as f64)
        .collect();
    let proj = net.connect(
        inputs,
        post,
        Connectivity::Explicit(pairs),
        Values::Each(initial.clone()),
        Values::Each(delays),
    )?;
    // Brian2's rule: a_plus = 0.01 w_max, a_minus = -1.05 a_plus, 20 ms traces.
    net.stdp(proj, Stdp::song_abbott(W_MAX_PA))?;
    let post_spikes = net.probe_spikes(post)?;
    Ok(Setup {
        net,
        proj,
        post_spikes,
        initial,
        max_delay_steps,
    })
}

/// Runs `seconds` on `choice`: the backend's description, the post neurons' spike hash, the
/// final weights and the post neurons' mean rate over the last 10 s (or the whole run).
fn run(setup: &Setup, choice: BackendChoice, seconds: f64) -> Result<(String, u64, Vec<f32>, f64)> {
    let mut sim = Simulator::new(&setup.net, choice)?;
    sim.run(seconds)?;
    let spikes = sim.spikes(&setup.post_spikes)?;
    let window = seconds.min(10.0);
    let late = spikes
        .times_s
        .iter()
        .filter(|&&t| t >= seconds - window)
        .count();
    let rate = late as f64 / (N_POST as f64 * window);
    let hash = spikes.hash();
    let weights = sim.plastic_weights(setup.proj)?.to_vec();
    Ok((sim.backend_description(), hash, weights, rate))
}

/// Two histograms side by side over [0, w_max]: the weights as drawn and after learning.
fn plot(
    path: &std::path::Path,
    initial: &[f64],
    last: &[f64],
    seconds: f64,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // The DejaVu font compiled in: no system fonts needed.
    let _ =
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    let counts = |w: &[f64]| {
        let mut c = [0usize; BINS];
        for &x in w {
            let b = ((x / W_MAX_PA) * BINS as f64).floor() as usize;
            c[b.min(BINS - 1)] += 1;
        }
        c
    };
    let (before, after) = (counts(initial), counts(last));
    let top = before.iter().chain(&after).copied().max().unwrap_or(1) as f64 * 1.08;
    let width = W_MAX_PA / BINS as f64;
    let root = BitMapBackend::new(path, (1000, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "STDP on {} synapses with delays: weights before and after {seconds:.0} s \
                 (Song, Miller & Abbott 2000)",
                last.len()
            ),
            ("sans-serif", 20),
        )
        .margin(10)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..W_MAX_PA, 0.0..top)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .x_desc("synaptic weight (pA)")
        .y_desc("number of synapses")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .draw()?;
    let grey = RGBColor(170, 170, 170);
    let blue = RGBColor(31, 119, 180);
    // Each bin holds two bars: before (left half, grey) and after (right half, blue).
    for (k, (counts, colour, label)) in [
        (before, grey, "initial weights (uniform)".to_string()),
        (after, blue, format!("after {seconds:.0} s of STDP")),
    ]
    .into_iter()
    .enumerate()
    {
        let bars = counts.into_iter().enumerate().map(move |(b, c)| {
            let x0 = b as f64 * width + k as f64 * width / 2.0;
            Rectangle::new([(x0, 0.0), (x0 + width / 2.0, c as f64)], colour.filled())
        });
        chart
            .draw_series(bars)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperMiddle)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
