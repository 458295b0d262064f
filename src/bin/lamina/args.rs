//! The arguments of `lamina run` and the small parsers they share.

use lamina::prelude::*;
use std::path::{Path, PathBuf};

#[derive(Clone, clap::Args)]
pub struct RunArgs {
    /// `cuba` (Vogels-Abbott current-based benchmark), `microcircuit` (Potjans-Diesmann 2014),
    /// `channel` (NEF: Nengo's PES learning example, with Nengo's semantics), or the path of a
    /// model file (`.toml`, see examples/models/).
    pub model: String,
    /// cuba: number of neurons (default 4000). channel: neurons per ensemble (default 1000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub neurons: Option<u32>,
    /// channel: dimensions of the represented vector (default 1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub dims: Option<u32>,
    /// microcircuit and spiking model files: scale of the neuron counts (in-degrees kept); 1 is
    /// the full model.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_scale)]
    pub scale: Option<f64>,
    /// microcircuit: add the thalamic pulse (902 neurons at 120 Hz from 700 ms for 10 ms).
    #[arg(long)]
    pub thalamus: bool,
    /// Biological time to simulate, e.g. `1s`, `250ms`, `0.5` (seconds). Default: 1 s for cuba,
    /// 1.1 s for the microcircuit, 10 s for channel.
    // A leading minus is taken as a value, so that `-1s` is refused as a duration rather than
    // misread as a flag.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_positive_duration)]
    pub duration: Option<f64>,
    /// Initial time left out of the rates. Default: 0 for cuba, 0.1 s for the microcircuit.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_transient)]
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
    #[arg(long, allow_hyphen_values = true, value_parser = parse_positive_duration, requires = "checkpoint")]
    pub checkpoint_every: Option<f64>,
    /// cuba, microcircuit: go on from a checkpoint written by a run of the same model, seed
    /// and scale, up to `--duration` from time zero; the report covers the whole run.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum BackendArg {
    /// A hardware GPU if there is one, else the CPU twin, which outruns software adapters (the output says which ran, and why)
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

/// `--duration` and `--checkpoint-every`: a biological time greater than zero.
pub fn parse_positive_duration(s: &str) -> std::result::Result<f64, String> {
    match signed_duration(s)? {
        x if x > 0.0 => Ok(x),
        _ => Err("must be positive: a biological time such as 1s, 250ms or 0.5 (seconds)".into()),
    }
}

/// `--transient`: a biological time, zero included.
pub fn parse_transient(s: &str) -> std::result::Result<f64, String> {
    match signed_duration(s)? {
        x if x >= 0.0 => Ok(x),
        _ => Err("must be zero or positive: a biological time such as 100ms or 0".into()),
    }
}

/// A duration that may carry a minus sign, so that its callers can say that it must not.
fn signed_duration(s: &str) -> std::result::Result<f64, String> {
    match s.trim().strip_prefix('-') {
        Some(rest) => parse_duration(rest).map(|x| -x),
        None => parse_duration(s),
    }
}

/// `--scale`: a positive, finite number.
pub fn parse_scale(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(
            "must be a positive number, e.g. 0.1 for a tenth of the neurons, 1 for the full model"
                .into(),
        ),
    }
}

/// What `lamina run` runs, as far as which of its flags apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Cuba,
    Microcircuit,
    Channel,
    SpikingFile,
    NefFile,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Cuba => "cuba",
            Target::Microcircuit => "microcircuit",
            Target::Channel => "channel",
            Target::SpikingFile => "a spiking model file",
            Target::NefFile => "a NEF model file",
        }
    }

    /// How this model's size is chosen, for a refused size flag.
    fn sized_by(self) -> &'static str {
        match self {
            Target::Cuba => "cuba's size is set with --neurons",
            Target::Microcircuit => "the microcircuit's size is set with --scale",
            Target::Channel => "channel's size is set with --neurons and --dims",
            Target::SpikingFile => "a spiking model file's size is set with --scale",
            Target::NefFile => "a NEF model file sets its own sizes",
        }
    }
}

const SPIKING: &[Target] = &[Target::Cuba, Target::Microcircuit, Target::SpikingFile];

/// The flags that only some models take: the flag, whether it was given, the models that take
/// it, and whether it sets the model's size.
fn model_flags(args: &RunArgs) -> [(&'static str, bool, &'static [Target], bool); 9] {
    [
        (
            "--neurons",
            args.neurons.is_some(),
            &[Target::Cuba, Target::Channel],
            true,
        ),
        ("--dims", args.dims.is_some(), &[Target::Channel], true),
        (
            "--scale",
            args.scale.is_some(),
            &[Target::Microcircuit, Target::SpikingFile],
            true,
        ),
        ("--thalamus", args.thalamus, &[Target::Microcircuit], false),
        ("--transient", args.transient.is_some(), SPIKING, false),
        ("--check", args.check, SPIKING, false),
        ("--checkpoint", args.checkpoint.is_some(), SPIKING, false),
        (
            "--checkpoint-every",
            args.checkpoint_every.is_some(),
            SPIKING,
            false,
        ),
        ("--resume", args.resume.is_some(), SPIKING, false),
    ]
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl RunArgs {
    /// Refuses a flag that `target` would ignore, saying which models take it: a flag that is
    /// silently ignored makes a run that is not the one asked for.
    pub fn refuse_unused(&self, target: Target) -> std::result::Result<(), String> {
        for (flag, given, takers, sizes) in model_flags(self) {
            if given && !takers.contains(&target) {
                let names: Vec<&str> = takers
                    .iter()
                    .map(|t| match t {
                        Target::SpikingFile => "spiking model files",
                        Target::NefFile => "NEF model files",
                        t => t.name(),
                    })
                    .collect();
                let mut message = format!(
                    "{flag} does not apply to {}: it is for {}",
                    target.name(),
                    list(&names)
                );
                if sizes {
                    message.push_str(&format!(" ({})", target.sized_by()));
                }
                let nef = target == Target::NefFile || target == Target::Channel;
                if nef && matches!(flag, "--checkpoint" | "--checkpoint-every" | "--resume") {
                    message.push_str(
                        "; save a NEF model's state from Rust with Simulator::checkpoint",
                    );
                }
                return Err(message);
            }
        }
        Ok(())
    }
}

/// Fails unless `dir` can be created and written into, so that a run's results are not lost
/// at its end; the directory is left in place.
pub fn check_out_dir(dir: &Path) -> std::result::Result<(), String> {
    let fail = |what: &str, e: std::io::Error| format!("--out {}: {what}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(|e| fail("cannot create the directory", e))?;
    let probe = dir.join(format!(".lamina-write-check-{}", std::process::id()));
    std::fs::File::create(&probe).map_err(|e| fail("cannot write into the directory", e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Fails unless `path` can be written as a file, so that a run does not end without its
/// checkpoint. An existing file is left as it is (it may be the one `--resume` reads).
pub fn check_checkpoint_path(path: &Path) -> std::result::Result<(), String> {
    let fail = |e: std::io::Error| {
        format!(
            "--checkpoint {}: cannot write the file: {e}",
            path.display()
        )
    };
    if path.is_dir() {
        return Err(format!(
            "--checkpoint {}: is a directory; name a file, e.g. {}",
            path.display(),
            path.join("run.npz").display()
        ));
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(fail)?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Peak resident memory of this process so far (Linux), bytes.
pub fn host_peak_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
