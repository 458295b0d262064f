//! Shared by the examples: a PNG of stacked line plots and the final JSON line.
#![allow(dead_code)]

use plotters::prelude::*;
use std::path::Path;

/// Line colours, picked by index: dark and distinct on white.
pub const COLOURS: [RGBColor; 7] = [
    RGBColor(31, 119, 180),  // blue
    RGBColor(214, 39, 40),   // red
    RGBColor(44, 160, 44),   // green
    RGBColor(255, 127, 14),  // orange
    RGBColor(148, 103, 189), // purple
    RGBColor(0, 0, 0),       // black: targets and ideals, drawn thin over the data
    RGBColor(150, 150, 150), // grey: marks
];
pub const BLACK_LINE: usize = 5;
const GREY: usize = 6;

/// One line of a panel: its points, colour index into `COLOURS`, stroke width in pixels and
/// legend entry. Series with the same label share one legend entry; an empty label has none.
pub struct Series<'a> {
    pub points: &'a [(f64, f64)],
    pub colour: usize,
    pub width: u32,
    pub label: &'a str,
}

impl<'a> Series<'a> {
    pub fn new(points: &'a [(f64, f64)], colour: usize, width: u32, label: &'a str) -> Self {
        Series {
            points,
            colour,
            width,
            label,
        }
    }
}

/// A vertical line across a panel at `x`, named in the legend (an event such as a lesion).
pub struct Mark<'a> {
    pub x: f64,
    pub label: &'a str,
}

/// One panel: a title, axis labels with units, the x range (the whole run for a time axis),
/// the series (drawn in order, so later ones lie on top) and where the legend goes.
pub struct Panel<'a> {
    pub title: String,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_range: (f64, f64),
    pub series: Vec<Series<'a>>,
    pub marks: Vec<Mark<'a>>,
    pub legend: SeriesLabelPosition,
}

impl Panel<'_> {
    /// The y range the panel draws: the finite values of its series within its x range, with a
    /// 5% margin either side, and room for the legend above (or below) the data. None if there
    /// are no values.
    pub fn y_range(&self) -> Option<(f64, f64)> {
        let (x0, x1) = self.x_range;
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for s in &self.series {
            for &(_, y) in s
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite() && (x0..=x1).contains(x))
            {
                (lo, hi) = (lo.min(y), hi.max(y));
            }
        }
        if lo > hi {
            return None;
        }
        let span = (hi - lo).max(1e-6);
        let legend = if self.has_legend() {
            0.13 * self.legend_entries().len() as f64 * span
        } else {
            0.0
        };
        let (above, below) = match self.legend {
            SeriesLabelPosition::UpperLeft
            | SeriesLabelPosition::UpperMiddle
            | SeriesLabelPosition::UpperRight => (legend, 0.0),
            SeriesLabelPosition::LowerLeft
            | SeriesLabelPosition::LowerMiddle
            | SeriesLabelPosition::LowerRight => (0.0, legend),
            _ => (0.0, 0.0),
        };
        Some((lo - 0.05 * span - below, hi + 0.05 * span + above))
    }

    /// Whether the panel draws a legend: for more than one series or for a mark.
    pub fn has_legend(&self) -> bool {
        self.legend_entries().len() > 1 || !self.marks.is_empty()
    }

    /// The legend entries in order, each label once: (label, colour index, width); marks last,
    /// drawn grey.
    pub fn legend_entries(&self) -> Vec<(&str, usize, u32)> {
        let mut entries: Vec<(&str, usize, u32)> = Vec::new();
        for s in &self.series {
            if !s.label.is_empty() && !entries.iter().any(|e| e.0 == s.label) {
                entries.push((s.label, s.colour, s.width));
            }
        }
        for m in &self.marks {
            entries.push((m.label, GREY, 2));
        }
        entries
    }
}

/// A figure: a title saying what was run, and its panels stacked, `width` x `panel_height`
/// pixels each.
pub struct Figure<'a> {
    pub title: String,
    pub panels: Vec<Panel<'a>>,
    pub width: u32,
    pub panel_height: u32,
}

/// Whether text can be drawn: the DejaVu font comes with the command-line tool's dependencies
/// (feature `cli`, on by default). Without them the plot carries its lines only.
const TEXT: bool = cfg!(feature = "cli");

/// Registers the DejaVu font compiled in, so that no system fonts are needed.
pub fn register_font() {
    #[cfg(feature = "cli")]
    let _ =
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
}

/// Writes `figure` as a PNG.
pub fn draw(path: &Path, figure: &Figure) -> lamina::Result<()> {
    draw_inner(path, figure).map_err(|e| {
        lamina::Error::Simulation(format!("cannot write the plot {}: {e}", path.display()))
    })
}

fn draw_inner(path: &Path, figure: &Figure) -> Result<(), Box<dyn std::error::Error>> {
    register_font();
    let title_h = if TEXT { 40 } else { 0 };
    let height = title_h + figure.panel_height * figure.panels.len() as u32;
    let root = BitMapBackend::new(path, (figure.width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let body = if TEXT {
        root.titled(&figure.title, ("sans-serif", 24))?
    } else {
        root.clone()
    };
    for (area, panel) in body
        .split_evenly((figure.panels.len(), 1))
        .iter()
        .zip(&figure.panels)
    {
        let Some((y0, y1)) = panel.y_range() else {
            continue;
        };
        let (x0, x1) = panel.x_range;
        let mut builder = ChartBuilder::on(area);
        builder.margin(10).margin_right(30);
        if TEXT {
            builder
                .caption(&panel.title, ("sans-serif", 18))
                .x_label_area_size(40)
                .y_label_area_size(70);
        }
        let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
        if TEXT {
            chart
                .configure_mesh()
                .light_line_style(RGBColor(238, 238, 238))
                .x_desc(panel.x_label)
                .y_desc(panel.y_label)
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 15))
                .draw()?;
        }
        for m in &panel.marks {
            chart.draw_series(LineSeries::new(
                [(m.x, y0), (m.x, y1)],
                COLOURS[GREY].stroke_width(2),
            ))?;
        }
        for s in &panel.series {
            chart.draw_series(LineSeries::new(
                s.points.iter().copied(),
                COLOURS[s.colour].stroke_width(s.width),
            ))?;
        }
        if TEXT {
            // The legend: one invisible series per entry carries its label and swatch.
            let entries = panel.legend_entries();
            if panel.has_legend() {
                for (label, colour, width) in entries {
                    let style = COLOURS[colour].stroke_width(width.max(2));
                    chart
                        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                        .label(label)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                }
                chart
                    .configure_series_labels()
                    .position(panel.legend.clone())
                    .label_font(("sans-serif", 13))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .draw()?;
            }
        }
    }
    root.present()?;
    Ok(())
}

/// Time series of column `k` of probe data sampled at `t`.
pub fn column(t: &[f64], data: &ndarray::Array2<f32>, k: usize) -> Vec<(f64, f64)> {
    t.iter()
        .zip(data.column(k))
        .map(|(&t, &y)| (t, y as f64))
        .collect()
}

/// Root mean square error between two equally long sequences.
pub fn rmse(a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (x, y) in a.into_iter().zip(b) {
        sum += (x - y) * (x - y);
        n += 1;
    }
    (sum / n.max(1) as f64).sqrt()
}
