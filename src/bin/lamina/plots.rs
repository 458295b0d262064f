//! The plots of `--out`, each as PNG and SVG: a spike raster, the distribution of single-neuron
//! rates per group, and the traces of state and decoded-value probes. Text is drawn with the
//! DejaVu font compiled into the binary, so no system fonts are needed.
//!
//! What each plot shows (its numbers, axis ranges and labels) is computed by a plain function
//! (`raster_plot`, `rate_plot`, `trace_plot`) that the tests check; the drawing functions only
//! draw it.

use crate::output::{var_name, Recorded};
use crate::words::{bio_time, ordinal};
use lamina::prelude::StateVar;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// At most this many spikes are drawn in a raster; above it, every k-th neuron is shown.
const RASTER_SPIKES: usize = 50_000;
/// At most this many lines per trace panel.
const TRACE_LINES: usize = 8;
/// At most this many bars per rate histogram.
const RATE_BINS: u32 = 25;
/// Tick labels per axis, at most.
const TICKS: usize = 10;
/// Width of the column right of each chart that names its series.
const LEGEND_PX: u32 = 130;

const TITLE_FONT: u32 = 20;
const CAPTION_FONT: u32 = 16;
const LABEL_FONT: u32 = 14;

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

/// A numeric axis: its label (with the unit), its range, and the decimals its tick labels
/// need to be told apart.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub label: String,
    pub range: (f64, f64),
    pub decimals: usize,
}

impl Axis {
    fn new(label: &str, lo: f64, hi: f64) -> Axis {
        Axis {
            label: label.to_string(),
            range: (lo, hi),
            decimals: tick_decimals(lo, hi),
        }
    }

    fn coords(&self) -> std::ops::Range<f64> {
        self.range.0..self.range.1
    }

    /// The tick labels plotters draws on this axis.
    #[cfg(test)]
    pub fn tick_labels(&self) -> Vec<String> {
        let coords: RangedCoordf64 = self.coords().into();
        coords
            .key_points(TICKS)
            .iter()
            .map(|x| format_tick(*x, self.decimals))
            .collect()
    }
}

/// The decimals that keep the tick labels of [lo, hi] apart: as many as the tick step needs.
pub fn tick_decimals(lo: f64, hi: f64) -> usize {
    let coords: RangedCoordf64 = (lo..hi).into();
    let points = coords.key_points(TICKS);
    let step = points
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    if !step.is_finite() || step <= 0.0 {
        return 0;
    }
    // A step of 0.05 needs 2 decimals, of 0.1 one, of 5 none; a hair of slack keeps 0.1
    // (stored as 0.1000000001) at one.
    (-step.log10() - 1e-9).ceil().max(0.0) as usize
}

fn format_tick(x: f64, decimals: usize) -> String {
    // `-0` is drawn as `0`.
    let x = if x == 0.0 { 0.0 } else { x };
    format!("{x:.decimals$}")
}

/// One group's spikes in a raster: its rows are `first..first + size`.
pub struct RasterGroup {
    pub name: String,
    pub first: u32,
    pub size: u32,
    /// (time s, row) of each spike drawn.
    pub points: Vec<(f64, u32)>,
}

/// A spike raster as drawn.
pub struct RasterPlot {
    /// What was run, and what the plot shows of it.
    pub title: String,
    pub subject: String,
    pub x: Axis,
    /// Rows: every neuron of every group, stacked in the order of the groups.
    pub y_label: String,
    pub rows: u32,
    pub groups: Vec<RasterGroup>,
}

/// The raster of `recorded`: time from zero to the run's end (not to its last spike), one
/// row per neuron, every k-th neuron when there are too many spikes to draw.
pub fn raster_plot(recorded: &Recorded) -> RasterPlot {
    let total_spikes: usize = recorded.spikes.iter().map(|g| g.trains.steps.len()).sum();
    let stride = total_spikes.div_ceil(RASTER_SPIKES).max(1) as u32;
    let mut first = 0u32;
    let mut groups = Vec::new();
    for group in &recorded.spikes {
        let t = &group.trains;
        let points = t
            .times_s
            .iter()
            .zip(&t.neurons)
            .filter(|(_, &n)| n % stride == 0)
            .map(|(&t, &n)| (t, first + n))
            .collect();
        groups.push(RasterGroup {
            name: group.name.clone(),
            first,
            size: group.size,
            points,
        });
        first += group.size;
    }
    let shown = if stride > 1 {
        format!(" (every {} neuron)", ordinal(stride as u64))
    } else {
        String::new()
    };
    RasterPlot {
        title: recorded.title.clone(),
        subject: format!("spikes{shown}"),
        x: Axis::new("time (s)", 0.0, recorded.end_s.max(recorded.dt_s)),
        y_label: "neuron".to_string(),
        rows: first.max(1),
        groups,
    }
}

/// One group's histogram of single-neuron rates.
pub struct RatePanel {
    pub caption: String,
    /// Each neuron's rate over the counted time, Hz; the bars count them (the tests read them).
    #[cfg_attr(not(test), allow(dead_code))]
    pub rates: Vec<f64>,
    pub mean_hz: f64,
    pub x: Axis,
    /// Neurons per bar; the bars are `bin_hz` wide from zero and touch.
    pub bins: Vec<u32>,
    pub bin_hz: f64,
    pub y_label: String,
}

/// The rate histograms: the title, and one panel per group.
pub struct RatePlot {
    pub title: String,
    pub subject: String,
    pub panels: Vec<RatePanel>,
}

/// Single-neuron rates over [transient, end of the run]: spikes counted from the first step at
/// or after the transient, divided by the time from that step to the run's end (the same
/// rates as the report).
pub fn rate_plot(recorded: &Recorded) -> RatePlot {
    let first = (recorded.transient_s / recorded.dt_s).round() as u64;
    let from_s = first as f64 * recorded.dt_s;
    let counted_s = (recorded.end_s - from_s).max(recorded.dt_s);
    let mut panels = Vec::new();
    for group in &recorded.spikes {
        let mut counts = vec![0u32; group.size as usize];
        for (&step, &n) in group.trains.steps.iter().zip(&group.trains.neurons) {
            if let Some(c) = counts.get_mut(n as usize).filter(|_| step >= first) {
                *c += 1;
            }
        }
        let rates: Vec<f64> = counts.iter().map(|&c| c as f64 / counted_s).collect();
        let mean_hz = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
        // Rates come in steps of one spike per counted time; bars a whole number of spikes
        // wide, binned on the counts themselves, leave no empty bars between full ones that
        // rounding would make.
        let most = counts.iter().copied().max().unwrap_or(0);
        let per_bin = (most + 1).div_ceil(RATE_BINS).max(1);
        let mut bins = vec![0u32; (most / per_bin + 1) as usize];
        for &c in &counts {
            bins[(c / per_bin) as usize] += 1;
        }
        let bin_hz = per_bin as f64 / counted_s;
        panels.push(RatePanel {
            caption: format!("{}: mean {mean_hz:.2} Hz", group.name),
            rates,
            mean_hz,
            x: Axis::new("rate (Hz)", 0.0, bins.len() as f64 * bin_hz),
            bins,
            bin_hz,
            y_label: "neurons".to_string(),
        });
    }
    RatePlot {
        title: recorded.title.clone(),
        subject: format!(
            "single-neuron rates from {} to {} (dashed: the mean)",
            bio_time(from_s),
            bio_time(recorded.end_s)
        ),
        panels,
    }
}

/// A panel of traces: its caption, axes, and named lines.
pub struct TracePanel<'a> {
    pub caption: String,
    pub x: Axis,
    pub y: Axis,
    pub times_s: &'a [f64],
    /// Name and values of each line (a neuron or a dimension).
    pub lines: Vec<(String, Vec<f64>)>,
}

pub struct TracePlot<'a> {
    pub title: String,
    pub subject: String,
    pub panels: Vec<TracePanel<'a>>,
}

/// One panel per state variable and per decoded probe, up to `TRACE_LINES` lines each, over
/// the whole run.
pub fn trace_plot(recorded: &Recorded) -> TracePlot<'_> {
    let end_s = recorded.end_s.max(recorded.dt_s);
    let mut panels = Vec::new();
    for probe in &recorded.states {
        for (var, values) in &probe.values {
            let unit = match var {
                StateVar::V => "membrane potential (mV)",
                StateVar::ISynEx | StateVar::ISynIn => "current (pA)",
            };
            panels.push(trace_panel(
                format!("{}.{}", probe.name, var_name(*var)),
                (unit, "neuron"),
                &probe.times_s,
                values,
                end_s,
            ));
        }
    }
    for probe in &recorded.decoded {
        panels.push(trace_panel(
            format!("{}: decoded value", probe.name),
            ("value", "dimension"),
            &probe.times_s,
            &probe.values,
            end_s,
        ));
    }
    TracePlot {
        title: recorded.title.clone(),
        subject: "probes".to_string(),
        panels,
    }
}

/// A panel of samples x lines, its y axis labelled `unit` and its lines `line 0`, `line 1`...
fn trace_panel<'a>(
    caption: String,
    (unit, line): (&str, &str),
    times_s: &'a [f64],
    values: &ndarray::Array2<f32>,
    end_s: f64,
) -> TracePanel<'a> {
    let lines: Vec<(String, Vec<f64>)> = values
        .columns()
        .into_iter()
        .take(TRACE_LINES)
        .enumerate()
        .map(|(k, c)| (format!("{line} {k}"), c.iter().map(|&x| x as f64).collect()))
        .collect();
    let finite = lines.iter().flat_map(|l| &l.1).filter(|y| y.is_finite());
    let (lo, hi) = finite.fold((f64::MAX, f64::MIN), |(a, b), &y| (a.min(y), b.max(y)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.05).max(1e-6);
    TracePanel {
        caption,
        x: Axis::new("time (s)", 0.0, end_s),
        y: Axis::new(unit, lo - pad, hi + pad),
        times_s,
        lines,
    }
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

/// The drawing below a title of two lines: what was run, and what the plot shows of it.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subject: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(text)?;
    let area = root.titled(title, font(TITLE_FONT)).map_err(text)?;
    area.titled(subject, font(CAPTION_FONT)).map_err(text)
}

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// Writes `name` in `colour` into the legend column `area`, at the height `y_px` of the whole
/// drawing (the chart's own pixel coordinates), with a swatch before it.
fn legend_entry<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y_px: i32,
    name: &str,
    colour: RGBAColor,
) -> Result<(), String> {
    let (_, rows) = area.get_pixel_range();
    let y = y_px - rows.start;
    area.draw(&Rectangle::new([(8, y - 5), (20, y + 5)], colour.filled()))
        .map_err(text)?;
    let style = font(LABEL_FONT).pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Left,
        plotters::style::text_anchor::VPos::Center,
    ));
    area.draw(&Text::new(name.to_string(), (26, y), style))
        .map_err(text)
}

/// Spike raster of every group, stacked in the order of the groups.
pub fn raster(dir: &Path, recorded: &Recorded) -> lamina::Result<Vec<String>> {
    let plot = raster_plot(recorded);
    both(
        dir,
        "raster",
        (1200, 800),
        |root| draw_raster(root, &plot),
        |root| draw_raster(root, &plot),
    )
}

fn draw_raster<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &RasterPlot,
) -> Result<(), String> {
    let area = titled(root, &plot.title, &plot.subject)?;
    let legend = plot.groups.len() > 1;
    let (width, _) = area.dim_in_pixel();
    let (chart_area, legend_area) =
        area.split_horizontally(if legend { width - LEGEND_PX } else { width });
    let mut chart = ChartBuilder::on(&chart_area)
        .margin(10)
        .margin_right(30)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(plot.x.coords(), 0u32..plot.rows)
        .map_err(text)?;
    let decimals = plot.x.decimals;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(TICKS)
        .y_labels(TICKS)
        .x_desc(plot.x.label.as_str())
        .y_desc(plot.y_label.as_str())
        .x_label_formatter(&|x| format_tick(*x, decimals))
        .label_style(font(LABEL_FONT))
        .axis_desc_style(font(LABEL_FONT))
        .draw()
        .map_err(text)?;
    // Names go up the page with the groups; a thin band's name is pushed up so that it does
    // not run into the one below.
    let mut below: Option<i32> = None;
    for (k, group) in plot.groups.iter().enumerate() {
        let colour = Palette99::pick(k).to_rgba();
        chart
            .draw_series(
                group
                    .points
                    .iter()
                    .map(|&(t, row)| Circle::new((t, row), 1, colour.filled())),
            )
            .map_err(text)?;
        if legend {
            // Each group's name sits beside its band of rows.
            let middle = group.first + group.size / 2;
            let (_, y) = chart.backend_coord(&(plot.x.range.1, middle));
            let y = below.map_or(y, |b| y.min(b - LABEL_FONT as i32 - 4));
            below = Some(y);
            legend_entry(&legend_area, y, &group.name, colour)?;
        }
    }
    Ok(())
}

/// Per group, the histogram of single-neuron rates over [transient, end].
pub fn rates(dir: &Path, recorded: &Recorded) -> lamina::Result<Vec<String>> {
    let plot = rate_plot(recorded);
    let panels = plot.panels.len() as u32;
    both(
        dir,
        "rates",
        (900, 40 + 200 * panels.max(1)),
        |root| draw_rates(root, &plot),
        |root| draw_rates(root, &plot),
    )
}

fn draw_rates<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &RatePlot,
) -> Result<(), String> {
    let area = titled(root, &plot.title, &plot.subject)?;
    let areas = area.split_evenly((plot.panels.len().max(1), 1));
    for (k, (area, panel)) in areas.iter().zip(&plot.panels).enumerate() {
        let highest = panel.bins.iter().copied().max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.caption, font(CAPTION_FONT))
            .margin(6)
            .margin_right(30)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(panel.x.coords(), 0u32..highest + highest / 20 + 1)
            .map_err(text)?;
        let decimals = panel.x.decimals;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(TICKS)
            .y_labels(5)
            .x_desc(panel.x.label.as_str())
            .y_desc(panel.y_label.as_str())
            .x_label_formatter(&|x| format_tick(*x, decimals))
            .label_style(font(LABEL_FONT))
            .axis_desc_style(font(LABEL_FONT))
            .draw()
            .map_err(text)?;
        let colour = Palette99::pick(k).to_rgba();
        chart
            .draw_series(panel.bins.iter().enumerate().map(|(b, &c)| {
                let x0 = b as f64 * panel.bin_hz;
                Rectangle::new([(x0, 0), (x0 + panel.bin_hz, c)], colour.filled())
            }))
            .map_err(text)?;
        let top = highest + highest / 20 + 1;
        chart
            .draw_series(DashedLineSeries::new(
                [(panel.mean_hz, 0), (panel.mean_hz, top)],
                6,
                4,
                BLACK.stroke_width(2),
            ))
            .map_err(text)?;
    }
    Ok(())
}

/// One panel per state variable and per decoded probe, up to `TRACE_LINES` lines each.
pub fn traces(dir: &Path, recorded: &Recorded) -> lamina::Result<Vec<String>> {
    let plot = trace_plot(recorded);
    both(
        dir,
        "probes",
        (1100, 40 + 240 * plot.panels.len().max(1) as u32),
        |root| draw_traces(root, &plot),
        |root| draw_traces(root, &plot),
    )
}

fn draw_traces<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &TracePlot,
) -> Result<(), String> {
    let area = titled(root, &plot.title, &plot.subject)?;
    for (area, panel) in area
        .split_evenly((plot.panels.len().max(1), 1))
        .iter()
        .zip(&plot.panels)
    {
        let legend = panel.lines.len() > 1;
        let (width, _) = area.dim_in_pixel();
        let (chart_area, legend_area) =
            area.split_horizontally(if legend { width - LEGEND_PX } else { width });
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(&panel.caption, font(CAPTION_FONT))
            .margin(6)
            .margin_right(30)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(panel.x.coords(), panel.y.coords())
            .map_err(text)?;
        let (xd, yd) = (panel.x.decimals, panel.y.decimals);
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(TICKS)
            .y_labels(6)
            .x_desc(panel.x.label.as_str())
            .y_desc(panel.y.label.as_str())
            .x_label_formatter(&|x| format_tick(*x, xd))
            .y_label_formatter(&|y| format_tick(*y, yd))
            .label_style(font(LABEL_FONT))
            .axis_desc_style(font(LABEL_FONT))
            .draw()
            .map_err(text)?;
        let (_, top) = chart.backend_coord(&(panel.x.range.0, panel.y.range.1));
        for (k, (name, line)) in panel.lines.iter().enumerate() {
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
            if legend {
                legend_entry(&legend_area, top + 10 + 20 * k as i32, name, colour)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::SpikeGroup;
    use lamina::prelude::SpikeTrains;

    /// Spikes of one group at the given (step, neuron) pairs, dt 1 ms.
    fn group(name: &str, size: u32, spikes: &[(u64, u32)]) -> SpikeGroup {
        SpikeGroup {
            name: name.into(),
            size,
            trains: SpikeTrains {
                steps: spikes.iter().map(|s| s.0).collect(),
                times_s: spikes.iter().map(|s| s.0 as f64 * 1e-3).collect(),
                neurons: spikes.iter().map(|s| s.1).collect(),
            },
        }
    }

    fn run(end_s: f64, transient_s: f64, groups: Vec<SpikeGroup>) -> Recorded {
        Recorded {
            title: "cuba, 5 neurons".into(),
            dt_s: 1e-3,
            end_s,
            transient_s,
            spikes: groups,
            ..Recorded::default()
        }
    }

    #[test]
    fn rates_divide_by_the_run_after_the_transient_not_by_the_last_spike() {
        // 1.1 s with a 0.1 s transient: one counted second. Neuron 0 fires twice in it (and
        // once in the transient, not counted), neuron 1 once, early: its last spike at 0.2 s
        // must not make the counted time 0.1 s.
        let recorded = run(
            1.1,
            0.1,
            vec![group(
                "excitatory",
                4,
                &[(50, 0), (150, 0), (200, 1), (900, 0)],
            )],
        );
        let plot = rate_plot(&recorded);
        let panel = &plot.panels[0];
        assert_eq!(panel.rates.len(), 4);
        for (got, want) in panel.rates.iter().zip([2.0, 1.0, 0.0, 0.0]) {
            assert!((got - want).abs() < 1e-9, "{:?}", panel.rates);
        }
        assert!((panel.mean_hz - 0.75).abs() < 1e-9, "{}", panel.mean_hz);
        assert!(panel.caption.contains("mean 0.75 Hz"), "{}", panel.caption);
        // Every neuron is in one bar, the bars are one spike (1 Hz) wide and the axis ends
        // with the last bar.
        assert_eq!(panel.bins, vec![2, 1, 1]);
        assert!((panel.bin_hz - 1.0).abs() < 1e-9);
        assert_eq!(panel.x.range, (0.0, 3.0));
        assert_eq!(panel.x.label, "rate (Hz)");
        assert_eq!(panel.y_label, "neurons");
        assert_eq!(plot.title, "cuba, 5 neurons");
        assert!(
            plot.subject.contains("100 ms to 1.100 s"),
            "{}",
            plot.subject
        );
    }

    #[test]
    fn rate_bars_touch_and_hold_every_neuron() {
        // Counts 0..=99 over one second: 100 distinct rates in at most 25 bars of whole spikes.
        let spikes: Vec<(u64, u32)> = (0..100u32)
            .flat_map(|n| (0..n as u64).map(move |s| (s * 10, n)))
            .collect();
        let plot = rate_plot(&run(1.0, 0.0, vec![group("all", 100, &spikes)]));
        let panel = &plot.panels[0];
        assert!(panel.bins.len() <= RATE_BINS as usize, "{:?}", panel.bins);
        assert_eq!(panel.bins.iter().sum::<u32>(), 100);
        assert!(
            panel.bins.iter().all(|&b| b > 0),
            "no empty bars: {:?}",
            panel.bins
        );
        assert!((panel.bin_hz - 4.0).abs() < 1e-9, "{}", panel.bin_hz);
    }

    #[test]
    fn the_raster_spans_the_whole_run_with_one_row_per_neuron() {
        let recorded = run(
            1.1,
            0.0,
            vec![
                group("excitatory", 4, &[(10, 3), (200, 0)]),
                group("inhibitory", 2, &[(100, 1)]),
            ],
        );
        let plot = raster_plot(&recorded);
        assert_eq!(
            plot.x.range,
            (0.0, 1.1),
            "zero to the run's end, not the last spike"
        );
        assert_eq!(plot.x.label, "time (s)");
        assert_eq!(plot.y_label, "neuron");
        assert_eq!(plot.rows, 6);
        assert_eq!(plot.groups[1].first, 4);
        assert_eq!(plot.groups[1].points, vec![(0.1, 5)]);
        assert_eq!(
            (plot.title.as_str(), plot.subject.as_str()),
            ("cuba, 5 neurons", "spikes")
        );
    }

    #[test]
    fn traces_are_labelled_with_their_units_and_span_the_run() {
        let mut recorded = run(2.0, 0.0, Vec::new());
        let times: Vec<f64> = (1..=2000).map(|k| k as f64 * 1e-3).collect();
        recorded.decoded.push(crate::output::DecodedRecord {
            name: "post".into(),
            times_s: times.clone(),
            values: ndarray::Array2::from_shape_fn((2000, 2), |(t, d)| (t * (d + 1)) as f32),
        });
        recorded.states.push(crate::output::StateRecord {
            name: "cell".into(),
            times_s: times,
            values: vec![(StateVar::V, ndarray::Array2::from_elem((2000, 1), -65.0))],
        });
        let plot = trace_plot(&recorded);
        assert_eq!(plot.title, "cuba, 5 neurons");
        assert_eq!(plot.panels.len(), 2);
        let v = &plot.panels[0];
        assert_eq!(v.y.label, "membrane potential (mV)");
        assert_eq!(v.x.range, (0.0, 2.0));
        let post = &plot.panels[1];
        assert_eq!(post.x.label, "time (s)");
        let names: Vec<&str> = post.lines.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(names, ["dimension 0", "dimension 1"]);
    }

    #[test]
    fn tick_labels_never_repeat() {
        for (lo, hi) in [
            (0.0, 0.3),
            (0.0, 1.1),
            (0.0, 2.0),
            (0.0, 0.005),
            (0.0, 3.0),
            (-70.5, -49.5),
            (0.0, 1234.0),
            (-65.000001, -64.999999),
        ] {
            let axis = Axis::new("x", lo, hi);
            let labels = axis.tick_labels();
            assert!(labels.len() >= 2, "{lo}..{hi}: {labels:?}");
            let mut unique = labels.clone();
            unique.dedup();
            assert_eq!(unique, labels, "{lo}..{hi} repeats a label");
        }
        assert_eq!(tick_decimals(0.0, 0.3), 2);
        assert_eq!(tick_decimals(0.0, 2.0), 1);
        assert_eq!(tick_decimals(0.0, 1234.0), 0);
    }
}
