//! `lamina bench`: runs models several times in one process, one after another, through
//! [`crate::execute`] (the path `lamina run` takes), and reports per model the median and the
//! range of build time, simulation time, real-time factor and throughput, with the adapter,
//! the CPU and the date. `--compare brian2|nengo` runs the peer scripts of `benches/peers/` on
//! the same parameters as many times and reports lamina/peer ratios.
//!
//! A model is written `NAME[:KEY=VALUE,...]`: `cuba:neurons=32000`,
//! `microcircuit:scale=0.1,duration=0.6s`, `channel:neurons=2000,dims=4`. The keys are
//! `lamina run`'s options without their dashes; which ones a model takes is listed in
//! [`model_keys`]. `--duration` and `--seed` apply to every model unless its own keys say
//! otherwise.

use crate::args::{parse_duration, BackendArg, RunArgs};
use crate::progress::Progress;
use clap::{Parser, ValueEnum};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The models run when none are named: short runs of each built-in.
pub const DEFAULT_MODELS: [&str; 3] = ["cuba", "microcircuit:scale=0.05", "channel:duration=2s"];

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Models to run, each `NAME[:KEY=VALUE,...]`, e.g. `cuba:neurons=32000`,
    /// `microcircuit:scale=0.1`, `channel:neurons=2000,dims=4,duration=1s`. Keys: cuba takes
    /// neurons, duration, transient, seed; microcircuit scale, duration, transient, seed,
    /// thalamus (=true|false); channel neurons, dims, duration, seed; a model file (.toml)
    /// scale, duration, transient, seed. Default: cuba, microcircuit:scale=0.05, channel:duration=2s.
    pub models: Vec<String>,
    /// Runs of each model (and of each peer with --compare).
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Biological time of every model, e.g. `1s`, `250ms` (a model's own `duration=` wins).
    /// Default: each model's own (cuba 1 s, microcircuit 1.1 s, channel 10 s).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<f64>,
    /// Seed of every model (a model's own `seed=` wins).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also run the peer simulator on the same models and parameters: brian2 (cuba,
    /// microcircuit) or nengo (channel), and report lamina/peer time ratios.
    #[arg(long, value_enum)]
    pub compare: Option<Peer>,
    /// The Python interpreter that runs the peer scripts.
    #[arg(long, value_name = "PATH", default_value = "python3")]
    pub python: PathBuf,
    /// Where the peer scripts are. Default: benches/peers of the source tree lamina was built
    /// from.
    #[arg(long, value_name = "DIR")]
    pub peers: Option<PathBuf>,
    /// No progress bars (they are also off when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

/// A peer simulator that `--compare` can run.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Peer {
    /// Brian2 (cpp_standalone, one thread): benches/peers/brian2_cuba.py and
    /// brian2_microcircuit.py.
    Brian2,
    /// Nengo: benches/peers/nengo_channel.py.
    Nengo,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Brian2 => "brian2",
            Peer::Nengo => "nengo",
        }
    }

    fn install(self) -> &'static str {
        match self {
            Peer::Brian2 => "pip install brian2 'numpy<2.3'",
            Peer::Nengo => "pip install nengo",
        }
    }

    /// The script that runs `model` in this peer, if there is one.
    fn script(self, model: &str) -> Option<&'static str> {
        match (self, model) {
            (Peer::Brian2, "cuba") => Some("brian2_cuba.py"),
            (Peer::Brian2, "microcircuit") => Some("brian2_microcircuit.py"),
            (Peer::Nengo, "channel") => Some("nengo_channel.py"),
            _ => None,
        }
    }

    fn models(self) -> &'static str {
        match self {
            Peer::Brian2 => "cuba and microcircuit",
            Peer::Nengo => "channel",
        }
    }
}

/// Why a bench stopped: lamina's own error, or a comparison that was asked for and could not
/// run (with what to install).
enum Failure {
    Lamina(lamina::Error),
    Usage(String),
    Peer(String),
}

impl From<lamina::Error> for Failure {
    fn from(e: lamina::Error) -> Failure {
        Failure::Lamina(e)
    }
}

/// `lamina bench`. A comparison that cannot run prints why and how to install the peer, and
/// ends the process with status 1.
pub fn run(args: &BenchArgs) -> lamina::Result<()> {
    match bench(args) {
        Ok(()) => Ok(()),
        Err(Failure::Lamina(e)) => Err(e),
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
        Err(Failure::Peer(message)) => {
            eprintln!("error: the comparison was asked for but could not run: {message}");
            std::process::exit(1);
        }
    }
}

/// One model of the list: as written, and the arguments of each of its runs.
struct ModelSpec {
    spec: String,
    args: RunArgs,
}

/// The keys a model takes after its `:`.
pub fn model_keys(model: &str) -> Option<&'static [&'static str]> {
    match model {
        "cuba" => Some(&["neurons", "duration", "transient", "seed"]),
        "microcircuit" => Some(&["scale", "duration", "transient", "seed", "thalamus"]),
        "channel" => Some(&["neurons", "dims", "duration", "seed"]),
        file if file.ends_with(".toml") => Some(&["scale", "duration", "transient", "seed"]),
        _ => None,
    }
}

/// `lamina run`'s arguments, parsed from an argument list built here.
#[derive(Parser)]
#[command(no_binary_name = true)]
struct OneRun {
    #[command(flatten)]
    run: RunArgs,
}

/// Parses `NAME[:KEY=VALUE,...]` into the arguments of a run, with the common options first.
fn parse_spec(spec: &str, common: &BenchArgs) -> Result<ModelSpec, String> {
    // The last `:` followed only by KEY=VALUE items splits the name from its arguments, so a
    // model file's path may hold colons of its own.
    let (model, items) = match spec.rsplit_once(':') {
        Some((name, tail)) if tail.split(',').all(|item| item.contains('=')) => {
            (name, tail.split(',').collect::<Vec<_>>())
        }
        _ => (spec, Vec::new()),
    };
    let keys = model_keys(model).ok_or_else(|| {
        format!(
            "no model `{model}` (in `{spec}`): use cuba, microcircuit or channel, or the path of a model file (.toml)"
        )
    })?;
    let mut options: Vec<(String, Option<String>)> = vec![
        (
            "backend".into(),
            Some(
                common
                    .backend
                    .to_possible_value()
                    .expect("every backend has a name")
                    .get_name()
                    .to_string(),
            ),
        ),
        ("seed".into(), Some(common.seed.to_string())),
    ];
    if let Some(d) = common.duration {
        options.push(("duration".into(), Some(d.to_string())));
    }
    for item in items {
        let (key, value) = item.split_once('=').expect("items hold `=`");
        let (key, value) = (key.trim(), value.trim());
        if !keys.contains(&key) {
            return Err(format!(
                "`{spec}`: {model} takes {}; not `{key}`",
                keys.join(", ")
            ));
        }
        let value = if key == "thalamus" {
            match value {
                "true" | "1" | "yes" => None,
                "false" | "0" | "no" => continue,
                other => {
                    return Err(format!(
                        "`{spec}`: thalamus is true or false, not `{other}`"
                    ))
                }
            }
        } else {
            Some(value.to_string())
        };
        options.retain(|(k, _)| k != key);
        options.push((key.to_string(), value));
    }
    let mut argv = vec![model.to_string()];
    for (key, value) in options {
        argv.push(format!("--{key}"));
        argv.extend(value);
    }
    if common.quiet {
        argv.push("--quiet".into());
    }
    let parsed = OneRun::try_parse_from(&argv).map_err(|e| {
        let message = e.to_string();
        let first = message.lines().next().unwrap_or_default();
        format!("`{spec}`: {}", first.trim_start_matches("error: "))
    })?;
    Ok(ModelSpec {
        spec: spec.to_string(),
        args: parsed.run,
    })
}

/// Median, min and max of a non-empty list.
pub fn stats(values: &[f64]) -> Value {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    };
    json!({ "median": median, "min": v[0], "max": v[n - 1] })
}

fn median(stats: &Value) -> f64 {
    stats["median"].as_f64().unwrap_or(f64::NAN)
}

/// `field` of every run that has it as a number.
fn column(runs: &[Value], field: &str) -> Vec<f64> {
    runs.iter().filter_map(|r| r[field].as_f64()).collect()
}

fn bench(args: &BenchArgs) -> Result<(), Failure> {
    if args.repeat == 0 {
        return Err(Failure::Usage("--repeat must be at least 1".into()));
    }
    let written: Vec<String> = if args.models.is_empty() {
        DEFAULT_MODELS.iter().map(|s| s.to_string()).collect()
    } else {
        args.models.clone()
    };
    let specs = written
        .iter()
        .map(|s| parse_spec(s, args))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Usage)?;

    // A comparison is checked before anything runs, so a missing peer costs no waiting.
    let peer = match args.compare {
        None => None,
        Some(peer) => Some(check_peer(args, peer, &specs)?),
    };

    let mut models = Vec::new();
    for spec in &specs {
        let mut runs = Vec::new();
        for _ in 0..args.repeat {
            let t0 = Instant::now();
            let finished = crate::execute(&spec.args)?;
            let wall_s = t0.elapsed().as_secs_f64();
            let mut report = finished.report;
            report["wall_s"] = json!(wall_s);
            if let (Some(spikes), Some(synapses), Some(neurons), Some(sim_s)) = (
                report["spikes"].as_f64(),
                report["synapses"].as_f64(),
                report["neurons"].as_f64(),
                report["sim_s"].as_f64(),
            ) {
                // Spikes times the mean out-degree: the synaptic events delivered, counting
                // every neuron as having the mean number of outgoing synapses.
                report["syn_events_per_s"] = json!(spikes * synapses / neurons.max(1.0) / sim_s);
            }
            runs.push(report);
        }
        let mut entry = summarize(spec, runs);
        if let Some(peer) = &peer {
            if let Some(script) = peer
                .peer
                .script(entry["model"].as_str().unwrap_or_default())
            {
                entry["peer"] = run_peer(args, peer, script, &entry)?;
            }
        }
        models.push(entry);
    }

    let cpu = cpu_info();
    let report = json!({
        "lamina_version": env!("CARGO_PKG_VERSION"),
        "date": today(),
        "cpu": cpu.0,
        "cores": cpu.1,
        "backend": args.backend.to_possible_value().map(|v| v.get_name().to_string()),
        "repeat": args.repeat,
        "compare": args.compare.map(Peer::name),
        "models": models,
    });
    if args.json {
        println!("{report}");
    } else {
        for line in table(&report) {
            println!("{line}");
        }
    }
    Ok(())
}

/// The runs of one model and their medians and ranges.
fn summarize(spec: &ModelSpec, runs: Vec<Value>) -> Value {
    let first = &runs[0];
    let mut entry = json!({
        "spec": spec.spec,
        "model": first["model"],
        "backend": first["backend"],
        "adapter": first["adapter"],
    });
    for field in [
        "build_s",
        "sim_s",
        "wall_s",
        "rtf",
        "syn_events_per_s",
        "steps_per_s",
    ] {
        let values = column(&runs, field);
        if values.len() == runs.len() {
            entry[field] = stats(&values);
        }
    }
    if first.get("spike_hash").is_some() {
        let same = runs.iter().all(|r| r["spike_hash"] == first["spike_hash"]);
        entry["spike_hash"] = first["spike_hash"].clone();
        entry["spike_hash_identical"] = json!(same);
    }
    entry["runs"] = Value::Array(runs);
    entry
}

/// A peer found and ready: the interpreter can import it, its scripts are there.
struct ReadyPeer {
    peer: Peer,
    version: String,
    dir: PathBuf,
}

fn check_peer(args: &BenchArgs, peer: Peer, specs: &[ModelSpec]) -> Result<ReadyPeer, Failure> {
    let name = peer.name();
    if !specs.iter().any(|s| peer.script(&s.args.model).is_some()) {
        return Err(Failure::Usage(format!(
            "--compare {name} compares {}; none of these models has a {name} peer",
            peer.models()
        )));
    }
    let python = args.python.display();
    let install = peer.install();
    let import = format!("import {name}; print({name}.__version__)");
    let out = Command::new(&args.python)
        .args(["-c", &import])
        .output()
        .map_err(|e| {
            Failure::Peer(format!(
                "cannot start the Python interpreter `{python}` ({e}).\n  Install Python 3 and {name} (`{install}`), or name an interpreter that has {name} with --python PATH."
            ))
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr.lines().last().unwrap_or("no message");
        return Err(Failure::Peer(format!(
            "`{python}` cannot import {name} ({why}).\n  Install it with `{install}` (for that interpreter), or name another one with --python PATH."
        )));
    }
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dir = args
        .peers
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers"));
    for spec in specs {
        if let Some(script) = peer.script(&spec.args.model) {
            if !dir.join(script).is_file() {
                return Err(Failure::Peer(format!(
                    "the peer script {} is missing; name the folder of lamina's benches/peers with --peers DIR",
                    dir.join(script).display()
                )));
            }
        }
    }
    Ok(ReadyPeer { peer, version, dir })
}

/// The peer's arguments for the model, taken from what lamina's first run reported, so both
/// run the same network size, duration and seed.
fn peer_arguments(model: &str, report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |key: &str, value: &Value| {
        out.push(format!("--{key}"));
        out.push(match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    };
    match model {
        "cuba" => add("neurons", &report["neurons"]),
        "microcircuit" => {
            add("scale", &report["scale"]);
            add("transient", &report["transient_s"]);
        }
        "channel" => {
            let per_ensemble = report["neurons"].as_u64().unwrap_or(0) / 2;
            add("neurons", &json!(per_ensemble));
            add("dims", &report["dims"]);
        }
        _ => {}
    }
    add("duration", &report["bio_s"]);
    add("seed", &report["seed"]);
    out
}

fn run_peer(
    args: &BenchArgs,
    ready: &ReadyPeer,
    script: &str,
    entry: &Value,
) -> Result<Value, Failure> {
    let peer = ready.peer;
    let model = entry["model"].as_str().unwrap_or_default();
    let first = &entry["runs"][0];
    if model == "microcircuit" && first["thalamus"] == json!(true) {
        return Err(Failure::Peer(
            "the Brian2 microcircuit has no thalamic input; leave thalamus=true out of a comparison".into(),
        ));
    }
    let mut script_args = peer_arguments(model, first);
    if peer == Peer::Brian2 {
        // nengo_channel.py prints its JSON line without being asked.
        script_args.push("--json".into());
    }
    let path = ready.dir.join(script);
    let mut runs = Vec::new();
    for k in 0..args.repeat {
        let spinner = Progress::spinner(
            &format!("{} {model} (run {} of {})", peer.name(), k + 1, args.repeat),
            args.quiet,
        );
        let t0 = Instant::now();
        let out = Command::new(&args.python)
            .arg(&path)
            .args(&script_args)
            .output();
        let process_s = t0.elapsed().as_secs_f64();
        spinner.finish();
        let out = out
            .map_err(|e| Failure::Peer(format!("cannot start `{}`: {e}", args.python.display())))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().rev().find_map(|l| {
            serde_json::from_str::<Value>(l.trim())
                .ok()
                .filter(Value::is_object)
        });
        let Some(mut result) = line.filter(|_| out.status.success()) else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(Failure::Peer(format!(
                "{} {} {} ended with {} and no JSON line:\n{}",
                args.python.display(),
                path.display(),
                script_args.join(" "),
                out.status,
                tail.join("\n")
            )));
        };
        result["process_s"] = json!(process_s);
        // The whole peer run, as the script measured it (Brian2: construction, code
        // generation, compilation, the binary and loading results; Nengo: build and run).
        let total = result["build_and_run_s"]
            .as_f64()
            .or_else(|| Some(result["build_s"].as_f64()? + result["sim_s"].as_f64()?));
        result["total_s"] = json!(total);
        runs.push(result);
    }
    let mut summary = json!({
        "name": peer.name(),
        "version": ready.version,
        "script": script,
        "arguments": script_args,
    });
    for field in ["sim_s", "total_s", "compile_s", "process_s"] {
        let values = column(&runs, field);
        if values.len() == runs.len() {
            summary[field] = stats(&values);
        }
    }
    let lamina_sim = median(&entry["sim_s"]);
    let lamina_wall = median(&entry["wall_s"]);
    let mut ratios = Map::new();
    ratios.insert("sim".into(), json!(lamina_sim / median(&summary["sim_s"])));
    ratios.insert(
        "total".into(),
        json!(lamina_wall / median(&summary["total_s"])),
    );
    let without: Vec<f64> = runs
        .iter()
        .filter_map(|r| Some(r["total_s"].as_f64()? - r["compile_s"].as_f64()?))
        .collect();
    if without.len() == runs.len() {
        let without = stats(&without);
        ratios.insert(
            "total_without_compile".into(),
            json!(lamina_wall / median(&without)),
        );
        summary["total_without_compile_s"] = without;
    }
    summary["ratios"] = Value::Object(ratios);
    summary["runs"] = Value::Array(runs);
    Ok(summary)
}

/// The CPU's model name and the number of logical cores (Linux: /proc/cpuinfo).
fn cpu_info() -> (String, usize) {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let name = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let listed = info.lines().filter(|l| l.starts_with("processor")).count();
    let cores = if listed > 0 {
        listed
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    (name, cores)
}

/// Today's date (UTC), `YYYY-MM-DD`.
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A number with about three significant digits.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        return format!("{x:.2e}");
    }
    let decimals = if a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i32).clamp(0, 4) as usize
    };
    format!("{x:.decimals$}")
}

/// `median [min-max]`.
fn spread(stats: &Value) -> String {
    if stats.is_null() {
        return "-".into();
    }
    let get = |k: &str| stats[k].as_f64().unwrap_or(f64::NAN);
    format!(
        "{} [{}-{}]",
        num(get("median")),
        num(get("min")),
        num(get("max"))
    )
}

/// The human-readable report.
fn table(report: &Value) -> Vec<String> {
    let mut out = vec![format!(
        "lamina {} bench, {}, {} ({} cores); {} run(s) per model: median [min-max]",
        report["lamina_version"].as_str().unwrap_or_default(),
        report["date"].as_str().unwrap_or_default(),
        report["cpu"].as_str().unwrap_or_default(),
        report["cores"],
        report["repeat"],
    )];
    let models = report["models"].as_array().cloned().unwrap_or_default();
    let width = models
        .iter()
        .filter_map(|m| m["spec"].as_str().map(str::len))
        .max()
        .unwrap_or(5)
        .max(5);
    out.push(format!(
        "{:width$}  {:24}  {:24}  {:24}  throughput",
        "model", "build_s", "sim_s", "rtf"
    ));
    for m in &models {
        let throughput = if !m["syn_events_per_s"].is_null() {
            format!("{} synaptic events/s", spread(&m["syn_events_per_s"]))
        } else if !m["steps_per_s"].is_null() {
            format!("{} steps/s", spread(&m["steps_per_s"]))
        } else {
            "-".into()
        };
        out.push(format!(
            "{:width$}  {:24}  {:24}  {:24}  {throughput}",
            m["spec"].as_str().unwrap_or_default(),
            spread(&m["build_s"]),
            spread(&m["sim_s"]),
            spread(&m["rtf"]),
        ));
    }
    for m in &models {
        let mut line = format!(
            "  {}: {} ({})",
            m["spec"].as_str().unwrap_or_default(),
            m["adapter"].as_str().unwrap_or_default(),
            m["backend"].as_str().unwrap_or_default()
        );
        match m["spike_hash_identical"].as_bool() {
            Some(true) => {
                line += &format!(
                    ", spike hash {} in every run",
                    m["spike_hash"].as_str().unwrap_or_default()
                )
            }
            Some(false) => line += ", SPIKE HASHES DIFFER between runs",
            None => {}
        }
        out.push(line);
    }
    let compared: Vec<&Value> = models.iter().filter(|m| !m["peer"].is_null()).collect();
    if let Some(first) = compared.first() {
        let peer = &first["peer"];
        out.push(String::new());
        out.push(format!(
            "{} {} on the same models, {} run(s) each: median [min-max]; ratios lamina / {}, of medians",
            peer["name"].as_str().unwrap_or_default(),
            peer["version"].as_str().unwrap_or_default(),
            report["repeat"],
            peer["name"].as_str().unwrap_or_default(),
        ));
        out.push(format!(
            "{:width$}  {:24}  {:24}  {:24}  {:24}  {:>9}  {:>11}  {:>20}",
            "model",
            "lamina total_s",
            "peer sim_s",
            "peer compile_s",
            "peer total_s",
            "sim ratio",
            "total ratio",
            "total ratio w/o comp."
        ));
        for m in compared {
            let p = &m["peer"];
            let ratio = |k: &str| p["ratios"][k].as_f64().map_or("-".into(), num);
            out.push(format!(
                "{:width$}  {:24}  {:24}  {:24}  {:24}  {:>9}  {:>11}  {:>20}",
                m["spec"].as_str().unwrap_or_default(),
                spread(&m["wall_s"]),
                spread(&p["sim_s"]),
                spread(&p["compile_s"]),
                spread(&p["total_s"]),
                ratio("sim"),
                ratio("total"),
                ratio("total_without_compile"),
            ));
        }
        out.push(
            "  sim: lamina's sim_s against the peer's (Brian2: CPU time of its compiled main loop, one thread; Nengo: wall time of sim.run).".into(),
        );
        out.push(
            "  total: lamina's whole run (build, simulation, report) against the peer's (Brian2: construction, code generation, compilation, binary, results; Nengo: build and run); w/o comp.: without Brian2's C++ compilation.".into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(stats(&[3.0, 1.0, 2.0])["median"], json!(2.0));
        assert_eq!(stats(&[4.0, 1.0, 2.0, 3.0])["median"], json!(2.5));
        assert_eq!(stats(&[4.0, 1.0])["min"], json!(1.0));
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
    }
}
