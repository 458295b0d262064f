//! The command-line tool: run built-in models and model files, write their results, list
//! adapters. Each subcommand lives in its own module; `spiking` and `nef` run a model and
//! return its report and recordings, `output` writes them to `--out`.

mod args;
mod bench;
mod model_file;
mod nef;
mod output;
mod plots;
mod progress;
mod spiking;

use args::RunArgs;
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { files } => model_file::check(&files),
        Command::Import { table, model } => model_file::import(&table, &model),
        Command::Bench(args) => bench::run(&args),
        Command::Adapters => list_adapters(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Builds and runs the model `args` names; the report and recordings. `lamina run` and
/// `lamina bench` both come through here.
pub fn execute(args: &RunArgs) -> lamina::Result<output::Finished> {
    match args.model.as_str() {
        "channel" => nef::run_channel(args),
        "cuba" | "microcircuit" => spiking::run_builtin(args),
        other if model_file::is_model_file(other) => model_file::run(args),
        _ => spiking::run_builtin(args),
    }
}

/// `lamina run`: runs the model, prints its report, writes `--out` if asked.
fn run(args: &RunArgs) -> lamina::Result<()> {
    let mut finished = execute(args)?;
    if let Some(dir) = &args.out {
        output::write(dir, &mut finished)?;
    }
    finished.print(args.json);
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
