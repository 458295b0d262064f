//! Izhikevich's 2003 network ("Simple model of spiking neurons", IEEE TNN 14:1569) with the
//! built-in `izhikevich` neuron model: WGSL snippets in lamina's merged neuron update, on the
//! GPU by default.
//!
//! cargo run --release --example izhikevich [-- SECONDS [OUT_DIR]]
//!
//! 800 excitatory neurons (from regular spiking to chattering) and 200 inhibitory ones (fast
//! spiking to low-threshold spiking), all-to-all: excitatory weights uniform in [0, 0.5] mV,
//! inhibitory in [-1, 0] mV, 1 ms steps as in the paper. The paper's thalamic input, Gaussian noise of SD 5 (excitatory)
//! and 2 (inhibitory) each ms, becomes two opposite Poisson inputs per neuron of the same
//! variance. Like the paper's, the network falls into rhythms: the population rate oscillates
//! in the alpha and gamma bands. Writes a raster with the population rate
//! (`izhikevich_raster.png`), and prints one JSON line with the mean rates and the frequency of
//! the largest peak of the rate's spectrum.

use lamina::prelude::*;
use plotters::prelude::*;

const N_EXC: u32 = 800;
const N_INH: u32 = 200;
/// Populations the excitatory and inhibitory neurons are split into (see `main`).
const EXC_BINS: u32 = 10;
const INH_BINS: u32 = 5;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = match args.next() {
        Some(s) => s.parse().map_err(|_| {
            Error::Validation(format!("SECONDS must be a number of seconds, not `{s}`"))
        })?,
        None => 1.0,
    };
    let out_dir = args.next().unwrap_or_else(|| ".".into());

    let mut net = Network::new().with_dt_ms(1.0).with_seed(2003);
    // The paper draws each neuron's parameters from r uniform in [0, 1]: excitatory
    // c = -65 + 15 r^2, d = 8 - 6 r^2 (regular spiking at r = 0, chattering at r = 1),
    // inhibitory a = 0.02 + 0.08 r, b = 0.25 - 0.05 r. Here r takes the centres of equal bins,
    // one population per bin; every population runs the same model code, so they all share
    // one function of the merged neuron update.
    let mut exc = Vec::new();
    for k in 0..EXC_BINS {
        let r2 = ((k as f64 + 0.5) / EXC_BINS as f64).powi(2);
        let p = IzhikevichParams {
            c: -65.0 + 15.0 * r2,
            d: 8.0 - 6.0 * r2,
            ..IzhikevichParams::REGULAR_SPIKING
        };
        exc.push(net.neurons(&format!("exc{k}"), N_EXC / EXC_BINS, izhikevich(p))?);
    }
    let mut inh = Vec::new();
    for k in 0..INH_BINS {
        let r = (k as f64 + 0.5) / INH_BINS as f64;
        let p = IzhikevichParams {
            a: 0.02 + 0.08 * r,
            b: 0.25 - 0.05 * r,
            ..IzhikevichParams::FAST_SPIKING
        };
        inh.push(net.neurons(&format!("inh{k}"), N_INH / INH_BINS, izhikevich(p))?);
    }
    // Noise of SD `sd` per step: +w and -w inputs of `per_step` spikes per step each have
    // variance 2 per_step w^2.
    let noise = |net: &mut Network, pop: PopulationId, sd: f64| -> Result<()> {
        let per_step = 2.0;
        let w = sd / f64::sqrt(2.0 * per_step);
        for sign in [1.0, -1.0] {
            let input = PoissonInput {
                in_degree: 20,
                rate_hz: per_step * 1e3 / 20.0,
                weight_pa: sign * w,
            };
            net.poisson(pop, input)?;
        }
        Ok(())
    };
    // Weights start at 1e-6 mV, not 0: the build refuses a nonzero weight that rounds to
    // nothing in its target's fixed point (about 2e-7 mV here), and a million uniform draws
    // may well hold one.
    let all: Vec<PopulationId> = exc.iter().chain(&inh).copied().collect();
    for &post in &all {
        noise(&mut net, post, if exc.contains(&post) { 5.0 } else { 2.0 })?;
        for &pre in &exc {
            net.connect(
                pre,
                post,
                Connectivity::AllToAll,
                Dist::uniform(1e-6, 0.5),
                1.0,
            )?;
        }
        for &pre in &inh {
            net.connect(
                pre,
                post,
                Connectivity::AllToAll,
                Dist::uniform(-1.0, -1e-6),
                1.0,
            )?;
        }
    }
    let probes = all
        .iter()
        .map(|p| net.probe_spikes(*p))
        .collect::<Result<Vec<_>>>()?;
    let mut sim = Simulator::new(&net, BackendChoice::Auto)?;
    let t0 = std::time::Instant::now();
    sim.run(seconds)?;
    let wall_s = t0.elapsed().as_secs_f64();

    let steps = sim.n_steps() as usize;
    let mut raster = Vec::new(); // (step, neuron: excitatory first)
    let (mut exc_spikes, mut inh_spikes) = (0, 0);
    for (k, probe) in probes.iter().enumerate() {
        let t = sim.spikes(probe)?;
        let offset = net.populations()[..k].iter().map(|p| p.size).sum::<u32>();
        match k < exc.len() {
            true => exc_spikes += t.steps.len(),
            false => inh_spikes += t.steps.len(),
        }
        raster.extend(
            t.steps
                .iter()
                .zip(&t.neurons)
                .map(|(s, n)| (*s, offset + n)),
        );
    }
    let mut rate = vec![0.0f64; steps];
    for &(s, _) in &raster {
        rate[s as usize] += 1.0;
    }
    let peak_hz = spectral_peak(&rate, 1e3, (4.0, 80.0));
    let png = std::path::Path::new(&out_dir).join("izhikevich_raster.png");
    plot(&png, &raster, &rate)
        .map_err(|e| Error::Simulation(format!("cannot draw {}: {e}", png.display())))?;
    let hz = |n: usize, size: u32| n as f64 / size as f64 / seconds;
    println!(
        "{}",
        serde_json::json!({
            "backend": sim.backend_description(),
            "seconds": seconds,
            "wall_s": wall_s,
            "exc_rate_hz": hz(exc_spikes, N_EXC),
            "inh_rate_hz": hz(inh_spikes, N_INH),
            "rate_peak_hz": peak_hz,
            "plot": png.display().to_string(),
        })
    );
    Ok(())
}

/// The frequency (Hz, 0.5 Hz resolution) of the largest power of `x` (sampled at `fs`) within
/// `band`, by a direct Fourier sum of the mean-free signal.
fn spectral_peak(x: &[f64], fs: f64, band: (f64, f64)) -> f64 {
    let mean = x.iter().sum::<f64>() / x.len().max(1) as f64;
    let power = |f: f64| {
        let (mut re, mut im) = (0.0, 0.0);
        for (k, v) in x.iter().enumerate() {
            let phase = 2.0 * std::f64::consts::PI * f * k as f64 / fs;
            re += (v - mean) * phase.cos();
            im += (v - mean) * phase.sin();
        }
        re * re + im * im
    };
    let freqs = (0..)
        .map(|k| band.0 + 0.5 * k as f64)
        .take_while(|f| *f <= band.1);
    freqs
        .map(|f| (f, power(f)))
        .fold((band.0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a })
        .0
}

/// Spike raster (excitatory black, inhibitory red) over the population rate, both over the
/// whole run (one step per ms).
fn plot(
    path: &std::path::Path,
    raster: &[(u64, u32)],
    rate: &[f64],
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // The DejaVu font compiled in: no system fonts needed.
    let _ =
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    let root = BitMapBackend::new(path, (1000, 760)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        &format!(
            "Izhikevich (2003) network: {N_EXC} excitatory and {N_INH} inhibitory neurons, \
             {} ms",
            rate.len()
        ),
        ("sans-serif", 22),
    )?;
    let (top, bottom) = root.split_vertically(500);
    let t_end = rate.len() as f64;
    let mut chart = ChartBuilder::on(&top)
        .caption("spikes", ("sans-serif", 17))
        .margin(10)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size(60)
        // Room above the neurons for the legend.
        .build_cartesian_2d(0.0..t_end, 0.0..(N_EXC + N_INH) as f64 * 1.15)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .x_desc("time (ms)")
        .y_desc("neuron (excitatory first)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| match *y <= (N_EXC + N_INH) as f64 {
            true => format!("{y:.0}"),
            false => String::new(),
        })
        .draw()?;
    for (inhibitory, color, label) in [(false, BLACK, "excitatory"), (true, RED, "inhibitory")] {
        chart
            .draw_series(
                raster
                    .iter()
                    .filter(|&&(_, n)| (n >= N_EXC) == inhibitory)
                    .map(|&(s, n)| Circle::new((s as f64, n as f64), 1, color.filled())),
            )?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 10, y), 3, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    let peak = rate.iter().copied().fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&bottom)
        .caption("population rate", ("sans-serif", 17))
        .margin(10)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..t_end, 0.0..peak * 1.05)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .x_desc("time (ms)")
        .y_desc("spikes per ms (all neurons)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    chart.draw_series(LineSeries::new(
        rate.iter().enumerate().map(|(k, r)| (k as f64, *r)),
        &BLUE,
    ))?;
    root.present()?;
    Ok(())
}
