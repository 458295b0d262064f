//! `lamina bench`: the JSON report holds every run and their medians, repeated runs give the
//! same spikes, and bad models, bad model arguments and a comparison that cannot run end with
//! a non-zero status and a message that says what to do.

use serde_json::Value;
use std::process::{Command, Output};

fn lamina(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lamina"))
        .arg("bench")
        .args(args)
        .output()
        .expect("the lamina binary runs")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

/// Equal within a few units in the last place: serde_json's float parsing is not always
/// exact to the last bit.
#[track_caller]
fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
        "{what}: {a} != {b}"
    );
}

/// Fails with the command's stderr unless it failed with a message containing each of `want`.
fn fails_saying(out: &Output, want: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded; stderr: {stderr}");
    for w in want {
        assert!(stderr.contains(w), "stderr lacks `{w}`: {stderr}");
    }
}

#[test]
fn json_report_holds_the_runs_their_medians_and_identical_spikes() {
    let out = lamina(&[
        "cuba:neurons=500",
        "--repeat",
        "2",
        "--duration",
        "50ms",
        "--backend",
        "cpu",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "lamina bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["repeat"], 2);
    assert!(report["cores"].as_u64().unwrap() >= 1);
    assert!(report["cpu"].is_string() && report["date"].is_string());
    assert_eq!(report["lamina_version"], env!("CARGO_PKG_VERSION"));
    let models = report["models"].as_array().expect("a list of models");
    assert_eq!(models.len(), 1);
    let cuba = &models[0];
    assert_eq!(cuba["model"], "cuba");
    assert_eq!(cuba["backend"], "cpu");
    let runs = cuba["runs"].as_array().expect("the runs");
    assert_eq!(runs.len(), 2);
    for run in runs {
        assert_eq!(run["neurons"], 500);
        assert_eq!(run["steps"], 500, "50 ms at dt 0.1 ms");
    }
    for field in ["build_s", "sim_s", "wall_s", "rtf", "syn_events_per_s"] {
        let mut values: Vec<f64> = runs.iter().map(|r| r[field].as_f64().unwrap()).collect();
        let stats = &cuba[field];
        let (lo, hi) = (values[0].min(values[1]), values[0].max(values[1]));
        close(
            stats["median"].as_f64().unwrap(),
            median(&mut values),
            field,
        );
        close(stats["min"].as_f64().unwrap(), lo, field);
        close(stats["max"].as_f64().unwrap(), hi, field);
    }
    // The events: spikes times the mean out-degree, per second of simulation.
    let r = &runs[0];
    let events = r["spikes"].as_f64().unwrap() * r["synapses"].as_f64().unwrap()
        / 500.0
        / r["sim_s"].as_f64().unwrap();
    assert!((r["syn_events_per_s"].as_f64().unwrap() / events - 1.0).abs() < 1e-12);
    assert!(r["spikes"].as_u64().unwrap() > 0);
    assert_eq!(runs[0]["spike_hash"], runs[1]["spike_hash"]);
    assert_eq!(cuba["spike_hash"], runs[0]["spike_hash"]);
    assert_eq!(cuba["spike_hash_identical"], true);
}

#[test]
fn model_arguments_reach_the_run_and_a_text_table_is_the_default() {
    let out = lamina(&[
        "cuba:neurons=300,seed=7",
        "channel:neurons=50,duration=0.2s",
        "--repeat",
        "1",
        "--duration",
        "30ms",
        "--backend",
        "cpu",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let cuba = &report["models"][0]["runs"][0];
    assert_eq!(cuba["neurons"], 300);
    assert_eq!(cuba["seed"], 7, "the model's seed wins over --seed");
    assert_eq!(cuba["steps"], 300, "--duration applies");
    let channel = &report["models"][1];
    assert_eq!(channel["runs"][0]["neurons"], 100, "two ensembles of 50");
    assert_eq!(
        channel["runs"][0]["steps"], 200,
        "the model's duration wins"
    );
    assert!(channel["steps_per_s"]["median"].as_f64().unwrap() > 0.0);

    let out = lamina(&[
        "cuba:neurons=300",
        "--repeat",
        "1",
        "--duration",
        "30ms",
        "--backend",
        "cpu",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("median [min-max]"), "{text}");
    assert!(text.contains("cuba:neurons=300"), "{text}");
    assert!(text.contains("synaptic events/s"), "{text}");
}

#[test]
fn a_bad_model_or_model_argument_is_refused_with_its_reason() {
    fails_saying(
        &lamina(&["cubaa", "--backend", "cpu"]),
        &["no model `cubaa`", "cuba, microcircuit or channel"],
    );
    fails_saying(
        &lamina(&["cuba:scale=0.1", "--backend", "cpu"]),
        &["`cuba:scale=0.1`", "cuba takes neurons", "not `scale`"],
    );
    fails_saying(
        &lamina(&["cuba:neurons=many", "--backend", "cpu"]),
        &["`cuba:neurons=many`", "invalid value 'many'"],
    );
    fails_saying(
        &lamina(&["microcircuit:thalamus=maybe", "--backend", "cpu"]),
        &["thalamus is true or false"],
    );
    fails_saying(
        &lamina(&["cuba", "--repeat", "0"]),
        &["--repeat must be at least 1"],
    );
    // Refused before anything runs: a bad second model does not wait for the first.
    fails_saying(
        &lamina(&["cuba:neurons=500", "channel:scale=2", "--backend", "cpu"]),
        &["channel takes neurons, dims, duration, seed"],
    );
}

#[test]
fn a_comparison_that_cannot_run_says_how_to_install_the_peer() {
    let out = lamina(&[
        "cuba:neurons=500",
        "--duration",
        "50ms",
        "--backend",
        "cpu",
        "--compare",
        "brian2",
        "--python",
        "/nonexistent/python3",
    ]);
    fails_saying(
        &out,
        &[
            "could not run",
            "/nonexistent/python3",
            "pip install brian2 'numpy<2.3'",
            "--python PATH",
        ],
    );
    assert!(
        out.stdout.is_empty(),
        "no report when the comparison was asked for and failed"
    );

    let out = lamina(&[
        "channel:neurons=50,duration=0.2s",
        "--backend",
        "cpu",
        "--compare",
        "nengo",
        "--python",
        "/nonexistent/python3",
    ]);
    fails_saying(&out, &["could not run", "pip install nengo"]);

    // An interpreter that runs but lacks the module (`true` imports nothing and exits 0, so
    // use `false`, which fails like a missing import).
    if let Some(false_bin) = ["/bin/false", "/usr/bin/false"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
    {
        let out = lamina(&[
            "cuba:neurons=500",
            "--backend",
            "cpu",
            "--compare",
            "brian2",
            "--python",
            *false_bin,
        ]);
        fails_saying(
            &out,
            &["cannot import brian2", "pip install brian2 'numpy<2.3'"],
        );
    }

    // A comparison none of the models can take is refused too.
    fails_saying(
        &lamina(&[
            "channel:neurons=50",
            "--backend",
            "cpu",
            "--compare",
            "brian2",
        ]),
        &["none of these models has a brian2 peer"],
    );
}

/// A stand-in for a Python interpreter with the peer installed: `-c ...` (the import check)
/// prints a version; a script run prints, after some noise, one JSON line with fixed timings
/// and the arguments it was given. `fail` makes script runs fail without JSON instead.
fn fake_python(dir: &std::path::Path, fail: bool) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let run = if fail {
        "echo 'Traceback: the peer broke' >&2; exit 3".to_string()
    } else {
        r#"echo "compiling..."; echo "{\"sim_s\": 0.5, \"build_and_run_s\": 4.0, \"compile_s\": 3.0, \"args\": \"$*\"}""#
            .to_string()
    };
    let script =
        format!("#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then echo 9.9.9; exit 0; fi\nshift\n{run}\n");
    let path = dir.join(if fail { "broken-python" } else { "python" });
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_comparison_runs_the_peer_with_the_same_parameters_and_reports_ratios() {
    let dir = std::env::temp_dir().join(format!("lamina-test-{}-bench-peer", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("brian2_cuba.py"), "").unwrap();
    let python = fake_python(&dir, false);
    let common = [
        "--repeat",
        "3",
        "--duration",
        "50ms",
        "--seed",
        "5",
        "--backend",
        "cpu",
        "--compare",
        "brian2",
        "--peers",
    ];
    let mut args: Vec<&str> = vec!["cuba:neurons=400"];
    args.extend(common);
    args.extend([
        dir.to_str().unwrap(),
        "--python",
        python.to_str().unwrap(),
        "--json",
    ]);
    let out = lamina(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["compare"], "brian2");
    let cuba = &report["models"][0];
    let peer = &cuba["peer"];
    assert_eq!(peer["version"], "9.9.9");
    let runs = peer["runs"].as_array().expect("the peer's runs");
    assert_eq!(runs.len(), 3, "the peer runs --repeat times");
    assert_eq!(
        runs[0]["args"], "--neurons 400 --duration 0.05 --seed 5 --json",
        "the peer gets lamina's size, duration and seed"
    );
    assert_eq!(peer["sim_s"]["median"], 0.5);
    assert_eq!(peer["compile_s"]["median"], 3.0);
    assert_eq!(peer["total_s"]["median"], 4.0);
    let ratios = &peer["ratios"];
    let sim = cuba["sim_s"]["median"].as_f64().unwrap();
    let wall = cuba["wall_s"]["median"].as_f64().unwrap();
    close(ratios["sim"].as_f64().unwrap(), sim / 0.5, "sim ratio");
    close(ratios["total"].as_f64().unwrap(), wall / 4.0, "total ratio");
    close(
        ratios["total_without_compile"].as_f64().unwrap(),
        wall / 1.0,
        "ratio without compilation",
    );

    // The text table shows the comparison.
    let mut text_args: Vec<&str> = vec!["cuba:neurons=400"];
    text_args.extend(common);
    text_args.extend([dir.to_str().unwrap(), "--python", python.to_str().unwrap()]);
    let out = lamina(&text_args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("brian2 9.9.9 on the same models"), "{text}");
    assert!(text.contains("sim ratio"), "{text}");

    // A peer that fails ends the bench with its message, not a report.
    let broken = fake_python(&dir, true);
    let mut args: Vec<&str> = vec!["cuba:neurons=400"];
    args.extend(common);
    args.extend([
        dir.to_str().unwrap(),
        "--python",
        broken.to_str().unwrap(),
        "--json",
    ]);
    let out = lamina(&args);
    fails_saying(&out, &["could not run", "the peer broke", "no JSON line"]);
    assert!(out.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
