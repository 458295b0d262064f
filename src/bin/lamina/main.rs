//! The command-line tool: run built-in models and model files, write their results, list
//! adapters. Each subcommand lives in its own module; `spiking` and `nef` run a model and
//! return its report and recordings, `output` writes them to `--out`.

mod args;
mod bench;
mod model_file;
mod nef;
mod output;
mod plots;
mod processes;
mod progress;
mod spiking;
mod words;

use args::{RunArgs, Target};
use clap::{Parser, Subcommand};
use lamina::exec::gpu;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lamina",
    version,
    about = "A GPU spiking neural network engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a built-in model or a model file and report its figures.
    Run(RunArgs),
    /// Check model files: parse and build each network (no simulation), or say what is wrong
    /// with the file, line and key.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the projections of a CSV table as `[[projection]]` entries of a model file.
    Import {
        /// The table: columns source, target, probability, count or Pmax, weight [, weight_sd],
        /// delay [, delay_sd] (comma or whitespace separated).
        table: PathBuf,
        /// The model file whose populations the table connects.
        #[arg(long)]
        model: PathBuf,
    },
    /// Run models several times and report medians and spreads (and ratios to a peer).
    Bench(bench::BenchArgs),
    /// List the GPU adapters lamina can use, best first.
    Adapters,
}

/// Why a command failed: its arguments, found before anything was built or run, or the run.
enum Failure {
    Usage(String),
    Run(lamina::Error),
}

impl From<lamina::Error> for Failure {
    fn from(e: lamina::Error) -> Self {
        Failure::Run(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { files } => model_file::check(&files).map_err(Failure::from),
        Command::Import { table, model } => {
            model_file::import(&table, &model).map_err(Failure::from)
        }
        Command::Bench(args) => processes::refuse("lamina bench")
            .and_then(|_| bench::run(&args))
            .map_err(Failure::from),
        Command::Adapters => list_adapters().map_err(Failure::from),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Exit status 2, as clap gives for arguments it refuses itself.
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What `args` runs; an unknown model, or a model file that cannot be read, fails here.
fn target(args: &RunArgs) -> Result<Target, Failure> {
    match args.model.as_str() {
        "cuba" => Ok(Target::Cuba),
        "microcircuit" => Ok(Target::Microcircuit),
        "channel" => Ok(Target::Channel),
        other if model_file::is_model_file(other) => Ok(model_file::target(args)?),
        other => Err(Failure::Usage(format!(
            "no built-in model `{other}`: use cuba, microcircuit or channel, or the path of a model file (.toml)"
        ))),
    }
}

/// Checks what can be checked before building: that every flag applies to the model, and
/// that `--out` and `--checkpoint` can be written (a run that cannot save its results would
/// otherwise be lost at its end).
fn check_args(args: &RunArgs) -> Result<(), Failure> {
    let target = target(args)?;
    args.refuse_unused(target).map_err(Failure::Usage)?;
    if let Some(dir) = &args.out {
        args::check_out_dir(dir).map_err(Failure::Usage)?;
    }
    if let Some(path) = &args.checkpoint {
        args::check_checkpoint_path(path).map_err(Failure::Usage)?;
    }
    Ok(())
}

/// Builds and runs the model `args` names; the report and recordings. `lamina run` and
/// `lamina bench` both come through here.
pub fn execute(args: &RunArgs) -> lamina::Result<output::Finished> {
    match args.model.as_str() {
        "channel" => {
            processes::refuse(
                "the channel model, a NEF network: NEF ensembles with decoded connections",
            )?;
            nef::run_channel(args)
        }
        "cuba" | "microcircuit" => spiking::run_builtin(args),
        other if model_file::is_model_file(other) => model_file::run(args),
        _ => spiking::run_builtin(args),
    }
}

/// `lamina run`: checks its arguments, runs the model, prints its report, writes `--out` if
/// asked.
fn run(args: &RunArgs) -> Result<(), Failure> {
    check_args(args)?;
    // Under mpirun every process runs the network and gathers every probe; the first prints
    // and writes for all, the others stay quiet.
    let first = processes::rank_and_size().0 == 0;
    let quiet = RunArgs {
        quiet: args.quiet || !first,
        ..args.clone()
    };
    let mut finished = execute(&quiet)?;
    if first {
        if let Some(dir) = &args.out {
            output::write(dir, &mut finished)?;
        }
        finished.print(args.json);
    }
    Ok(())
}

fn list_adapters() -> lamina::Result<()> {
    let found = gpu::adapters(None)?;
    if found.is_empty() {
        println!(
            "no usable adapter; install a driver (e.g. mesa-vulkan-drivers) or use --backend cpu"
        );
    }
    for (i, a) in found.iter().enumerate() {
        println!("{i}: {a}");
    }
    Ok(())
}
