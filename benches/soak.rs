//! Soak run: the CUBA network (4,000 neurons) for 10^6 steps (100 s of biological time) with
//! the health check on, in windows of 10 s. Per window it prints the mean rate, the wall time
//! and the process's resident memory; at the end one JSON line with the verdicts: whether the
//! rate is stationary (no window's rate more than 5% from the mean of all, and the halves
//! within 2% of each other), whether memory grew (resident memory of the last window against
//! the first), and whether any error appeared. Spikes are taken from the probes every window
//! (`Simulator::take_spikes`), as a long run writing them out would, so the probe data does
//! not grow.
//!
//! `cargo bench --bench soak` runs the CPU twin; `LAMINA_SOAK_BACKEND=gpu` the GPU adapter
//! (`LAMINA_BACKEND` / `LAMINA_ADAPTER` choose it); `LAMINA_SOAK_STEPS` changes the length.
//! Not part of CI: it is a measurement, not a test.

use lamina::builtin::cuba;
use lamina::prelude::*;
use std::time::Instant;

/// Resident memory of this process now (Linux), bytes.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

fn main() -> lamina::Result<()> {
    // Cargo passes `--bench` to harness-less benches; there are no other arguments.
    let steps: u64 = std::env::var("LAMINA_SOAK_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let backend = match std::env::var("LAMINA_SOAK_BACKEND").as_deref() {
        Ok("gpu") => BackendChoice::gpu(),
        _ => BackendChoice::Cpu,
    };
    let window = 100_000u64.min(steps);
    let model = cuba::build(4000, 1)?;
    let mut sim = Simulator::new(&model.network, backend)?;
    sim.set_health_check(true);
    let adapter = sim.backend_description();
    eprintln!("soak: cuba, 4000 neurons, {steps} steps on {adapter}, health check on");
    let t0 = Instant::now();
    let (mut rates, mut rss, mut walls) = (Vec::new(), Vec::new(), Vec::new());
    let mut error = None;
    while sim.n_steps() < steps {
        let n = window.min(steps - sim.n_steps());
        let t = Instant::now();
        if let Err(e) = sim.run_steps(n) {
            error = Some(e.to_string());
            break;
        }
        let spikes = sim.take_spikes(&model.exc_spikes)?.steps.len()
            + sim.take_spikes(&model.inh_spikes)?.steps.len();
        let rate = spikes as f64 / 4000.0 / (n as f64 * 1e-4);
        let (wall, mem) = (t.elapsed().as_secs_f64(), rss_bytes().unwrap_or(0));
        eprintln!(
            "  t = {:6.1} s: rate {rate:.3} Hz, {wall:.2} s wall, rss {:.1} MB",
            sim.time(),
            mem as f64 / 1e6
        );
        rates.push(rate);
        rss.push(mem);
        walls.push(wall);
    }
    let mean = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    let worst = rates
        .iter()
        .map(|r| (r / mean - 1.0).abs())
        .fold(0.0, f64::max);
    let half = rates.len() / 2;
    let avg = |x: &[f64]| x.iter().sum::<f64>() / x.len().max(1) as f64;
    let halves = avg(&rates[half..]) / avg(&rates[..half]) - 1.0;
    let growth = *rss.last().unwrap_or(&0) as f64 - *rss.first().unwrap_or(&0) as f64;
    let summary = serde_json::json!({
        "model": "cuba",
        "neurons": 4000,
        "steps": sim.n_steps(),
        "adapter": adapter,
        "wall_s": t0.elapsed().as_secs_f64(),
        "window_s": window as f64 * 1e-4,
        "rates_hz": rates,
        "mean_rate_hz": mean,
        "max_window_deviation": worst,
        "second_half_vs_first": halves,
        "stationary": worst < 0.05 && halves.abs() < 0.02,
        "rss_bytes": rss,
        "rss_growth_bytes": growth,
        "window_wall_s": walls,
        "error": error,
    });
    println!("{summary}");
    Ok(())
}
