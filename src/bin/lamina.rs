//! The command-line tool: run built-in models and list adapters.

use clap::{Parser, Subcommand, ValueEnum};
use lamina::backend::gpu;
use lamina::builtin::cuba;
use lamina::prelude::*;
use std::process::ExitCode;
use std::time::Instant;

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
    /// Run a built-in model and report its figures.
    Run {
        /// The model: `cuba` (Vogels-Abbott current-based benchmark).
        model: Model,
        /// Number of neurons.
        #[arg(long, default_value_t = 4000)]
        neurons: u32,
        /// Biological time to simulate, e.g. `1s`, `250ms`, `0.5` (seconds).
        #[arg(long, default_value = "1s", value_parser = parse_duration)]
        duration: f64,
        #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
        backend: BackendArg,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the GPU adapters lamina can use, best first.
    Adapters,
}

#[derive(Clone, Copy, ValueEnum)]
enum Model {
    Cuba,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    /// The GPU if an adapter is found, else the CPU twin (the output says which ran).
    Auto,
    /// A GPU adapter (`LAMINA_BACKEND`, `LAMINA_ADAPTER` choose which).
    Gpu,
    /// The CPU reference twin.
    Cpu,
}

fn parse_duration(s: &str) -> std::result::Result<f64, String> {
    let s = s.trim();
    let (num, scale) = if let Some(x) = s.strip_suffix("ms") {
        (x, 1e-3)
    } else if let Some(x) = s.strip_suffix('s') {
        (x, 1.0)
    } else {
        (s, 1.0)
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v * scale),
        _ => Err(format!(
            "`{s}` is not a duration; write e.g. 1s, 250ms or 0.5"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            model: Model::Cuba,
            neurons,
            duration,
            backend,
            seed,
            json,
        } => run_cuba(neurons, duration, backend, seed, json),
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

fn run_cuba(
    neurons: u32,
    duration_s: f64,
    backend: BackendArg,
    seed: u64,
    json: bool,
) -> lamina::Result<()> {
    if neurons < 5 {
        return Err(Error::Validation(format!(
            "cuba needs at least 5 neurons, got {neurons}"
        )));
    }
    let model = cuba::build(neurons, seed)?;
    let choice = match backend {
        BackendArg::Auto => BackendChoice::Auto,
        BackendArg::Gpu => BackendChoice::gpu(),
        BackendArg::Cpu => BackendChoice::Cpu,
    };
    let mut sim = Simulator::new(&model.network, choice)?;
    let build_s = sim.build_seconds();
    let t0 = Instant::now();
    sim.run(duration_s)?;
    let sim_s = t0.elapsed().as_secs_f64();

    // Merge both populations into one (step, global neuron) list for the hash.
    let n_exc = model.network.population_info(model.excitatory)?.size;
    let (exc, inh) = (
        sim.spikes(&model.exc_spikes)?,
        sim.spikes(&model.inh_spikes)?,
    );
    let mut all: Vec<(u64, u32)> = exc
        .steps
        .iter()
        .copied()
        .zip(exc.neurons.iter().copied())
        .collect();
    all.extend(
        inh.steps
            .iter()
            .copied()
            .zip(inh.neurons.iter().map(|n| n + n_exc)),
    );
    all.sort_unstable();
    let merged = SpikeTrains {
        steps: all.iter().map(|p| p.0).collect(),
        times_s: Vec::new(),
        neurons: all.iter().map(|p| p.1).collect(),
    };
    let bio_s = sim.time();
    let spikes = all.len() as u64;
    let rate = if bio_s > 0.0 {
        spikes as f64 / neurons as f64 / bio_s
    } else {
        0.0
    };
    let report = serde_json::json!({
        "model": "cuba",
        "backend": sim.backend_kind(),
        "adapter": sim.backend_description(),
        "neurons": neurons,
        "synapses": sim.plan().synapse_count(),
        "steps": sim.steps(),
        "build_s": build_s,
        "sim_s": sim_s,
        "bio_s": bio_s,
        "rtf": if bio_s > 0.0 { sim_s / bio_s } else { 0.0 },
        "spikes": spikes,
        "mean_rate_hz": rate,
        "dispatches_per_step": sim.dispatches_per_step(),
        "device_bytes": sim.device_bytes(),
        "spike_hash": format!("{:016x}", merged.hash()),
        "seed": seed,
    });
    if json {
        println!("{report}");
    } else {
        println!(
            "cuba: {neurons} neurons, {} synapses on {}",
            sim.plan().synapse_count(),
            sim.backend_description()
        );
        println!(
            "  built in {build_s:.3} s; simulated {bio_s:.3} s in {sim_s:.3} s (rtf {:.3})",
            sim_s / bio_s.max(1e-12)
        );
        println!(
            "  {spikes} spikes, mean rate {rate:.2} Hz, {} dispatches per step, {} device bytes",
            sim.dispatches_per_step(),
            sim.device_bytes()
        );
        println!("  spike hash {:016x}", merged.hash());
    }
    Ok(())
}
