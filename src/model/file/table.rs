//! Projection tables in CSV, as computational neuroscientists keep them (seed 004 loads
//! `shimoura1.csv` with pandas): one projection per row.
//!
//! Columns, by header name (case-insensitive; comma or whitespace separated):
//! - `source`, `target`: population names; `SourceType` / `TargetType` columns, when present,
//!   are appended (`L2/3` + `E`), as in seed 004's table;
//! - one of `probability` (fixed probability), `count` (fixed total number) or `Pmax` (PD14's
//!   convention: a fixed total number N = ln(1 - Pmax) / ln(1 - 1 / (n_pre n_post)));
//! - `weight` (pA) and optional `weight_sd` (or `Wstd`): normal weights, not clipped, as the
//!   seed's script draws them;
//! - `delay` (ms) and optional `delay_sd` (or `Dstd`): normal delays set to dt below dt
//!   (the script's `clip(..., 0.1*ms, inf)`).

use super::spiking::{ProjectionSpec, RuleSpec};
use super::values::{DistSpec, DistTable, ValuesSpec};
use super::ModelFile;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// `[[projection_table]]`: a CSV file of projections, relative to the model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// The CSV file, relative to the model file.
    pub file: String,
}

impl TableSpec {
    /// The table's projections with their row numbers (1 is the header).
    pub(super) fn rows(
        &self,
        model: &ModelFile,
        k: usize,
        entry: &toml::Spanned<TableSpec>,
    ) -> Result<Vec<(usize, ProjectionSpec)>> {
        let dir = model.path().parent().unwrap_or(Path::new("."));
        let path = dir.join(&self.file);
        read(&path, model).map_err(|e| {
            let what = match e {
                Error::Validation(m) => m,
                other => other.to_string(),
            };
            model.entry_error("projection_table", k, entry, "file", what)
        })
    }
}

/// The projections of a CSV table, for the populations of `model` (their sizes give `Pmax`
/// its number of synapses), ready to be written into a model file as `[[projection]]`.
pub fn import_csv(path: &Path, model: &ModelFile) -> Result<Vec<ProjectionSpec>> {
    Ok(read(path, model)?.into_iter().map(|(_, p)| p).collect())
}

fn read(path: &Path, model: &ModelFile) -> Result<Vec<(usize, ProjectionSpec)>> {
    let fail = |row: Option<usize>, what: String| {
        let at = match row {
            Some(r) => format!("{}:{r}", path.display()),
            None => path.display().to_string(),
        };
        Error::Validation(format!("{at}: {what}"))
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(None, format!("cannot read the projection table: {e}")))?;
    // Whitespace-separated tables (pandas' `delimiter=' '`) are read as single spaces.
    let header = text.lines().next().unwrap_or("");
    let comma = header.contains(',');
    let text = if comma {
        text
    } else {
        text.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if comma { b',' } else { b' ' })
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| fail(Some(1), e.to_string()))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let column = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let need = |names: &[&str]| {
        column(names).ok_or_else(|| {
            fail(
                Some(1),
                format!("no `{}` column (the header has {headers:?})", names[0]),
            )
        })
    };
    let source = need(&["source"])?;
    let target = need(&["target"])?;
    let source_type = column(&["sourcetype", "source_type"]);
    let target_type = column(&["targettype", "target_type"]);
    let weight = need(&["weight"])?;
    let weight_sd = column(&["weight_sd", "wstd"]);
    let delay = need(&["delay"])?;
    let delay_sd = column(&["delay_sd", "dstd"]);
    let rule = [("probability", 0), ("count", 1), ("pmax", 2)]
        .into_iter()
        .find_map(|(name, kind)| column(&[name]).map(|c| (c, kind)))
        .ok_or_else(|| {
            fail(
                Some(1),
                "no `probability`, `count` or `Pmax` column to say how many synapses".into(),
            )
        })?;
    let sizes: HashMap<&str, u32> = model
        .populations
        .iter()
        .filter_map(|p| Some((p.get_ref().name.as_str(), p.get_ref().size?)))
        .collect();
    let dt = model.network.dt_ms.unwrap_or(0.1);
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| fail(Some(row), e.to_string()))?;
        let text = |c: usize| record.get(c).unwrap_or("").to_string();
        let number = |c: usize| -> Result<f64> {
            let t = text(c);
            t.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    fail(
                        Some(row),
                        format!("column `{}`: `{t}` is not a number", headers[c]),
                    )
                })
        };
        let name = |c: usize, kind: Option<usize>| text(c) + &kind.map(text).unwrap_or_default();
        let (pre, post) = (name(source, source_type), name(target, target_type));
        let value = number(rule.0)?;
        let rule = match rule.1 {
            0 => RuleSpec::FixedProbability(value),
            1 if value >= 0.0 && value.fract() == 0.0 => RuleSpec::FixedTotalNumber(value as u64),
            1 => {
                return Err(fail(
                    Some(row),
                    format!("count `{value}` is not a whole number"),
                ))
            }
            _ => {
                let size = |n: &str| {
                    sizes.get(n).copied().ok_or_else(|| {
                        fail(
                            Some(row),
                            format!("Pmax needs the size of `{n}`, which the model does not have"),
                        )
                    })
                };
                let pairs = size(&pre)? as f64 * size(&post)? as f64;
                if !(0.0..1.0).contains(&value) {
                    return Err(fail(Some(row), format!("Pmax {value} is not in [0, 1)")));
                }
                let n = (-value).ln_1p() / (-1.0 / pairs).ln_1p();
                RuleSpec::FixedTotalNumber(n as u64)
            }
        };
        let normal = |mean: f64, sd: Option<usize>, clamp| -> Result<ValuesSpec> {
            let sd = sd.map(number).transpose()?.unwrap_or(0.0);
            Ok(ValuesSpec::Dist(if sd == 0.0 {
                DistSpec::Const(mean)
            } else {
                DistSpec::Table(DistTable {
                    uniform: None,
                    normal: Some([mean, sd]),
                    clip: None,
                    clamp,
                })
            }))
        };
        out.push((
            row,
            ProjectionSpec {
                source: pre,
                target: post,
                rule,
                weight: normal(number(weight)?, weight_sd, None)?,
                delay: normal(number(delay)?, delay_sd, Some([dt, f64::INFINITY]))?,
            },
        ));
    }
    Ok(out)
}
