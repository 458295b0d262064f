//! The command-line tool: run built-in models and list adapters.

use clap::{Parser, Subcommand, ValueEnum};
use lamina::backend::gpu;
use lamina::builtin::{channel, cuba, microcircuit};
use lamina::prelude::*;
use serde_json::{json, Map, Value};
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
    Run(RunArgs),
    /// List the GPU adapters lamina can use, best first.
    Adapters,
}

#[derive(clap::Args)]
struct RunArgs {
    /// `cuba` (Vogels-Abbott current-based benchmark), `microcircuit` (Potjans-Diesmann 2014)
    /// or `channel` (NEF: Nengo's PES learning example, with Nengo's semantics).
    model: Model,
    /// cuba: number of neurons (default 4000). channel: neurons per ensemble (default 1000).
    #[arg(long)]
    neurons: Option<u32>,
    /// channel: dimensions of the represented vector.
    #[arg(long, default_value_t = 1)]
    dims: usize,
    /// microcircuit: scale of the neuron counts (in-degrees kept); 1 is the full model.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// microcircuit: add the thalamic pulse (902 neurons at 120 Hz from 700 ms for 10 ms).
    #[arg(long)]
    thalamus: bool,
    /// Biological time to simulate, e.g. `1s`, `250ms`, `0.5` (seconds). Default: 1 s for cuba,
    /// 1.1 s for the microcircuit, 10 s for channel.
    #[arg(long, value_parser = parse_duration)]
    duration: Option<f64>,
    /// Initial time left out of the rates. Default: 0 for cuba, 0.1 s for the microcircuit.
    #[arg(long, value_parser = parse_duration)]
    transient: Option<f64>,
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// cuba, microcircuit: check every voltage and current for NaN and infinity, and every
    /// step's input for the fixed-point range, stopping with the first population, neuron and
    /// step that fails (always on in debug builds).
    #[arg(long)]
    check: bool,
    /// cuba, microcircuit: write the run's whole state to this file (.npz) every
    /// `--checkpoint-every` of biological time and at the end; `--resume FILE` goes on from it.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<std::path::PathBuf>,
    /// Biological time between checkpoints, e.g. `100ms` (needs `--checkpoint`).
    #[arg(long, value_parser = parse_duration, requires = "checkpoint")]
    checkpoint_every: Option<f64>,
    /// cuba, microcircuit: go on from a checkpoint written by a run of the same model, seed
    /// and scale, up to `--duration` from time zero; the report covers the whole run.
    #[arg(long, value_name = "FILE")]
    resume: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Model {
    Cuba,
    Microcircuit,
    Channel,
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
        Command::Run(args) => run(&args),
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

/// A built model: its network, and its spike probes with the names of what they record.
struct Built {
    network: Network,
    groups: Vec<(String, SpikeProbe, u32)>,
    /// Reference rates to compare with, per group, if the model has them.
    reference_rates: Option<(String, Vec<f64>)>,
}

fn build_model(args: &RunArgs) -> lamina::Result<Built> {
    Ok(match args.model {
        Model::Cuba => {
            let n = args.neurons.unwrap_or(4000);
            if n < 5 {
                return Err(Error::Validation(format!(
                    "cuba needs at least 5 neurons, got {n}"
                )));
            }
            let m = cuba::build(n, args.seed)?;
            let size = |p| m.network.population_info(p).map(|x| x.size);
            let groups = vec![
                ("excitatory".to_string(), m.exc_spikes, size(m.excitatory)?),
                ("inhibitory".to_string(), m.inh_spikes, size(m.inhibitory)?),
            ];
            Built {
                network: m.network,
                groups,
                reference_rates: None,
            }
        }
        Model::Microcircuit => {
            let m = microcircuit::build(args.scale, args.seed, args.thalamus)?;
            let groups = (0..m.sizes.len())
                .map(|k| (m.params.populations[k].clone(), m.spikes[k], m.sizes[k]))
                .collect();
            let reference = Some((
                "rates_nest_2016".to_string(),
                m.params.rates_nest_2016.clone(),
            ));
            Built {
                network: m.network,
                groups,
                reference_rates: reference,
            }
        }
        Model::Channel => unreachable!("run_channel handles the NEF model"),
    })
}

fn backend_choice(arg: BackendArg) -> BackendChoice {
    match arg {
        BackendArg::Auto => BackendChoice::Auto,
        BackendArg::Gpu => BackendChoice::gpu(),
        BackendArg::Cpu => BackendChoice::Cpu,
    }
}

/// Peak resident memory of this process so far (Linux), bytes.
fn host_peak_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The NEF benchmark: build, learn, and how well `post` follows the input at the end.
fn run_channel(args: &RunArgs) -> lamina::Result<()> {
    if args.checkpoint.is_some() || args.resume.is_some() || args.check {
        return Err(Error::Validation(
            "--checkpoint, --resume and --check are for the spiking models (cuba, microcircuit); save a NEF model's state from Rust with NefSimulator::save_state".into(),
        ));
    }
    let neurons = args.neurons.unwrap_or(1000) as usize;
    let duration_s = args.duration.unwrap_or(10.0);
    let t0 = Instant::now();
    let m = channel::build(neurons, args.dims, args.seed)?;
    let mut sim = NefSimulator::new(&m.network, backend_choice(args.backend))?;
    let build_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    sim.run(duration_s)?;
    let sim_s = t1.elapsed().as_secs_f64();
    let bio_s = sim.time();
    let steps = sim.n_steps() as usize;
    let second = ((1.0 / sim.dt()).round() as usize).min(steps);
    if steps < 100 {
        return Err(Error::Validation(format!(
            "channel needs at least 100 steps to measure its error; {duration_s} s gives {steps}"
        )));
    }
    let post = sim.data(m.post)?;
    let (lag, rmse_last) = channel::fit(
        &post,
        sim.dt(),
        m.dims,
        steps - second.min(steps - 99),
        steps,
    );
    let (_, rmse_first) = channel::fit(&post, sim.dt(), m.dims, 99, second.max(100));
    let report = json!({
        "model": "channel",
        "backend": sim.backend_kind(),
        "adapter": sim.backend_description(),
        "neurons": 2 * neurons,
        "dims": args.dims,
        "steps": steps,
        "build_s": build_s,
        "sim_s": sim_s,
        "bio_s": bio_s,
        "steps_per_s": steps as f64 / sim_s,
        "rtf": sim_s / bio_s,
        "rmse_first_1s": rmse_first,
        "rmse_last_1s": rmse_last,
        "lag_ms": lag as f64 * sim.dt() * 1e3,
        "learning_rate": channel::LEARNING_RATE,
        "dispatches_per_step": sim.dispatches_per_step(),
        "device_bytes": sim.device_bytes(),
        "host_peak_bytes": host_peak_bytes(),
        "seed": args.seed,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "channel: pre -> post, {neurons} LIF neurons each, {} dimensions, PES, on {}",
            args.dims,
            sim.backend_description()
        );
        println!(
            "  built in {build_s:.3} s; simulated {bio_s:.3} s in {sim_s:.3} s ({:.0} steps/s)",
            steps as f64 / sim_s
        );
        println!(
            "  post follows the input with rmse {rmse_first:.4} in the first second, \
             {rmse_last:.4} in the last ({:.0} ms late); {} dispatches per step",
            lag as f64 * sim.dt() * 1e3,
            sim.dispatches_per_step()
        );
    }
    Ok(())
}

/// Runs from the simulator's time to `duration_s`, writing a checkpoint every
/// `--checkpoint-every` and at the end when `--checkpoint` is given. Returns how many were
/// written.
fn run_to(sim: &mut Simulator, args: &RunArgs, duration_s: f64) -> lamina::Result<u32> {
    let dt_s = sim.plan().dt_ms * 1e-3;
    let end = (duration_s / dt_s).round() as u64;
    if end == 0 {
        return Err(Error::Validation(format!(
            "--duration {duration_s} s is shorter than one step ({dt_s} s)"
        )));
    }
    if sim.steps() > end {
        return Err(Error::Validation(format!(
            "the checkpoint is at {} s, past the requested duration of {duration_s} s; ask for a longer --duration",
            sim.time()
        )));
    }
    let Some(path) = &args.checkpoint else {
        sim.run_steps(end - sim.steps())?;
        return Ok(0);
    };
    let every = match args.checkpoint_every {
        Some(every) => {
            let steps = (every / dt_s).round() as u64;
            if steps == 0 {
                return Err(Error::Validation(format!(
                    "--checkpoint-every {every} s is shorter than one step ({dt_s} s)"
                )));
            }
            steps
        }
        None => u64::MAX,
    };
    let mut written = 0;
    while sim.steps() < end {
        // Checkpoints fall on multiples of `every` from time zero, resumed or not.
        let next = (sim.steps() / every)
            .saturating_add(1)
            .saturating_mul(every);
        sim.run_steps(next.min(end) - sim.steps())?;
        sim.checkpoint(path)?;
        written += 1;
    }
    if written == 0 {
        sim.checkpoint(path)?;
        written = 1;
    }
    Ok(written)
}

fn run(args: &RunArgs) -> lamina::Result<()> {
    let (model_name, default_duration, default_transient) = match args.model {
        Model::Cuba => ("cuba", 1.0, 0.0),
        Model::Microcircuit => ("microcircuit", 1.1, 0.1),
        Model::Channel => return run_channel(args),
    };
    let duration_s = args.duration.unwrap_or(default_duration);
    let transient_s = args.transient.unwrap_or(default_transient);
    if transient_s >= duration_s {
        return Err(Error::Validation(format!(
            "the transient ({transient_s} s) must be shorter than the duration ({duration_s} s)"
        )));
    }
    let t0 = Instant::now();
    let built = build_model(args)?;
    let mut sim = Simulator::new(&built.network, backend_choice(args.backend))?;
    let build_s = t0.elapsed().as_secs_f64();
    if args.check {
        sim.set_health_check(true);
    }
    if let Some(path) = &args.resume {
        sim.load_checkpoint(path)?;
    }
    let resumed_at_s = sim.time();
    let t1 = Instant::now();
    let checkpoints = run_to(&mut sim, args, duration_s)?;
    let sim_s = t1.elapsed().as_secs_f64();
    let bio_s = sim.time();

    // Rates over [transient, end], and one (step, global neuron) list for the hash.
    let first_counted = (transient_s * 1e3 / sim.plan().dt_ms).round() as u64;
    let counted_s = bio_s - first_counted as f64 * sim.plan().dt_ms * 1e-3;
    let mut all: Vec<(u64, u32)> = Vec::new();
    let mut rates = Map::new();
    let mut rate_list = Vec::new();
    let mut offset = 0u32;
    let mut neurons = 0u64;
    for (name, probe, size) in &built.groups {
        let trains = sim.spikes(probe)?;
        all.extend(
            trains
                .steps
                .iter()
                .copied()
                .zip(trains.neurons.iter().map(|n| n + offset)),
        );
        let counted = trains.steps.iter().filter(|&&s| s >= first_counted).count();
        let rate = counted as f64 / *size as f64 / counted_s;
        rates.insert(name.clone(), json!(rate));
        rate_list.push(rate);
        offset += size;
        neurons += *size as u64;
    }
    all.sort_unstable();
    let merged = SpikeTrains {
        steps: all.iter().map(|p| p.0).collect(),
        times_s: Vec::new(),
        neurons: all.iter().map(|p| p.1).collect(),
    };
    let spikes = all.len() as u64;
    let mean_rate = spikes as f64 / neurons as f64 / bio_s;
    let mut report = json!({
        "model": model_name,
        "backend": sim.backend_kind(),
        "adapter": sim.backend_description(),
        "neurons": neurons,
        "synapses": sim.plan().synapse_count(),
        "steps": sim.steps(),
        "build_s": build_s,
        "sim_s": sim_s,
        "bio_s": bio_s,
        "rtf": sim_s / bio_s,
        "spikes": spikes,
        "mean_rate_hz": mean_rate,
        "transient_s": transient_s,
        "rates_hz": Value::Object(rates),
        "dispatches_per_step": sim.dispatches_per_step(),
        "device_bytes": sim.device_bytes(),
        "device_bytes_per_synapse": sim.device_bytes() as f64 / sim.plan().synapse_count().max(1) as f64,
        "host_peak_bytes": host_peak_bytes(),
        "health_check": sim.health_check(),
        "spike_hash": format!("{:016x}", merged.hash()),
        "seed": args.seed,
    });
    if args.resume.is_some() {
        // sim_s and rtf cover only the part run here.
        report["resumed_at_s"] = json!(resumed_at_s);
        report["rtf"] = json!(sim_s / (bio_s - resumed_at_s).max(f64::MIN_POSITIVE));
    }
    if args.checkpoint.is_some() {
        report["checkpoints"] = json!(checkpoints);
    }
    if let Model::Microcircuit = args.model {
        report["scale"] = json!(args.scale);
        report["thalamus"] = json!(args.thalamus);
    }
    if let Some((name, reference)) = &built.reference_rates {
        let ratios: Vec<f64> = rate_list
            .iter()
            .zip(reference)
            .map(|(r, x)| r / x)
            .collect();
        report["reference"] = json!(name);
        report["rate_ratios"] = json!(ratios);
    }
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{model_name}: {neurons} neurons, {} synapses on {}",
            sim.plan().synapse_count(),
            sim.backend_description()
        );
        println!(
            "  built in {build_s:.3} s; simulated {bio_s:.3} s in {sim_s:.3} s (rtf {:.3})",
            sim_s / bio_s
        );
        println!(
            "  {spikes} spikes, mean rate {mean_rate:.2} Hz, {} dispatches per step, {} device bytes",
            sim.dispatches_per_step(),
            sim.device_bytes()
        );
        for ((name, _, _), rate) in built.groups.iter().zip(&rate_list) {
            println!("  {name:>12}: {rate:7.3} Hz");
        }
        println!("  spike hash {:016x}", merged.hash());
    }
    Ok(())
}
