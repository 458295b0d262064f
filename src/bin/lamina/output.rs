//! What a run leaves behind: the report (printed, or `summary.json`), and with `--out DIR`
//! the recordings as `.npz` (numpy reads them: `np.load("spikes.npz")["excitatory.neurons"]`)
//! and plots as PNG and SVG.

use crate::plots;
use lamina::prelude::*;
use ndarray::{Array1, Array2};
use serde_json::{json, Value};
use std::path::Path;

/// A finished run: its report and what it recorded.
pub struct Finished {
    /// The `--json` object, also `summary.json`.
    pub report: Value,
    /// The human-readable report, one line each.
    pub text: Vec<String>,
    pub recorded: Recorded,
}

impl Finished {
    pub fn print(&self, json: bool) {
        if json {
            println!("{}", self.report);
        } else {
            for line in &self.text {
                println!("{line}");
            }
        }
    }
}

/// Recordings of a run, named as the model names them.
#[derive(Default)]
pub struct Recorded {
    /// What was run, for the plots' titles: the model, its size, seed and duration.
    pub title: String,
    pub dt_s: f64,
    /// Biological time at the end of the run; plots span zero to this.
    pub end_s: f64,
    /// Rates (and the rate plot) leave out spikes before this time.
    pub transient_s: f64,
    pub spikes: Vec<SpikeGroup>,
    pub states: Vec<StateRecord>,
    pub decoded: Vec<DecodedRecord>,
}

/// The spikes of one group of neurons (a population or a slice of one).
pub struct SpikeGroup {
    pub name: String,
    pub size: u32,
    pub trains: SpikeTrains,
}

/// A state probe: sample times and, per variable, samples x neurons.
pub struct StateRecord {
    pub name: String,
    pub times_s: Vec<f64>,
    pub values: Vec<(StateVar, Array2<f32>)>,
}

/// A NEF probe: sample times and samples x dimensions.
pub struct DecodedRecord {
    pub name: String,
    pub times_s: Vec<f64>,
    pub values: Array2<f32>,
}

/// The name of a state variable in files.
pub fn var_name(var: StateVar) -> &'static str {
    match var {
        StateVar::V => "v",
        StateVar::ISynEx => "i_ex",
        StateVar::ISynIn => "i_in",
    }
}

/// Writes `summary.json`, the recordings and the plots into `dir` (created if missing), and
/// adds to the report the list of files written.
pub fn write(dir: &Path, finished: &mut Finished) -> lamina::Result<()> {
    let fail = |what: String| Error::Simulation(format!("--out {}: {what}", dir.display()));
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create the directory: {e}")))?;
    let recorded = &finished.recorded;
    let mut files = Vec::new();
    if !recorded.spikes.is_empty() {
        lamina::io::write_npz(&dir.join("spikes.npz"), |out| {
            for group in &recorded.spikes {
                let t = &group.trains;
                out.add(
                    &format!("{}.steps", group.name),
                    &Array1::from(t.steps.clone()),
                )?;
                out.add(
                    &format!("{}.times_s", group.name),
                    &Array1::from(t.times_s.clone()),
                )?;
                out.add(
                    &format!("{}.neurons", group.name),
                    &Array1::from(t.neurons.clone()),
                )?;
            }
            Ok(())
        })?;
        files.push("spikes.npz".to_string());
        files.extend(plots::raster(dir, recorded)?);
        files.extend(plots::rates(dir, recorded)?);
    }
    if !recorded.states.is_empty() || !recorded.decoded.is_empty() {
        lamina::io::write_npz(&dir.join("probes.npz"), |out| {
            for probe in &recorded.states {
                out.add(
                    &format!("{}.t", probe.name),
                    &Array1::from(probe.times_s.clone()),
                )?;
                for (var, values) in &probe.values {
                    out.add(&format!("{}.{}", probe.name, var_name(*var)), values)?;
                }
            }
            for probe in &recorded.decoded {
                out.add(
                    &format!("{}.t", probe.name),
                    &Array1::from(probe.times_s.clone()),
                )?;
                out.add(&format!("{}.data", probe.name), &probe.values)?;
            }
            Ok(())
        })?;
        files.push("probes.npz".to_string());
        files.extend(plots::traces(dir, recorded)?);
    }
    files.push("summary.json".to_string());
    finished.report["out"] = json!({ "dir": dir.display().to_string(), "files": files });
    let summary = serde_json::to_string_pretty(&finished.report).expect("a JSON value prints");
    std::fs::write(dir.join("summary.json"), summary + "\n")
        .map_err(|e| fail(format!("cannot write summary.json: {e}")))?;
    finished.text.push(format!(
        "  wrote {} into {}",
        files.join(", "),
        dir.display()
    ));
    Ok(())
}
