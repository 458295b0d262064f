//! The arguments of `lamina run` and the small parsers they share.

use lamina::prelude::*;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct RunArgs {
    /// `cuba` (Vogels-Abbott current-based benchmark), `microcircuit` (Potjans-Diesmann 2014),
    /// `channel` (NEF: Nengo's PES learning example, with Nengo's semantics), or the path of a
    /// model file (`.toml`, see examples/models/).
    pub model: String,
    /// cuba: number of neurons (default 4000). channel: neurons per ensemble (default 1000).
    #[arg(long)]
    pub neurons: Option<u32>,
    /// channel: dimensions of the represented vector.
    #[arg(long, default_value_t = 1)]
    pub dims: usize,
    /// microcircuit and spiking model files: scale of the neuron counts (in-degrees kept); 1 is
    /// the full model.
    #[arg(long)]
    pub scale: Option<f64>,
    /// microcircuit: add the thalamic pulse (902 neurons at 120 Hz from 700 ms for 10 ms).
    #[arg(long)]
    pub thalamus: bool,
    /// Biological time to simulate, e.g. `1s`, `250ms`, `0.5` (seconds). Default: 1 s for cuba,
    /// 1.1 s for the microcircuit, 10 s for channel.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<f64>,
    /// Initial time left out of the rates. Default: 0 for cuba, 0.1 s for the microcircuit.
    #[arg(long, value_parser = parse_duration)]
    pub transient: Option<f64>,
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Seed of every random draw (default 1, or the model file's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the results into this directory: spikes and probes as .npz, plots (PNG and SVG)
    /// and summary.json (the `--json` object).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bars (they are also off when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
    /// cuba, microcircuit: check every voltage and current for NaN and infinity, and every
    /// step's input for the fixed-point range, stopping with the first population, neuron and
    /// step that fails (always on in debug builds).
    #[arg(long)]
    pub check: bool,
    /// cuba, microcircuit: write the run's whole state to this file (.npz) every
    /// `--checkpoint-every` of biological time and at the end; `--resume FILE` goes on from it.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Biological time between checkpoints, e.g. `100ms` (needs `--checkpoint`).
    #[arg(long, value_parser = parse_duration, requires = "checkpoint")]
    pub checkpoint_every: Option<f64>,
    /// cuba, microcircuit: go on from a checkpoint written by a run of the same model, seed
    /// and scale, up to `--duration` from time zero; the report covers the whole run.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum BackendArg {
    /// The GPU if an adapter is found, else the CPU twin (the output says which ran).
    Auto,
    /// A GPU adapter (`LAMINA_BACKEND`, `LAMINA_ADAPTER` choose which).
    Gpu,
    /// The CPU reference twin.
    Cpu,
}

impl RunArgs {
    /// The seed asked for, or 1.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(1)
    }
}

impl BackendArg {
    pub fn choice(self) -> BackendChoice {
        match self {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Gpu => BackendChoice::gpu(),
            BackendArg::Cpu => BackendChoice::Cpu,
        }
    }
}

pub use lamina::model::file::parse_duration;

/// Peak resident memory of this process so far (Linux), bytes.
pub fn host_peak_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
