//! The command line's checkpoints: a run killed at any moment resumes from its last
//! checkpoint and reports the same spikes as a run that was never interrupted.

mod common;
use common::scratch;
use lamina::prelude::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lamina(backend: &BackendChoice) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lamina"));
    let name = match backend {
        BackendChoice::Cpu => "cpu",
        _ => "gpu",
    };
    cmd.args([
        "run",
        "cuba",
        "--neurons",
        "1000",
        "--seed",
        "4",
        "--backend",
        name,
    ]);
    cmd
}

/// Runs the command to completion; its JSON report, or a panic with its stderr.
fn report(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.arg("--json").output().expect("the lamina binary runs");
    assert!(
        out.status.success(),
        "lamina failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// The step a checkpoint file was written at.
fn checkpoint_step(path: &Path) -> u64 {
    let file = std::fs::File::open(path).expect("checkpoint");
    let mut npz = ndarray_npy::NpzReader::new(file).expect("an npz");
    let step: ndarray::Array0<u64> = npz.by_name("step").expect("a step");
    step.into_scalar()
}

fn killed_run_resumes(backend: BackendChoice) {
    let dir = scratch("kill", &backend);
    let path = dir.join("run.npz");
    // A long run, checkpointing every 20 ms of biological time, killed (SIGKILL: no chance to
    // clean up) once its first checkpoints are on disk.
    let mut child = lamina(&backend)
        .args(["--duration", "1000s", "--checkpoint-every", "20ms"])
        .arg("--checkpoint")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the lamina binary starts");
    let t0 = Instant::now();
    while !path.exists() || checkpoint_step(&path) < 400 {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the run ended on its own: {status}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no checkpoint after 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    let at = checkpoint_step(&path);
    assert_eq!(at % 200, 0, "checkpoints fall every 200 steps");
    let temps: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(
        temps.len() <= 2,
        "more than the checkpoint and one temporary file: {temps:?}"
    );

    // Resumed to 0.2 s past the checkpoint, and the same run never interrupted.
    let end = format!("{}s", (at + 2000) as f64 * 1e-4);
    let resumed = report(
        lamina(&backend)
            .args(["--duration", &end])
            .arg("--resume")
            .arg(&path),
    );
    let whole = report(lamina(&backend).args(["--duration", &end]));
    assert_eq!(resumed["steps"], whole["steps"]);
    assert_eq!(resumed["spikes"], whole["spikes"]);
    assert_eq!(resumed["spike_hash"], whole["spike_hash"]);
    let resumed_at = resumed["resumed_at_s"].as_f64().unwrap();
    assert!(
        (resumed_at - at as f64 * 1e-4).abs() < 1e-9,
        "resumed at {resumed_at} s"
    );
    assert!(
        whole["spikes"].as_u64().unwrap() > 100,
        "too few spikes: {whole}"
    );
    std::fs::remove_dir_all(dir).ok();
}

fn refused(cmd: &mut Command, wanted: &str) {
    let out = cmd.output().expect("the lamina binary runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted; stderr: {err}");
    assert!(err.contains(wanted), "expected `{wanted}` in: {err}");
}

fn bad_arguments_are_refused(backend: BackendChoice) {
    let dir = scratch("bad-arguments", &backend);
    let path = dir.join("run.npz");
    report(
        lamina(&backend)
            .args(["--duration", "30ms"])
            .arg("--checkpoint")
            .arg(&path),
    );
    assert_eq!(checkpoint_step(&path), 300, "a final checkpoint at the end");
    refused(
        lamina(&backend)
            .args(["--duration", "20ms", "--resume"])
            .arg(&path),
        "past the requested duration",
    );
    refused(
        Command::new(env!("CARGO_BIN_EXE_lamina"))
            .args([
                "run",
                "cuba",
                "--neurons",
                "1000",
                "--seed",
                "5",
                "--resume",
            ])
            .arg(&path),
        "written with seed",
    );
    refused(
        lamina(&backend).args(["--checkpoint-every", "10ms"]),
        "--checkpoint <FILE>",
    );
    refused(
        lamina(&backend)
            .args(["--checkpoint-every", "0.01ms"])
            .arg("--checkpoint")
            .arg(&path),
        "shorter than one step",
    );
    refused(
        lamina(&backend)
            .arg("--resume")
            .arg(dir.join("missing.npz")),
        "missing.npz",
    );
    std::fs::remove_dir_all(dir).ok();
}

on_every_backend! {
    fn a_killed_run_resumes_from_its_last_checkpoint(backend: BackendChoice) {
        killed_run_resumes(backend);
        Ok(())
    }

    fn bad_checkpoint_arguments_are_refused(backend: BackendChoice) {
        bad_arguments_are_refused(backend);
        Ok(())
    }
}
