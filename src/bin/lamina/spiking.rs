//! Running a spiking model (a built-in or a model file): build, run with checkpoints and
//! progress, then the report (rates per group, spike hash, costs) and what was recorded.

use crate::args::{host_peak_bytes, RunArgs};
use crate::output::{Finished, Recorded, SpikeGroup, StateRecord};
use crate::progress::Progress;
use crate::words::{bio_time, count};
use lamina::builtin::{cuba, microcircuit};
use lamina::prelude::*;
use serde_json::{json, Map, Value};
use std::time::Instant;

/// A spiking network ready to run, with what to record and report.
pub struct SpikingJob {
    /// Shown in the report: `cuba`, `microcircuit` or the model file's name.
    pub model: String,
    pub network: Network,
    /// Spike probes: name, probe, neurons recorded. Rates are reported per group.
    pub groups: Vec<(String, SpikeProbe, u32)>,
    /// State probes: name, probe, variables recorded.
    pub states: Vec<(String, StateProbe, Vec<StateVar>)>,
    pub duration_s: f64,
    pub transient_s: f64,
    /// Reference rates to compare with, per group: where they come from, and the rates.
    pub reference_rates: Option<(String, Vec<f64>)>,
    /// Fields added to the report (a built-in's parameters).
    pub extra: Map<String, Value>,
}

/// `cuba` or `microcircuit`, built from the command line's arguments and run.
pub fn run_builtin(args: &RunArgs) -> lamina::Result<Finished> {
    let t0 = Instant::now();
    let building = Progress::spinner(&format!("building {}", args.model), args.quiet);
    let job = build_builtin(args);
    building.finish();
    run(job?, args, t0)
}

fn build_builtin(args: &RunArgs) -> lamina::Result<SpikingJob> {
    match args.model.as_str() {
        "cuba" => {
            let n = args.neurons.unwrap_or(4000);
            if n < 5 {
                return Err(Error::Validation(format!(
                    "cuba needs at least 5 neurons, got {n}"
                )));
            }
            let m = cuba::build(n, args.seed())?;
            let size = |p| m.network.population_info(p).map(|x| x.size);
            let groups = vec![
                ("excitatory".to_string(), m.exc_spikes, size(m.excitatory)?),
                ("inhibitory".to_string(), m.inh_spikes, size(m.inhibitory)?),
            ];
            Ok(SpikingJob {
                model: "cuba".into(),
                network: m.network,
                groups,
                states: Vec::new(),
                duration_s: args.duration.unwrap_or(1.0),
                transient_s: args.transient.unwrap_or(0.0),
                reference_rates: None,
                extra: Map::new(),
            })
        }
        "microcircuit" => {
            let scale = args.scale.unwrap_or(1.0);
            let m = microcircuit::build(scale, args.seed(), args.thalamus)?;
            let groups = (0..m.sizes.len())
                .map(|k| (m.params.populations[k].clone(), m.spikes[k], m.sizes[k]))
                .collect();
            let mut extra = Map::new();
            extra.insert("scale".into(), json!(scale));
            extra.insert("thalamus".into(), json!(args.thalamus));
            Ok(SpikingJob {
                model: "microcircuit".into(),
                network: m.network,
                groups,
                states: Vec::new(),
                duration_s: args.duration.unwrap_or(1.1),
                transient_s: args.transient.unwrap_or(0.1),
                reference_rates: Some((
                    "rates_nest_2016".to_string(),
                    m.params.rates_nest_2016.clone(),
                )),
                extra,
            })
        }
        other => Err(Error::Validation(format!(
            "no built-in model `{other}`: use cuba, microcircuit or channel, or the path of a model file (.toml)"
        ))),
    }
}

/// Opens a simulator for the job, runs it to its duration and gathers the report. `t0` is
/// when building began, so build_s covers the network and the simulator.
pub fn run(job: SpikingJob, args: &RunArgs, t0: Instant) -> lamina::Result<Finished> {
    let (duration_s, transient_s) = (job.duration_s, job.transient_s);
    if transient_s >= duration_s {
        let whose = if args.transient.is_some() {
            "--transient"
        } else {
            "the default --transient"
        };
        return Err(Error::Validation(format!(
            "{whose} ({transient_s} s, left out of the rates) must be shorter than the duration ({duration_s} s): ask for a longer --duration or a shorter --transient, e.g. --transient 0"
        )));
    }
    let opening = Progress::spinner("allocating on the backend", args.quiet);
    let sim = match crate::processes::communicator()? {
        Some(comm) => Simulator::distributed(&job.network, args.backend.choice(), comm),
        None => Simulator::new(&job.network, args.backend.choice()),
    };
    opening.finish();
    let mut sim = sim?;
    let build_s = t0.elapsed().as_secs_f64();
    if args.check {
        sim.set_health_check(true);
    }
    if let Some(path) = &args.resume {
        sim.load_checkpoint(path)?;
    }
    let resumed_at_s = sim.time();
    let t1 = Instant::now();
    let checkpoints = run_to(&mut sim, args, &job.model, duration_s)?;
    let sim_s = t1.elapsed().as_secs_f64();
    let bio_s = sim.time();
    let dt_s = sim.plan().dt_ms * 1e-3;

    // Rates over [transient, end], and one (step, global neuron) list for the hash.
    let first_counted = (transient_s / dt_s).round() as u64;
    let counted_s = bio_s - first_counted as f64 * dt_s;
    let mut all: Vec<(u64, u32)> = Vec::new();
    let mut rates = Map::new();
    let mut rate_list = Vec::new();
    let mut recorded = Recorded {
        dt_s,
        end_s: bio_s,
        transient_s,
        ..Recorded::default()
    };
    let mut offset = 0u32;
    let mut neurons = 0u64;
    for (name, probe, size) in &job.groups {
        let trains = sim.take_spikes(probe)?;
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
        recorded.spikes.push(SpikeGroup {
            name: name.clone(),
            size: *size,
            trains,
        });
    }
    for (name, probe, vars) in &job.states {
        let times_s = sim.state_times(probe)?;
        let values = vars
            .iter()
            .map(|&var| Ok((var, sim.state(probe, var)?)))
            .collect::<lamina::Result<_>>()?;
        recorded.states.push(StateRecord {
            name: name.clone(),
            times_s,
            values,
        });
    }
    all.sort_unstable();
    let merged = SpikeTrains {
        steps: all.iter().map(|p| p.0).collect(),
        times_s: Vec::new(),
        neurons: all.iter().map(|p| p.1).collect(),
    };
    let spikes = all.len() as u64;
    let scale = match job.extra.get("scale") {
        Some(scale) => format!(", scale {scale}"),
        None => String::new(),
    };
    recorded.title = format!(
        "{}: {}{scale}, seed {}, {}",
        job.model,
        count(neurons, "neuron"),
        job.network.seed(),
        bio_time(bio_s)
    );
    let mean_rate = spikes as f64 / neurons.max(1) as f64 / bio_s;
    let processes = per_process(&sim)?;
    // On several processes, each holds the synapses onto its own neurons.
    let synapses = processes
        .as_ref()
        .map_or(sim.plan().synapse_count(), |ranks| {
            ranks
                .iter()
                .map(|r| r["synapses"].as_u64().unwrap_or(0))
                .sum()
        });
    let mut report = json!({
        "model": job.model,
        "backend": sim.backend_kind(),
        "adapter": sim.backend_description(),
        "neurons": neurons,
        "synapses": synapses,
        "steps": sim.n_steps(),
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
        "device_bytes_per_synapse": sim.device_bytes() as f64 / synapses.max(1) as f64,
        "host_peak_bytes": host_peak_bytes(),
        "health_check": sim.health_check(),
        "spike_hash": format!("{:016x}", merged.hash()),
        "seed": job.network.seed(),
    });
    if let Some(processes) = processes {
        report["ranks"] = json!(processes.len());
        report["communicator"] = json!(sim.communicator_description());
        report["per_rank"] = Value::Array(processes);
    }
    if args.resume.is_some() {
        // sim_s and rtf cover only the part run here.
        report["resumed_at_s"] = json!(resumed_at_s);
        report["rtf"] = json!(sim_s / (bio_s - resumed_at_s).max(f64::MIN_POSITIVE));
    }
    if args.checkpoint.is_some() {
        report["checkpoints"] = json!(checkpoints);
    }
    for (key, value) in job.extra {
        report[key] = value;
    }
    if let Some((name, reference)) = &job.reference_rates {
        let ratios: Vec<f64> = rate_list
            .iter()
            .zip(reference)
            .map(|(r, x)| r / x)
            .collect();
        report["reference"] = json!(name);
        report["rate_ratios"] = json!(ratios);
    }

    let mut text = vec![
        format!(
            "{}: {neurons} neurons, {synapses} synapses on {}",
            job.model,
            sim.backend_description()
        ),
        format!(
            "  built in {build_s:.3} s; simulated {bio_s:.3} s in {sim_s:.3} s (rtf {:.3})",
            sim_s / bio_s
        ),
        format!(
            "  {spikes} spikes, mean rate {mean_rate:.2} Hz, {} dispatches per step, {} device bytes",
            sim.dispatches_per_step(),
            sim.device_bytes()
        ),
    ];
    for ((name, _, _), rate) in job.groups.iter().zip(&rate_list) {
        text.push(format!("  {name:>12}: {rate:7.3} Hz"));
    }
    if let Some(p) = sim.partition() {
        text.push(format!(
            "  on {} processes ({}); rank 0: computing {:.3} s, waiting {:.3} s, exchanging \
             {:.3} s",
            p.ranks,
            sim.communicator_description().unwrap_or_default(),
            sim.rank_times().compute_s,
            sim.rank_times().wait_s,
            sim.rank_times().exchange_s
        ));
    }
    text.push(format!("  spike hash {:016x}", merged.hash()));
    Ok(Finished {
        report,
        text,
        recorded,
    })
}

/// Runs from the simulator's time to `duration_s`, writing a checkpoint every
/// `--checkpoint-every` and at the end when `--checkpoint` is given, and moving a progress
/// bar. Returns how many checkpoints were written.
fn run_to(
    sim: &mut Simulator,
    args: &RunArgs,
    model: &str,
    duration_s: f64,
) -> lamina::Result<u32> {
    let dt_s = sim.plan().dt_ms * 1e-3;
    let end = (duration_s / dt_s).round() as u64;
    if end == 0 {
        return Err(Error::Validation(format!(
            "--duration {duration_s} s is shorter than one step ({dt_s} s)"
        )));
    }
    if sim.n_steps() > end {
        return Err(Error::Validation(format!(
            "the checkpoint is at {} s, past the requested duration of {duration_s} s; ask for a longer --duration",
            sim.time()
        )));
    }
    let every = match (&args.checkpoint, args.checkpoint_every) {
        (None, _) => None,
        (Some(_), None) => Some(u64::MAX),
        (Some(_), Some(every)) => {
            let steps = (every / dt_s).round() as u64;
            if steps == 0 {
                return Err(Error::Validation(format!(
                    "--checkpoint-every {every} s is shorter than one step ({dt_s} s)"
                )));
            }
            Some(steps)
        }
    };
    let mut progress = Progress::steps(&format!("running {model}"), end, dt_s, args.quiet);
    progress.start_at(sim.n_steps());
    let mut written = 0;
    while sim.n_steps() < end {
        let piece = progress.next_piece();
        let next_checkpoint = every.map_or(u64::MAX, |every| {
            // Checkpoints fall on multiples of `every` from time zero, resumed or not.
            (sim.n_steps() / every)
                .saturating_add(1)
                .saturating_mul(every)
        });
        let target = next_checkpoint.min(end).min(sim.n_steps() + piece);
        sim.run_steps(target - sim.n_steps())?;
        progress.set(sim.n_steps());
        if let Some(path) = &args.checkpoint {
            if target == next_checkpoint || target == end {
                sim.checkpoint(path)?;
                written += 1;
            }
        }
    }
    progress.finish();
    if let (Some(path), 0) = (&args.checkpoint, written) {
        sim.checkpoint(path)?;
        written = 1;
    }
    Ok(written)
}

/// Each process's neurons, synapses, device and host bytes and where its time went, gathered
/// from all of them (a collective call), when the network runs on several.
fn per_process(sim: &Simulator) -> lamina::Result<Option<Vec<Value>>> {
    let Some(part) = sim.partition() else {
        return Ok(None);
    };
    let t = sim.rank_times();
    // Other processes' neurons with synapses onto this one's: the spikes an all-to-all
    // exchange would have to send it (the all-gather sends it every spike).
    let (plan, owned) = (sim.plan(), part.owned());
    let rows = |i: u32| plan.row_ptr[i as usize + 1] > plan.row_ptr[i as usize];
    let needed = (0..plan.neuron_count())
        .filter(|i| !owned.contains(i) && rows(*i))
        .count() as u64;
    let all = sim.gather_u64(&[
        t.compute_s.to_bits(),
        t.wait_s.to_bits(),
        t.exchange_s.to_bits(),
        t.exchanges,
        t.spikes_sent,
        sim.device_bytes(),
        host_peak_bytes().unwrap_or(0),
        needed,
        plan.synapse_count(),
    ])?;
    Ok(Some(
        all.iter()
            .enumerate()
            .map(|(rank, w)| {
                let neurons = part.range_of(rank as u32);
                json!({
                    "rank": rank,
                    "neurons": neurons.len(),
                    "first_neuron": neurons.start,
                    "synapses": w[8],
                    "compute_s": f64::from_bits(w[0]),
                    "wait_s": f64::from_bits(w[1]),
                    "exchange_s": f64::from_bits(w[2]),
                    "exchanges": w[3],
                    "spikes_sent": w[4],
                    "device_bytes": w[5],
                    "host_peak_bytes": w[6],
                    "senders": w[7],
                    "senders_fraction": w[7] as f64
                        / (part.starts[part.ranks as usize] as usize - neurons.len()).max(1) as f64,
                })
            })
            .collect(),
    ))
}
