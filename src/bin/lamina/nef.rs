//! Running a NEF model (the built-in `channel` or a model file): build, run with progress,
//! report, and the probes' decoded values for `--out`.

use crate::args::{host_peak_bytes, RunArgs};
use crate::output::{DecodedRecord, Finished, Recorded};
use crate::progress::Progress;
use crate::words::{bio_time, count};
use lamina::builtin::channel;
use lamina::prelude::*;
use serde_json::{json, Map, Value};
use std::time::Instant;

/// A NEF network ready to run, with its named probes.
pub struct NefJob {
    pub model: String,
    pub network: NefNetwork,
    pub probes: Vec<(String, NefProbeId)>,
    pub duration_s: f64,
    /// Fields added to the report (a built-in's parameters).
    pub extra: Map<String, Value>,
}

/// Builds the simulator, runs it for the job's duration and reports; also returns the
/// simulator for model-specific measures.
pub fn run(job: NefJob, args: &RunArgs, t0: Instant) -> lamina::Result<(Finished, Simulator)> {
    let opening = Progress::spinner(&format!("building {}", job.model), args.quiet);
    let sim = Simulator::new(&job.network, args.backend.choice());
    opening.finish();
    let mut sim = sim?;
    let build_s = t0.elapsed().as_secs_f64();
    let end = (job.duration_s / sim.dt()).round() as u64;
    if end == 0 {
        return Err(Error::Validation(format!(
            "--duration {} s is shorter than one step ({} s)",
            job.duration_s,
            sim.dt()
        )));
    }
    let t1 = Instant::now();
    let mut progress =
        Progress::steps(&format!("running {}", job.model), end, sim.dt(), args.quiet);
    while sim.n_steps() < end {
        let piece = progress.next_piece();
        sim.run_steps(piece.min(end - sim.n_steps()))?;
        progress.set(sim.n_steps());
    }
    progress.finish();
    let sim_s = t1.elapsed().as_secs_f64();
    let bio_s = sim.time();
    let steps = sim.n_steps();
    let mut recorded = Recorded {
        title: format!(
            "{}: seed {}, {}",
            job.model,
            job.network.seed(),
            bio_time(bio_s)
        ),
        dt_s: sim.dt(),
        end_s: bio_s,
        ..Recorded::default()
    };
    for (name, probe) in &job.probes {
        recorded.decoded.push(DecodedRecord {
            name: name.clone(),
            times_s: sim.trange(*probe)?,
            values: sim.data(*probe)?,
        });
    }
    let mut report = json!({
        "model": job.model,
        "backend": sim.backend_kind(),
        "adapter": sim.backend_description(),
        "steps": steps,
        "build_s": build_s,
        "sim_s": sim_s,
        "bio_s": bio_s,
        "steps_per_s": steps as f64 / sim_s,
        "rtf": sim_s / bio_s,
        "dispatches_per_step": sim.dispatches_per_step(),
        "device_bytes": sim.device_bytes(),
        "host_peak_bytes": host_peak_bytes(),
        "seed": job.network.seed(),
    });
    for (key, value) in job.extra {
        report[key] = value;
    }
    let text = vec![
        format!("{}: on {}", job.model, sim.backend_description()),
        format!(
            "  built in {build_s:.3} s; simulated {bio_s:.3} s in {sim_s:.3} s ({:.0} steps/s, {} dispatches per step)",
            steps as f64 / sim_s,
            sim.dispatches_per_step()
        ),
    ];
    Ok((
        Finished {
            report,
            text,
            recorded,
        },
        sim,
    ))
}

/// The NEF benchmark: build, learn, and how well `post` follows the input at the end.
pub fn run_channel(args: &RunArgs) -> lamina::Result<Finished> {
    let neurons = args.neurons.unwrap_or(1000) as usize;
    let duration_s = args.duration.unwrap_or(10.0);
    let t0 = Instant::now();
    let dims = args.dims.unwrap_or(1) as usize;
    let m = channel::build(neurons, dims, args.seed())?;
    let mut extra = Map::new();
    extra.insert("neurons".into(), json!(2 * neurons));
    extra.insert("dims".into(), json!(dims));
    extra.insert("learning_rate".into(), json!(channel::LEARNING_RATE));
    let job = NefJob {
        model: "channel".into(),
        network: m.network,
        probes: vec![("pre".into(), m.pre), ("post".into(), m.post)],
        duration_s,
        extra,
    };
    let (mut finished, sim) = run(job, args, t0)?;
    let steps = sim.n_steps() as usize;
    let second = ((1.0 / sim.dt()).round() as usize).min(steps);
    if steps < 100 {
        return Err(Error::Validation(format!(
            "channel needs at least 100 steps to measure its error; {duration_s} s gives {steps}"
        )));
    }
    let post = &finished.recorded.decoded[1].values;
    let (lag, rmse_last) = channel::fit(
        post,
        sim.dt(),
        m.dims,
        steps - second.min(steps - 99),
        steps,
    );
    let (_, rmse_first) = channel::fit(post, sim.dt(), m.dims, 99, second.max(100));
    let lag_ms = lag as f64 * sim.dt() * 1e3;
    finished.recorded.title = format!(
        "channel: pre -> post, {} each, {}, seed {}, {}",
        count(neurons as u64, "neuron"),
        count(dims as u64, "dimension"),
        args.seed(),
        bio_time(sim.time())
    );
    let report = &mut finished.report;
    report["rmse_first_1s"] = json!(rmse_first);
    report["rmse_last_1s"] = json!(rmse_last);
    report["lag_ms"] = json!(lag_ms);
    finished.text = vec![
        format!(
            "channel: pre -> post, {} each, {}, PES, on {}",
            count(neurons as u64, "LIF neuron"),
            count(dims as u64, "dimension"),
            sim.backend_description()
        ),
        finished.text[1].clone(),
        format!(
            "  post follows the input with rmse {rmse_first:.4} in the first second, \
             {rmse_last:.4} in the last ({lag_ms:.0} ms late)"
        ),
    ];
    Ok(finished)
}
