//! Model files: a network described in TOML, for users who do not write Rust.
//!
//! A file names its kind (`spiking`, the default, or `nef`), the run (duration, transient) and
//! the objects, as arrays of tables: `[[population]]`, `[[projection]]`,
//! `[[projection_table]]` (CSV), `[[poisson]]`, `[[current]]`, `[[probe]]` for spiking
//! networks; `[[ensemble]]`, `[[node]]`, `[[connection]]`, `[[pes]]`, `[[probe]]` for NEF
//! networks. `examples/models/` has one file per built-in model; README's "Model files"
//! section is the reference. Every error names the file, the line and column, and the key:
//! `cuba.toml:14:1: projection[2].weight: ...`.
//!
//! ```no_run
//! use lamina::model::file::{Model, ModelFile};
//! use lamina::prelude::*;
//!
//! let file = ModelFile::from_path("examples/models/cuba.toml".as_ref())?;
//! let Model::Spiking(model) = file.build()? else { unreachable!() };
//! let mut sim = Simulator::new(&model.network, BackendChoice::Auto)?;
//! sim.run(model.run.duration_s)?;
//! # Ok::<(), lamina::Error>(())
//! ```

mod arrays;
mod nef;
mod spiking;
mod table;
mod values;

pub use arrays::{ArrayFile, InitialValues, NeuronValues};
pub use nef::{
    ConnectionSpec, EnsembleSpec, NamedNefProbe, NefModel, NodeSpec, Output, PesSpec, TransformSpec,
};
pub use spiking::{
    CurrentSpec, NamedSpikeProbe, NamedStateProbe, PoissonSpec, PopulationSpec, ProjectionSpec,
    RuleSpec, SpikingModel, StdpSpec, SynapseCount,
};
pub use table::{import_csv, TableSpec};
pub use values::{parse_duration, DistSpec, DistTable, Duration, ValuesSpec};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A parsed model file: the description, not yet built (see [`ModelFile::build`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    #[serde(default)]
    /// The `[network]` table.
    pub network: NetworkSection,
    #[serde(default)]
    /// The `[run]` table.
    pub run: RunSection,
    #[serde(default, rename = "population", skip_serializing_if = "Vec::is_empty")]
    /// `[[population]]` entries.
    pub populations: Vec<Spanned<spiking::PopulationSpec>>,
    #[serde(default, rename = "projection", skip_serializing_if = "Vec::is_empty")]
    /// `[[projection]]` entries.
    pub projections: Vec<Spanned<spiking::ProjectionSpec>>,
    #[serde(
        default,
        rename = "projection_table",
        skip_serializing_if = "Vec::is_empty"
    )]
    /// `[[projection_table]]` entries (CSV files).
    pub projection_tables: Vec<Spanned<table::TableSpec>>,
    #[serde(default, rename = "poisson", skip_serializing_if = "Vec::is_empty")]
    /// `[[poisson]]` entries.
    pub poisson: Vec<Spanned<spiking::PoissonSpec>>,
    #[serde(default, rename = "current", skip_serializing_if = "Vec::is_empty")]
    /// `[[current]]` entries.
    pub currents: Vec<Spanned<spiking::CurrentSpec>>,
    #[serde(default, rename = "ensemble", skip_serializing_if = "Vec::is_empty")]
    /// `[[ensemble]]` entries (NEF).
    pub ensembles: Vec<Spanned<nef::EnsembleSpec>>,
    #[serde(default, rename = "node", skip_serializing_if = "Vec::is_empty")]
    /// `[[node]]` entries (NEF).
    pub nodes: Vec<Spanned<nef::NodeSpec>>,
    #[serde(default, rename = "connection", skip_serializing_if = "Vec::is_empty")]
    /// `[[connection]]` entries (NEF).
    pub connections: Vec<Spanned<nef::ConnectionSpec>>,
    #[serde(default, rename = "pes", skip_serializing_if = "Vec::is_empty")]
    /// `[[pes]]` entries (NEF).
    pub pes: Vec<Spanned<nef::PesSpec>>,
    #[serde(default, rename = "probe", skip_serializing_if = "Vec::is_empty")]
    /// `[[probe]]` entries.
    pub probes: Vec<Spanned<ProbeSpec>>,
    /// Where the file came from and its text: for messages (line and column) and for paths
    /// relative to the file.
    #[serde(skip)]
    source: Source,
}

/// `[network]`: what kind of network, its seed, step and scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    /// `spiking` (LIF populations and projections) or `nef` (ensembles, nodes, connections).
    #[serde(default = "spiking_kind")]
    pub kind: String,
    #[serde(default = "one")]
    /// Seed of every random draw.
    pub seed: u64,
    /// Time step in ms; default 0.1 for spiking networks, 1 for NEF networks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt_ms: Option<f64>,
    /// Multiplies population sizes and fixed total numbers of synapses (in-degrees are kept),
    /// as `lamina run microcircuit --scale`. Spiking networks only.
    #[serde(default = "one_f64")]
    pub scale: f64,
}

impl Default for NetworkSection {
    fn default() -> Self {
        NetworkSection {
            kind: spiking_kind(),
            seed: 1,
            dt_ms: None,
            scale: 1.0,
        }
    }
}

fn spiking_kind() -> String {
    "spiking".into()
}
fn one() -> u64 {
    1
}
fn one_f64() -> f64 {
    1.0
}

/// `[run]`: how long to run, and the initial time left out of rates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// `"1s"`, `"250ms"` or a number of seconds.
    #[serde(default = "one_second")]
    pub duration: values::Duration,
    #[serde(default)]
    /// Initial time left out of the rates.
    pub transient: values::Duration,
    /// Reference rates (Hz) per spike probe, in probe order, to compare with (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_rates: Option<ReferenceRates>,
}

impl Default for RunSection {
    fn default() -> Self {
        RunSection {
            duration: one_second(),
            transient: values::Duration::default(),
            reference_rates: None,
        }
    }
}

fn one_second() -> values::Duration {
    values::Duration::Text("1s".into())
}

/// Rates to compare a run with: where they come from, and one per spike probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceRates {
    /// The name it is known by in the file (and in the recordings).
    pub name: String,
    /// One rate (Hz) per spike probe, in probe order.
    pub rates_hz: Vec<f64>,
}

/// `[[probe]]`: what to record. Spiking: `kind = "spikes"` or `"state"` (v, i_ex and i_in
/// every `sample_every_ms`) of a population or slice (`"exc[0:100]"`). NEF: `kind =
/// "decoded"` (default) of an ensemble, node or `ens.neurons`, with an optional lowpass
/// `synapse` (seconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// What it applies to: a population or ensemble name, or a slice such as `"exc[0:100]"`.
    pub target: String,
    /// The name the recordings get; default: the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `spikes` (default) or `state` for spiking networks; `decoded` (default) for NEF ones.
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// State probes: sampling interval, ms (default: every step).
    pub sample_every_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Lowpass time constant, seconds; 0 for none.
    pub synapse: Option<f64>,
}

/// A built model file: a network ready for a simulator, with its named probes and run.
pub enum Model {
    /// A spiking network.
    Spiking(SpikingModel),
    /// A NEF network.
    Nef(NefModel),
}

/// How long to run a model, and what to compare it with.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Biological time to simulate, seconds.
    pub duration_s: f64,
    /// Initial time left out of the rates, seconds.
    pub transient_s: f64,
    /// Where reference rates come from, and one per spike probe.
    pub reference_rates: Option<(String, Vec<f64>)>,
}

/// The file's path and text, kept to turn byte offsets into lines and columns.
#[derive(Clone, Debug, Default)]
struct Source {
    path: PathBuf,
    text: String,
    /// Byte offset of each line's start, made on first use: counting newlines from the start
    /// for every message would make a file of many entries quadratic to check.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

/// Where a model came from is not part of the model: two files that describe the same
/// network are equal (a file written by `to_toml` equals the one it came from).
impl PartialEq for Source {
    fn eq(&self, _: &Source) -> bool {
        true
    }
}

impl Source {
    fn new(path: &Path, text: &str) -> Source {
        Source {
            path: path.to_path_buf(),
            text: text.to_string(),
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// `path:line:column` of byte `offset`.
    fn at(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let start = starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |l| l.chars().count())
            + 1;
        format!("{}:{line}:{column}", self.path.display())
    }

    /// `path:line:column` of the key `table.key` (`run.duration`): its own line when the file
    /// writes it, else the table's header, else the start of the file (a default).
    fn key(&self, dotted: &str) -> String {
        let (table, key) = dotted.split_once('.').unwrap_or(("", dotted));
        let mut in_table = table.is_empty();
        let mut header = None;
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                in_table = trimmed == format!("[{table}]");
                if in_table {
                    header = Some(offset);
                }
            } else if in_table || trimmed.starts_with(&format!("{table}.")) {
                let written = if in_table {
                    trimmed
                } else {
                    &trimmed[table.len() + 1..]
                };
                if written
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
                {
                    return self.at(offset + (line.len() - line.trim_start().len()));
                }
            }
            offset += line.len();
        }
        self.at(header.unwrap_or(0))
    }

    /// `path:line:column` of the first `[[array]]` header.
    fn array(&self, array: &str) -> String {
        let header = format!("[[{array}]]");
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            if line.trim() == header {
                return self.at(offset);
            }
            offset += line.len();
        }
        self.at(0)
    }

    /// The key of the `key = value` line holding byte `offset`, if it is one.
    fn key_at(&self, offset: usize) -> Option<&str> {
        let start = self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next()?;
        let (key, _) = line.split_once('=')?;
        let key = key.trim();
        (!key.is_empty() && !key.starts_with('[') && !key.starts_with('#')).then_some(key)
    }
}

impl ModelFile {
    /// Reads and parses a model file.
    pub fn from_path(path: &Path) -> Result<ModelFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Validation(format!(
                "cannot read the model file {}: {e}",
                path.display()
            ))
        })?;
        ModelFile::parse(&text, path)
    }

    /// Parses the text of a model file; `origin` names it in messages and anchors the paths it
    /// holds (CSV tables).
    pub fn parse(text: &str, origin: &Path) -> Result<ModelFile> {
        let source = Source::new(origin, text);
        let mut file: ModelFile = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end();
            match e.span() {
                Some(span) => match source.key_at(span.start) {
                    Some(key) => {
                        Error::Validation(format!("{}: {key}: {message}", source.at(span.start)))
                    }
                    None => Error::Validation(format!("{}: {message}", source.at(span.start))),
                },
                None => Error::Validation(format!("{}: {message}", origin.display())),
            }
        })?;
        file.source = source;
        let kind = file.network.kind.as_str();
        if kind != "spiking" && kind != "nef" {
            return Err(Error::Validation(format!(
                "{}: network.kind: `{kind}` is not a kind of network; use \"spiking\" or \"nef\"",
                file.source.key("network.kind")
            )));
        }
        Ok(file)
    }

    /// The file as TOML text, which parses back to an equal `ModelFile`.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self)
            .map_err(|e| Error::Validation(format!("cannot write the model as TOML: {e}")))
    }

    /// The same model at another scale (see [`NetworkSection::scale`]).
    pub fn with_scale(mut self, scale: f64) -> ModelFile {
        self.network.scale = scale;
        self
    }

    /// The same model with another seed.
    pub fn with_seed(mut self, seed: u64) -> ModelFile {
        self.network.seed = seed;
        self
    }

    /// The file this model came from.
    pub fn path(&self) -> &Path {
        &self.source.path
    }

    /// Builds the network the file describes, checking everything; errors name the line and key.
    /// Every problem found is in the error, one per line (see [`ModelFile::check`]).
    pub fn build(&self) -> Result<Model> {
        self.check().map_err(|problems| {
            let mut lines = problems.into_iter().map(|e| match e {
                Error::Validation(m) | Error::Build(m) => m,
                other => other.to_string(),
            });
            Error::Validation(
                lines.next().unwrap_or_default()
                    + &lines.fold(String::new(), |all, m| all + "\n" + &m),
            )
        })
    }

    /// Builds the network the file describes, going on past each problem to report every one,
    /// each naming its line and key. Synapses are described, not drawn: building a model
    /// costs time in its number of entries, not of synapses. `lamina check` and `lamina run`
    /// both come through here, so they accept and refuse the same files.
    pub fn check(&self) -> std::result::Result<Model, Vec<Error>> {
        let mut problems = Vec::new();
        let seconds = |d: &values::Duration, key: &str, problems: &mut Vec<Error>| {
            d.seconds(&self.source, key)
                .map_err(|e| problems.push(e))
                .unwrap_or(0.0)
        };
        let run = RunSpec {
            duration_s: seconds(&self.run.duration, "run.duration", &mut problems),
            transient_s: seconds(&self.run.transient, "run.transient", &mut problems),
            reference_rates: self
                .run
                .reference_rates
                .as_ref()
                .map(|r| (r.name.clone(), r.rates_hz.clone())),
        };
        let model = if self.network.kind == "nef" {
            nef::build(self, run, &mut problems).map(Model::Nef)
        } else {
            spiking::build(self, run, &mut problems).map(Model::Spiking)
        };
        match model {
            Some(model) if problems.is_empty() => Ok(model),
            _ => Err(problems),
        }
    }

    /// An error about entry `index` of the array `array` (its line), at `key`.
    fn entry_error<T>(
        &self,
        array: &str,
        index: usize,
        entry: &Spanned<T>,
        key: &str,
        what: impl std::fmt::Display,
    ) -> Error {
        // Point at the key's own line when the entry writes it out, else at the entry. The
        // entry's span covers its header; its keys follow, up to the next header.
        let start = entry.span().start;
        let body = &self.source.text[start..];
        let end = start + body.find("\n[").unwrap_or(body.len());
        let offset = self.source.text[start..end]
            .match_indices('\n')
            .map(|(i, _)| start + i + 1)
            .find(|&at| {
                let line = self.source.text[at..].trim_start();
                !key.is_empty()
                    && line.starts_with(key)
                    && line[key.len()..].trim_start().starts_with('=')
            })
            .unwrap_or(start);
        let key = if key.is_empty() {
            format!("{array}[{index}]")
        } else {
            format!("{array}[{index}].{key}")
        };
        Error::Validation(format!("{}: {key}: {what}", self.source.at(offset)))
    }

    /// Refuses entries that belong to the other kind of network, one problem per array.
    fn refuse_foreign(&self, arrays: &[(&str, usize)], problems: &mut Vec<Error>) {
        for (name, _) in arrays.iter().filter(|(_, n)| *n > 0) {
            problems.push(Error::Validation(format!(
                "{}: [[{name}]] does not belong in a {} network (network.kind)",
                self.source.array(name),
                self.network.kind
            )));
        }
    }
}

/// A builder's error, restated at the entry that caused it.
fn at_entry<'a, T>(
    file: &'a ModelFile,
    array: &'a str,
    index: usize,
    entry: &'a Spanned<T>,
) -> impl FnOnce(Error) -> Error + 'a {
    // The line is found only for an error: finding it for every entry built would cost a
    // pass over the file per entry.
    move |e| {
        let at = file.source.at(entry.span().start);
        let what = match e {
            Error::Validation(m) | Error::Build(m) => m,
            other => other.to_string(),
        };
        Error::Validation(format!("{at}: {array}[{index}]: {what}"))
    }
}
