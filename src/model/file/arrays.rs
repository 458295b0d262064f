//! Per-neuron arrays in model files: a parameter, an initial potential or a constant current
//! given one value per neuron of a population, written inline or read from a column of a CSV
//! file or from a `.npy` file (paths relative to the model file).

use super::table::with_one_delimiter;
use super::values::DistSpec;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A value for each neuron as written: one number for all, a list with one per neuron, or a
/// file holding one per neuron: `{ file = "v_th.npy" }` (a 1-D float64 or float32 array) or
/// `{ file = "neurons.csv", column = "v_th" }` (a CSV column, by its header).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a number, a list with one number per neuron, { file = \"values.npy\" } or { file = \"table.csv\", column = \"name\" }"
)]
pub enum NeuronValues {
    /// The same value for every neuron.
    Same(f64),
    /// One value per neuron, in order.
    Each(Vec<f64>),
    /// One value per neuron, from a file.
    File(ArrayFile),
}

/// A file of per-neuron values, relative to the model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrayFile {
    /// A `.npy` file (1-D) or a CSV file (comma or whitespace separated, with a header row).
    pub file: String,
    /// The CSV column, by its header name; not for `.npy` files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

/// Initial potentials as written: a number or a distribution (drawn per neuron), a list with
/// one per neuron, or a file of them (as [`NeuronValues`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a number, { uniform = [low, high] }, { normal = [mean, sd] }, a list with one number per neuron, { file = \"values.npy\" } or { file = \"table.csv\", column = \"name\" }"
)]
pub enum InitialValues {
    /// Drawn per neuron (a constant is a distribution too).
    Dist(DistSpec),
    /// One value per neuron, in order.
    Each(Vec<f64>),
    /// One value per neuron, from a file.
    File(ArrayFile),
}

impl InitialValues {
    /// The distribution, or the per-neuron values as [`NeuronValues`].
    pub(super) fn split(&self) -> Result<DistSpec, NeuronValues> {
        match self {
            InitialValues::Dist(d) => Ok(d.clone()),
            InitialValues::Each(v) => Err(NeuronValues::Each(v.clone())),
            InitialValues::File(f) => Err(NeuronValues::File(f.clone())),
        }
    }
}

impl From<f64> for NeuronValues {
    fn from(x: f64) -> NeuronValues {
        NeuronValues::Same(x)
    }
}

impl NeuronValues {
    /// The one value every neuron shares, if it is written so.
    pub fn same(&self) -> Option<f64> {
        match self {
            NeuronValues::Same(x) => Some(*x),
            _ => None,
        }
    }

    /// One value per neuron for `neurons` neurons (`None` for one value shared by all), read
    /// from a file relative to `dir` where it says so; `what` names the neurons (`the 80
    /// neurons of `exc``). The error says what is wrong: an unreadable file, a missing column,
    /// a cell that is not a number, a value that is not finite, or the wrong length.
    pub(super) fn per_neuron(
        &self,
        dir: &Path,
        neurons: usize,
        what: &str,
    ) -> Result<Option<Vec<f64>>, String> {
        let (values, from) = match self {
            NeuronValues::Same(x) if x.is_finite() => return Ok(None),
            NeuronValues::Same(x) => return Err(format!("{x} is not finite")),
            NeuronValues::Each(values) => (values.clone(), String::new()),
            NeuronValues::File(f) => (f.read(dir)?, format!(" in {}", f.file)),
        };
        if values.len() != neurons {
            return Err(format!(
                "{} values{from} for {what}; give one per neuron",
                values.len()
            ));
        }
        if let Some(k) = values.iter().position(|x| !x.is_finite()) {
            return Err(format!(
                "value {k}{from} is {}; values must be finite",
                values[k]
            ));
        }
        Ok(Some(values))
    }
}

impl ArrayFile {
    /// The file's values, in order.
    fn read(&self, dir: &Path) -> Result<Vec<f64>, String> {
        let path = dir.join(&self.file);
        let is_npy = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        match (is_npy, &self.column) {
            (true, None) => read_npy(&path, &self.file),
            (true, Some(_)) => Err(format!(
                "{} is a .npy file: leave out `column` (it is for CSV files)",
                self.file
            )),
            (false, Some(column)) => read_csv_column(&path, &self.file, column),
            (false, None) => Err(format!(
                "{}: name the CSV column to read, e.g. {{ file = \"{}\", column = \"v_th_mv\" }} \
                 (or give a .npy file)",
                self.file, self.file
            )),
        }
    }
}

/// A 1-D `.npy` array of float64 or float32.
fn read_npy(path: &Path, name: &str) -> Result<Vec<f64>, String> {
    use ndarray_npy::{ReadNpyError, ReadNpyExt};
    let open = || {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| format!("cannot read {name}: {e}"))
    };
    let wrong =
        |e: ReadNpyError| format!("cannot read {name} as a 1-D float64 or float32 array: {e}");
    match ndarray::Array1::<f64>::read_npy(open()?) {
        Ok(a) => Ok(a.to_vec()),
        Err(ReadNpyError::WrongDescriptor(_)) => ndarray::Array1::<f32>::read_npy(open()?)
            .map(|a| a.iter().map(|&x| x as f64).collect())
            .map_err(wrong),
        Err(e) => Err(wrong(e)),
    }
}

/// Column `column` (by header, case-insensitive) of a CSV file with a header row.
fn read_csv_column(path: &Path, name: &str, column: &str) -> Result<Vec<f64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let (text, delimiter) = with_one_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{name}: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let Some(c) = headers.iter().position(|h| h.eq_ignore_ascii_case(column)) else {
        return Err(format!(
            "{name} has no column `{column}` (its columns are {headers:?})"
        ));
    };
    let mut values = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // Row 1 is the header.
        let row = i + 2;
        let record = record.map_err(|e| format!("{name}, row {row}: {e}"))?;
        let cell = record.get(c).unwrap_or("");
        let x = cell.parse::<f64>().map_err(|_| {
            format!("{name}, row {row}: `{cell}` in column `{column}` is not a number")
        })?;
        values.push(x);
    }
    Ok(values)
}
