//! The plots of `--out`, each as PNG and SVG: a spike raster, the distribution of single-neuron
//! rates per group, and the traces of state and decoded-value probes. Text is drawn with the
//! DejaVu font compiled into the binary, so no system fonts are needed.

use crate::output::{var_name, Recorded};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// At most this many spikes are drawn in a raster; above it, every k-th neuron is shown.
const RASTER_SPIKES: usize = 50_000;
/// At most this many lines per trace panel.
const TRACE_LINES: usize = 8;
const RATE_BINS: usize = 25;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a valid TTF compiled into the binary; if registration ever failed, the
        // plots would fail with a message naming the file, not panic.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

type Png<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Svg<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Draws `NAME.png` and `NAME.svg` in `dir` (the same drawing function, instantiated for each
/// backend); returns their file names.
fn both(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    png_draw: impl FnOnce(&Png) -> Result<(), String>,
    svg_draw: impl FnOnce(&Svg) -> Result<(), String>,
) -> lamina::Result<Vec<String>> {
    register_font();
    let fail = |file: &str, e: String| {
        lamina::Error::Simulation(format!("cannot draw {}: {e}", dir.join(file).display()))
    };
    let png = format!("{name}.png");
    let svg = format!("{name}.svg");
    {
        let path = dir.join(&png);
        let root = BitMapBackend::new(&path, size).into_drawing_area();
        png_draw(&root).map_err(|e| fail(&png, e))?;
        root.present().map_err(|e| fail(&png, e.to_string()))?;
    }
    {
        let path = dir.join(&svg);
        let root = SVGBackend::new(&path, size).into_drawing_area();
        svg_draw(&root).map_err(|e| fail(&svg, e))?;
        root.present().map_err(|e| fail(&svg, e.to_string()))?;
    }
    Ok(vec![png, svg])
}

fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Spike raster of every group, stacked in the order of the groups.
pub fn raster(dir: &Path, recorded: &Recorded) -> lamina::Result<Vec<String>> {
    both(
        dir,
        "raster",
        (1200, 800),
        |root| draw_raster(root, recorded),
        |root| draw_raster(root, recorded),
    )
}

fn draw_raster<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    recorded: &Recorded,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let total_spikes: usize = recorded.spikes.iter().map(|g| g.trains.steps.len()).sum();
    let neurons: u64 = recorded.spikes.iter().map(|g| g.size as u64).sum();
    let stride = total_spikes.div_ceil(RASTER_SPIKES).max(1) as u32;
    let end_s = recorded
        .spikes
        .iter()
        .flat_map(|g| g.trains.times_s.last())
        .fold(recorded.dt_s, |a, &b| a.max(b));
    let caption = if stride > 1 {
        format!(
            "spikes (every {} neuron)",
            crate::words::ordinal(stride as u64)
        )
    } else {
        "spikes".to_string()
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 22))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..end_s, 0.0..neurons.max(1) as f64)
        .map_err(text)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("time (s)")
        .y_desc("neuron")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(text)?;
    let mut offset = 0u32;
    for (k, group) in recorded.spikes.iter().enumerate() {
        let colour = Palette99::pick(k).to_rgba();
        let t = &group.trains;
        chart
            .draw_series(
                t.times_s
                    .iter()
                    .zip(&t.neurons)
                    .filter(|(_, &n)| n % stride == 0)
                    .map(|(&t, &n)| Circle::new((t, (n + offset) as f64), 1, colour.filled())),
            )
            .map_err(text)?
            .label(group.name.clone())
            .legend(move |(x, y)| Circle::new((x, y), 4, colour.filled()));
        offset += group.size;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(text)
}

/// Per group, the histogram of single-neuron rates over [transient, end].
pub fn rates(dir: &Path, recorded: &Recorded) -> lamina::Result<Vec<String>> {
    let panels = recorded.spikes.len() as u32;
    both(
        dir,
        "rates",
        (900, 180 * panels.max(1)),
        |root| draw_rates(root, recorded),
        |root| draw_rates(root, recorded),
    )
}

fn draw_rates<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    recorded: &Recorded,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let first = (recorded.transient_s / recorded.dt_s).round() as u64;
    let end_s = recorded
        .spikes
        .iter()
        .flat_map(|g| g.trains.times_s.last())
        .fold(recorded.dt_s, |a, &b| a.max(b));
    let counted_s = (end_s - recorded.transient_s).max(recorded.dt_s);
    let areas = root.split_evenly((recorded.spikes.len(), 1));
    for (k, (area, group)) in areas.iter().zip(&recorded.spikes).enumerate() {
        let mut counts = vec![0u32; group.size as usize];
        for (&step, &n) in group.trains.steps.iter().zip(&group.trains.neurons) {
            if step >= first {
                counts[n as usize] += 1;
            }
        }
        let rates: Vec<f64> = counts.iter().map(|&c| c as f64 / counted_s).collect();
        let mean = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
        let top = rates.iter().fold(1.0f64, |a, &b| a.max(b)) * 1.0001;
        // Rates come in steps of one spike per counted time: no bin is narrower than that,
        // or the histogram would show empty bins between them.
        let width = (top / RATE_BINS as f64).max(1.0 / counted_s);
        let n_bins = (top / width).ceil().max(1.0) as usize;
        let mut bins = vec![0u32; n_bins];
        for r in &rates {
            bins[((r / width) as usize).min(n_bins - 1)] += 1;
        }
        let highest = *bins.iter().max().unwrap_or(&1) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{}: mean {mean:.2} Hz", group.name),
                ("sans-serif", 16),
            )
            .margin(6)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..top, 0.0..highest.max(1.0) * 1.05)
            .map_err(text)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("rate (Hz)")
            .y_desc("neurons")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(text)?;
        let colour = Palette99::pick(k).to_rgba();
        chart
            .draw_series(bins.iter().enumerate().map(|(b, &c)| {
                let x0 = b as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, c as f64)], colour.filled())
            }))
            .map_err(text)?;
    }
    Ok(())
}

/// One panel per state variable and per decoded probe, up to `TRACE_LINES` lines each.
pub fn traces(dir: &Path, recorded: &Recorded) -> lamina::Result<Vec<String>> {
    let panels = panels(recorded);
    both(
        dir,
        "probes",
        (1000, 220 * panels.len().max(1) as u32),
        |root| draw_traces(root, &panels),
        |root| draw_traces(root, &panels),
    )
}

/// A panel: its title, the sample times and the lines (one per neuron or dimension).
struct Panel<'a> {
    title: String,
    times_s: &'a [f64],
    lines: Vec<Vec<f64>>,
}

fn panels(recorded: &Recorded) -> Vec<Panel<'_>> {
    let columns = |values: &ndarray::Array2<f32>| -> Vec<Vec<f64>> {
        values
            .columns()
            .into_iter()
            .take(TRACE_LINES)
            .map(|c| c.iter().map(|&x| x as f64).collect())
            .collect()
    };
    let mut panels = Vec::new();
    for probe in &recorded.states {
        for (var, values) in &probe.values {
            panels.push(Panel {
                title: format!("{}.{}", probe.name, var_name(*var)),
                times_s: &probe.times_s,
                lines: columns(values),
            });
        }
    }
    for probe in &recorded.decoded {
        panels.push(Panel {
            title: probe.name.clone(),
            times_s: &probe.times_s,
            lines: columns(&probe.values),
        });
    }
    panels
}

fn draw_traces<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[Panel],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    for (area, panel) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
        let finite = panel.lines.iter().flatten().filter(|y| y.is_finite());
        let (lo, hi) = finite.fold((f64::MAX, f64::MIN), |(a, b), &y| (a.min(y), b.max(y)));
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.05).max(1e-6);
        let t0 = panel.times_s.first().copied().unwrap_or(0.0);
        let t1 = panel.times_s.last().copied().unwrap_or(1.0).max(t0 + 1e-9);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 16))
            .margin(6)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(t0..t1, (lo - pad)..(hi + pad))
            .map_err(text)?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .draw()
            .map_err(text)?;
        for (k, line) in panel.lines.iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    panel
                        .times_s
                        .iter()
                        .zip(line)
                        .filter(|(_, y)| y.is_finite())
                        .map(|(&t, &y)| (t, y)),
                    colour.stroke_width(2),
                ))
                .map_err(text)?;
        }
    }
    Ok(())
}
