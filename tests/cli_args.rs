//! `lamina run`'s arguments: flags a model would ignore are refused with the models that take
//! them, bad values are refused with what to write instead, and `--out` and `--checkpoint`
//! that cannot be written fail before anything is built.

mod common;
use common::scratch;
use lamina::prelude::*;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn lamina(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lamina"))
        .args(args)
        .output()
        .expect("the lamina binary runs")
}

/// Fails unless the command failed with a message containing each of `wanted`; the message.
fn refused(args: &[&str], wanted: &[&str]) -> String {
    let out = lamina(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} was accepted: {stderr}");
    for w in wanted {
        assert!(stderr.contains(w), "{args:?}: `{w}` not in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    stderr
}

#[test]
fn flags_for_other_models_are_refused_naming_the_models_that_take_them() {
    let cases: [(&[&str], &[&str]); 8] = [
        (
            &["run", "microcircuit", "--neurons", "5"],
            &[
                "--neurons does not apply to microcircuit",
                "cuba and channel",
                "--scale",
            ],
        ),
        (
            &["run", "cuba", "--scale", "2"],
            &[
                "--scale does not apply to cuba",
                "microcircuit and spiking model files",
                "--neurons",
            ],
        ),
        (
            &["run", "cuba", "--dims", "2"],
            &["--dims does not apply to cuba", "it is for channel"],
        ),
        (
            &["run", "microcircuit", "--dims", "2"],
            &["--dims does not apply to microcircuit", "it is for channel"],
        ),
        (
            &["run", "cuba", "--thalamus"],
            &[
                "--thalamus does not apply to cuba",
                "it is for microcircuit",
            ],
        ),
        (
            &["run", "channel", "--thalamus"],
            &[
                "--thalamus does not apply to channel",
                "it is for microcircuit",
            ],
        ),
        (
            &["run", "channel", "--transient", "100ms"],
            &[
                "--transient does not apply to channel",
                "cuba, microcircuit and spiking model files",
            ],
        ),
        (
            &["run", "channel", "--checkpoint", "state.npz"],
            &[
                "--checkpoint does not apply to channel",
                "Simulator::checkpoint",
            ],
        ),
    ];
    for (args, wanted) in cases {
        refused(args, wanted);
    }
}

#[test]
fn model_files_refuse_the_built_in_models_flags() {
    let models = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models");
    let cuba = format!("{models}/cuba.toml");
    let channel = format!("{models}/channel.toml");
    refused(
        &["run", &cuba, "--neurons", "100"],
        &[
            "--neurons does not apply to a spiking model file",
            "--scale",
        ],
    );
    refused(
        &["run", &cuba, "--thalamus"],
        &["--thalamus does not apply to a spiking model file"],
    );
    refused(
        &["run", &channel, "--scale", "0.5"],
        &[
            "--scale does not apply to a NEF model file",
            "sets its own sizes",
        ],
    );
    refused(
        &["run", &channel, "--check"],
        &["--check does not apply to a NEF model file"],
    );
}

#[test]
fn durations_must_be_positive_and_say_how_to_write_one() {
    for value in ["0", "0s", "-1s", "-250ms", "-1"] {
        let stderr = refused(
            &["run", "cuba", "--duration", value],
            &["--duration", "must be positive", "1s", "250ms"],
        );
        // A leading minus is a value here, not a flag clap does not know.
        assert!(!stderr.contains("unexpected argument"), "{value}: {stderr}");
    }
    refused(
        &["run", "cuba", "--transient", "-0.1"],
        &["--transient", "must be zero or positive"],
    );
    refused(
        &[
            "run",
            "cuba",
            "--checkpoint",
            "x.npz",
            "--checkpoint-every",
            "0",
        ],
        &["--checkpoint-every", "must be positive"],
    );
    refused(
        &["run", "microcircuit", "--scale", "-0.1"],
        &["--scale", "must be a positive number"],
    );
    refused(
        &["run", "microcircuit", "--scale", "0"],
        &["--scale", "must be a positive number"],
    );
    refused(&["run", "cuba", "--neurons", "0"], &["--neurons"]);
}

#[test]
fn a_default_transient_longer_than_the_run_says_which_flag_to_change() {
    refused(
        &[
            "run",
            "microcircuit",
            "--scale",
            "0.01",
            "--duration",
            "50ms",
            "--backend",
            "cpu",
        ],
        &["the default --transient (0.1 s", "--transient 0"],
    );
}

#[test]
fn unwritable_outputs_fail_at_once_naming_the_path_and_the_reason() {
    let dir = scratch("args-unwritable", &BackendChoice::Cpu);
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    // Under a regular file nothing can be created, whoever runs the test.
    let under = file.join("sub");
    let under = under.to_str().unwrap();
    // Long enough that a run which only failed at its end would take minutes.
    let long = ["run", "cuba", "--backend", "cpu", "--duration", "200s"];
    for (flag, wanted) in [
        ("--out", "cannot create the directory"),
        ("--checkpoint", "cannot write the file"),
    ] {
        let t0 = Instant::now();
        let args: Vec<&str> = long.iter().copied().chain([flag, under]).collect();
        let stderr = refused(&args, &[flag, under, wanted, "Not a directory"]);
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{flag} failed only after {:?}: {stderr}",
            t0.elapsed()
        );
    }
    refused(
        &["run", "cuba", "--checkpoint", dir.to_str().unwrap()],
        &["--checkpoint", "is a directory"],
    );
    // The check leaves no file behind where the checkpoint would go.
    let fresh = dir.join("fresh.npz");
    let out = lamina(&[
        "run",
        "cuba",
        "--backend",
        "cpu",
        "--neurons",
        "100",
        "--duration",
        "5ms",
        "--checkpoint",
        fresh.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fresh.is_file(), "the run writes its checkpoint");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_model_is_named_once_without_a_model_error_prefix() {
    let stderr = refused(
        &["run", "nosuchmodel"],
        &["no built-in model `nosuchmodel`"],
    );
    assert!(!stderr.contains("invalid model"), "{stderr}");
}

#[test]
fn a_bad_projection_table_row_is_reported_with_one_prefix() {
    let dir = scratch("args-table-row", &BackendChoice::Cpu);
    let models = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/models");
    std::fs::copy(format!("{models}/layers.toml"), dir.join("layers.toml")).unwrap();
    let table = std::fs::read_to_string(format!("{models}/layers.csv")).unwrap();
    // A negative weight spread in the second row of data.
    let table = table.replacen("-351.2 35.12", "-351.2 -35.12", 1);
    std::fs::write(dir.join("layers.csv"), table).unwrap();
    let model = dir.join("layers.toml");
    let stderr = refused(
        &["run", model.to_str().unwrap(), "--backend", "cpu"],
        &["row 3 of layers.csv"],
    );
    assert_eq!(stderr.matches("invalid model:").count(), 1, "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Started by mpirun as one of several processes, a lamina built without the `mpi` feature
/// refuses to run (each process would run the whole network alone) and says how to build one
/// that can; a lamina with it refuses a NEF model and `bench` on several processes.
#[test]
fn several_processes_without_mpi_are_refused_with_the_build_line() {
    let as_rank_of_two = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_lamina"))
            .args(args)
            .env("OMPI_COMM_WORLD_RANK", "1")
            .env("OMPI_COMM_WORLD_SIZE", "2")
            .output()
            .expect("lamina runs")
    };
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    #[cfg(not(feature = "mpi"))]
    {
        let out = as_rank_of_two(&["run", "cuba", "--duration", "0.01s", "--backend", "cpu"]);
        assert!(!out.status.success());
        let e = stderr(&out);
        assert!(
            e.contains("one of 2 processes") && e.contains("--features mpi"),
            "{e}"
        );
    }
    let out = as_rank_of_two(&["run", "channel", "--duration", "0.01s"]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(e.contains("cannot run on several processes"), "{e}");
    let out = as_rank_of_two(&["bench", "cuba", "--repeat", "1"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot run on several processes"),
        "{}",
        stderr(&out)
    );
}
