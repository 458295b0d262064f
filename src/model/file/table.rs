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
    /// The table's projections with their row numbers (1 is the header), or the problem of
    /// every bad row.
    pub(super) fn rows(
        &self,
        model: &ModelFile,
        k: usize,
        entry: &toml::Spanned<TableSpec>,
    ) -> std::result::Result<Vec<(usize, ProjectionSpec)>, Vec<Error>> {
        let dir = model.path().parent().unwrap_or(Path::new("."));
        let path = dir.join(&self.file);
        read_all(&path, model).map_err(|problems| {
            problems
                .into_iter()
                .map(|e| {
                    let what = match e {
                        Error::Validation(m) => m,
                        other => other.to_string(),
                    };
                    model.entry_error("projection_table", k, entry, "file", what)
                })
                .collect()
        })
    }
}

/// The projections of a CSV table, for the populations of `model` (their sizes give `Pmax`
/// its number of synapses), ready to be written into a model file as `[[projection]]`.
pub fn import_csv(path: &Path, model: &ModelFile) -> Result<Vec<ProjectionSpec>> {
    match read_all(path, model) {
        Ok(rows) => Ok(rows.into_iter().map(|(_, p)| p).collect()),
        Err(problems) => Err(problems
            .into_iter()
            .next()
            .unwrap_or_else(|| table_error(path, None, "cannot read the table".into()))),
    }
}

/// The table's rows, or the problem of every bad row (or the one that stops the reading).
fn read_all(
    path: &Path,
    model: &ModelFile,
) -> std::result::Result<Vec<(usize, ProjectionSpec)>, Vec<Error>> {
    let fail = |row: Option<usize>, what: String| vec![table_error(path, row, what)];
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(None, format!("cannot read the projection table: {e}")))?;
    let (text, delimiter) = with_one_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| fail(Some(1), e.to_string()))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let columns = Columns::find(&headers, path).map_err(|e| vec![e])?;
    let sizes: HashMap<&str, u32> = model
        .populations
        .iter()
        .filter_map(|p| Some((p.get_ref().name.as_str(), p.get_ref().size?)))
        .collect();
    let dt = model.network.dt_ms.unwrap_or(0.1);
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.extend(fail(Some(row), e.to_string()));
                continue;
            }
        };
        let cells = Cells {
            record: &record,
            headers: &headers,
            path,
            row,
        };
        match projection(&cells, &columns, &sizes, dt) {
            Ok(p) => out.push((row, p)),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// An error at `row` of the table (1 is the header), or about the whole file.
fn table_error(path: &Path, row: Option<usize>, what: String) -> Error {
    let at = match row {
        Some(r) => format!("{}:{r}", path.display()),
        None => path.display().to_string(),
    };
    Error::Validation(format!("{at}: {what}"))
}

/// The table's text and its delimiter. Whitespace-separated tables (pandas'
/// `delimiter=' '`) are read as single spaces.
pub(super) fn with_one_delimiter(text: String) -> (String, u8) {
    let header = text.lines().next().unwrap_or("");
    if header.contains(',') {
        return (text, b',');
    }
    let text = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    (text, b' ')
}

/// How a row says how many synapses its projection has.
#[derive(Clone, Copy)]
enum Amount {
    Probability,
    Count,
    Pmax,
}

/// Where each column is.
struct Columns {
    source: usize,
    target: usize,
    source_type: Option<usize>,
    target_type: Option<usize>,
    weight: usize,
    weight_sd: Option<usize>,
    delay: usize,
    delay_sd: Option<usize>,
    /// Every column that says how many synapses, in the header's order; a row fills one.
    amounts: Vec<(usize, Amount)>,
}

impl Columns {
    fn find(headers: &[String], path: &Path) -> Result<Columns> {
        let column = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
        let need = |names: &[&str]| {
            column(names).ok_or_else(|| {
                table_error(
                    path,
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
        let mut amounts: Vec<(usize, Amount)> = [
            ("probability", Amount::Probability),
            ("count", Amount::Count),
            ("pmax", Amount::Pmax),
        ]
        .into_iter()
        .filter_map(|(name, kind)| column(&[name]).map(|c| (c, kind)))
        .collect();
        amounts.sort_by_key(|&(c, _)| c);
        if amounts.is_empty() {
            return Err(table_error(
                path,
                Some(1),
                "no `probability`, `count` or `Pmax` column to say how many synapses".into(),
            ));
        }
        Ok(Columns {
            source,
            target,
            source_type,
            target_type,
            weight,
            weight_sd,
            delay,
            delay_sd,
            amounts,
        })
    }
}

/// One row's cells, read as text or numbers.
struct Cells<'a> {
    record: &'a csv::StringRecord,
    headers: &'a [String],
    path: &'a Path,
    row: usize,
}

impl Cells<'_> {
    fn fail(&self, what: String) -> Error {
        table_error(self.path, Some(self.row), what)
    }

    fn text(&self, c: usize) -> String {
        self.record.get(c).unwrap_or("").to_string()
    }

    fn number(&self, c: usize) -> Result<f64> {
        let t = self.text(c);
        t.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| {
                self.fail(format!(
                    "column `{}`: `{t}` is not a number",
                    self.headers[c]
                ))
            })
    }

    /// A population name, with its type column appended when there is one.
    fn name(&self, c: usize, kind: Option<usize>) -> String {
        self.text(c) + &kind.map(|k| self.text(k)).unwrap_or_default()
    }

    /// Normal values of `mean` and the SD in column `sd` (none when 0 or absent).
    fn normal(&self, mean: f64, sd: Option<usize>, clamp: Option<[f64; 2]>) -> Result<ValuesSpec> {
        let sd = sd.map(|c| self.number(c)).transpose()?.unwrap_or(0.0);
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
    }
}

/// The projection one row describes.
fn projection(
    cells: &Cells,
    columns: &Columns,
    sizes: &HashMap<&str, u32>,
    dt: f64,
) -> Result<ProjectionSpec> {
    let pre = cells.name(columns.source, columns.source_type);
    let post = cells.name(columns.target, columns.target_type);
    let (column, amount) = amount(cells, columns)?;
    let value = cells.number(column)?;
    let rule = rule(cells, amount, value, sizes, &pre, &post)?;
    Ok(ProjectionSpec {
        source: pre,
        target: post,
        rule,
        weight: cells.normal(cells.number(columns.weight)?, columns.weight_sd, None)?,
        delay: cells.normal(
            cells.number(columns.delay)?,
            columns.delay_sd,
            Some([dt, f64::INFINITY]),
        )?,
        stdp: None,
    })
}

/// The one column of the row that says how many synapses. A row that fills two is refused:
/// which one was meant cannot be told, and a probability and a count give different networks.
fn amount(cells: &Cells, columns: &Columns) -> Result<(usize, Amount)> {
    let filled: Vec<(usize, Amount)> = columns
        .amounts
        .iter()
        .copied()
        .filter(|&(c, _)| !cells.text(c).is_empty())
        .collect();
    match filled.as_slice() {
        [one] => Ok(*one),
        [] if columns.amounts.len() == 1 => Ok(columns.amounts[0]),
        [] => Err(cells.fail(format!(
            "no value in any of the columns {}: give one, to say how many synapses",
            names_of(cells, &columns.amounts)
        ))),
        [..] => {
            let each = if filled.len() == 2 { "both" } else { "each of" };
            let given = filled
                .iter()
                .map(|&(c, _)| format!("`{}` ({})", cells.headers[c], cells.text(c)))
                .collect::<Vec<_>>()
                .join(" and ");
            Err(cells.fail(format!(
                "the row gives {each} {given}: give one of them (a probability, or a number of synapses) and leave the other cell empty"
            )))
        }
    }
}

fn names_of(cells: &Cells, columns: &[(usize, Amount)]) -> String {
    columns
        .iter()
        .map(|&(c, _)| format!("`{}`", cells.headers[c]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rule(
    cells: &Cells,
    amount: Amount,
    value: f64,
    sizes: &HashMap<&str, u32>,
    pre: &str,
    post: &str,
) -> Result<RuleSpec> {
    Ok(match amount {
        Amount::Probability => RuleSpec::FixedProbability(value),
        Amount::Count if value >= 0.0 && value.fract() == 0.0 => {
            RuleSpec::FixedTotalNumber(value as u64)
        }
        Amount::Count => {
            return Err(cells.fail(format!("count `{value}` is not a whole number")));
        }
        Amount::Pmax => {
            let size = |n: &str| {
                sizes.get(n).copied().ok_or_else(|| {
                    cells.fail(format!(
                        "Pmax needs the size of `{n}`, which the model does not have"
                    ))
                })
            };
            let pairs = size(pre)? as f64 * size(post)? as f64;
            if !(0.0..1.0).contains(&value) {
                return Err(cells.fail(format!("Pmax {value} is not in [0, 1)")));
            }
            let n = (-value).ln_1p() / (-1.0 / pairs).ln_1p();
            RuleSpec::FixedTotalNumber(n as u64)
        }
    })
}
