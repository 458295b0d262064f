//! Shared by the examples: a PNG line plot and the final JSON line.
#![allow(dead_code)]

use plotters::prelude::*;
use std::path::Path;

/// One line of a plot: its points and colour index.
pub struct Series<'a> {
    pub points: &'a [(f64, f64)],
    pub colour: usize,
}

/// Writes a PNG of stacked panels of line series, `width` x `height` pixels per panel. The
/// plots carry no text (no fonts are needed): the example's JSON line has the figures, and
/// each example's comment says what every panel and colour show.
pub fn panels(path: &Path, panels: &[Vec<Series>], width: u32, height: u32) -> lamina::Result<()> {
    let fail = |e: &dyn std::fmt::Display| {
        lamina::Error::Simulation(format!("cannot write the plot {}: {e}", path.display()))
    };
    let root = BitMapBackend::new(path, (width, height * panels.len() as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    for (area, series) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for s in series {
            for &(x, y) in s
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
            {
                (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
            }
        }
        if x0 >= x1 || y0 > y1 {
            continue;
        }
        let pad = ((y1 - y0) * 0.05).max(1e-6);
        let mut chart = ChartBuilder::on(area)
            .margin(8)
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
            .map_err(|e| fail(&e))?;
        for s in series {
            let colour = Palette99::pick(s.colour).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| fail(&e))?;
        }
    }
    root.present().map_err(|e| fail(&e))
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
