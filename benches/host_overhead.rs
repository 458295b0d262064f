//! The host's cost per step of the GPU executor, measured on wgpu's no-op backend: it accepts
//! every call and runs nothing, so the time is wgpu's validation and resource tracking plus
//! lamina's own encoding, submission and readback, on any machine, GPU or not. A host-side
//! regression in the step loop shows here even where no adapter exists.
//!
//! Models: the Potjans-Diesmann microcircuit (full scale; `LAMINA_HOST_SCALE` changes it) and
//! CUBA (4,000 neurons). Each is opened on the no-op backend and runs one chunk to warm up;
//! then runs of `LAMINA_HOST_CHUNKS` chunks (10 by default) are timed with `Instant`,
//! `LAMINA_HOST_ROUNDS` times (5 by default) for each way of running chunks, alternating in
//! the same process: one at a time (submit, wait, read back) and pipelined (the next chunk
//! submitted before the last one's records are read). Per model and way it prints one JSON
//! line (host microseconds per step, mean and best run; dispatches per step; synapse chunks),
//! then a table. `LAMINA_HOST_CHUNK_BYTES` caps the synapse chunk size as a device's binding
//! limit would (the no-op adapter reports a 2 GiB binding), to see the cost of more chunks.
//!
//! What is counted besides encoding: each chunk's readback and the simulator's decoding of the
//! spike record, and on this backend the clear and copy of the record buffers, which it does
//! as host memory copies where a GPU would do them itself (`record_bytes_per_step` in the
//! JSON says how much). Kernels do not run, so the readbacks are zeros and the networks stay
//! silent. Not part of CI: it is a measurement, not a test.

use lamina::builtin::{cuba, microcircuit};
use lamina::lower::Dispatch;
use lamina::prelude::*;
use std::time::Instant;

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|s| s.trim().parse().ok())
}

struct Row {
    model: String,
    pipelined: bool,
    neurons: u32,
    synapses: u64,
    dispatches: u32,
    synapse_chunks: u32,
    us_per_step: f64,
    us_best: f64,
}

fn measure(
    model: &str,
    scale: f64,
    net: &Network,
    opts: &GpuOptions,
    chunks: u32,
    rounds: u32,
) -> Result<Vec<Row>> {
    let t = Instant::now();
    let mut sim = Simulator::new(net, BackendChoice::Gpu(opts.clone()))?;
    let open_s = t.elapsed().as_secs_f64();
    let plan = sim.plan();
    let (neurons, synapses, chunk_steps) =
        (plan.neuron_count(), plan.synapse_count(), plan.chunk_steps);
    // Every other dispatch of a step is one; `Propagate` is one per synapse chunk.
    let propagates = plan
        .dispatches
        .iter()
        .filter(|d| matches!(d, Dispatch::Propagate))
        .count() as u32;
    let others = plan.dispatches.len() as u32 - propagates;
    let dispatches = sim.dispatches_per_step();
    let synapse_chunks = (dispatches - others).checked_div(propagates).unwrap_or(0);
    let syn_bytes = plan.syn_words.len() as u64 * 4;
    // The spike record each step writes and each chunk reads back: on the no-op backend its
    // clear and copy are host memory copies (a GPU's own work elsewhere), so they are counted.
    let record_bytes = plan.globals.rec_words as u64 * 4;
    let backend = sim.backend_description();

    sim.run_steps(chunk_steps as u64)?;
    // [one at a time, pipelined]: seconds of each timed run, the two ways alternating.
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (way, pipelined) in [false, true].into_iter().enumerate() {
            sim.set_pipelined(pipelined);
            let t = Instant::now();
            sim.run_steps(chunks as u64 * chunk_steps as u64)?;
            times[way].push(t.elapsed().as_secs_f64());
        }
    }
    let steps = chunks as f64 * chunk_steps as f64;
    let mut rows = Vec::new();
    for (way, pipelined) in [false, true].into_iter().enumerate() {
        let runs = &times[way];
        let us_per_step = runs.iter().sum::<f64>() / runs.len() as f64 / steps * 1e6;
        let us_best = runs.iter().cloned().fold(f64::INFINITY, f64::min) / steps * 1e6;
        println!(
            "{}",
            serde_json::json!({
                "bench": "host_overhead",
                "model": model,
                "pipelined": pipelined,
                "backend": backend,
                "neurons": neurons,
                "synapses": synapses,
                "synapse_bytes": syn_bytes,
                "synapse_chunk_cap_bytes": opts.synapse_chunk_bytes,
                "synapse_chunks": synapse_chunks,
                "dispatches_per_step": dispatches,
                "record_bytes_per_step": record_bytes,
                "chunk_steps": chunk_steps,
                "chunks_per_run": chunks,
                "timed_runs": runs.len(),
                "us_per_step": us_per_step,
                "us_per_step_best_run": us_best,
                "us_per_dispatch": us_per_step / dispatches as f64,
                "open_s": open_s,
                "scale": scale,
            })
        );
        rows.push(Row {
            model: model.into(),
            pipelined,
            neurons,
            synapses,
            dispatches,
            synapse_chunks,
            us_per_step,
            us_best,
        });
    }
    Ok(rows)
}

fn main() -> Result<()> {
    // Cargo passes `--bench` to harness-less benches; settings come from the environment.
    let scale: f64 = env("LAMINA_HOST_SCALE").unwrap_or(1.0);
    let chunks: u32 = env("LAMINA_HOST_CHUNKS").unwrap_or(10).max(1);
    let rounds: u32 = env("LAMINA_HOST_ROUNDS").unwrap_or(5).max(1);
    let opts = GpuOptions {
        api: Some("noop".into()),
        synapse_chunk_bytes: env("LAMINA_HOST_CHUNK_BYTES"),
        ..Default::default()
    };
    let (limit, adapter) = lamina::exec::gpu::context::binding_limit(&opts)?;
    eprintln!(
        "host_overhead: {adapter}, binding limit {limit} bytes, synapse chunk cap {}",
        opts.synapse_chunk_bytes
            .map_or("none".to_string(), |b| format!("{b} bytes"))
    );
    let mut rows = Vec::new();

    // open_s in the JSON is lowering the network to a plan plus opening the backend and
    // uploading the plan to it.
    let cuba = cuba::build(4000, 1)?;
    rows.extend(measure(
        "cuba_4000",
        1.0,
        &cuba.network,
        &opts,
        chunks,
        rounds,
    )?);
    drop(cuba);

    let mc = microcircuit::build(scale, 1, false)?;
    rows.extend(measure(
        &format!("microcircuit_{scale}"),
        scale,
        &mc.network,
        &opts,
        chunks,
        rounds,
    )?);

    println!(
        "{:<20} {:>10} {:>8} {:>12} {:>10} {:>8} {:>10} {:>10}",
        "model", "way", "neurons", "synapses", "dispatch", "syn parts", "us/step", "best"
    );
    for r in &rows {
        println!(
            "{:<20} {:>10} {:>8} {:>12} {:>10} {:>8} {:>10.2} {:>10.2}",
            r.model,
            if r.pipelined {
                "pipelined"
            } else {
                "one by one"
            },
            r.neurons,
            r.synapses,
            r.dispatches,
            r.synapse_chunks,
            r.us_per_step,
            r.us_best
        );
    }
    Ok(())
}
