//! `lamina run --out DIR`: the files are there, numpy-readable, and say what the report says;
//! bad arguments exit non-zero with a message.

mod common;
use common::{backend_name, scratch};
use lamina::prelude::*;
use ndarray_npy::NpzReader;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Output};

fn lamina(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lamina"))
        .args(args)
        .output()
        .expect("the lamina binary runs")
}

/// The JSON report of a successful run, or a panic with its stderr.
fn report(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "lamina failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn npz(path: &Path) -> NpzReader<File> {
    NpzReader::new(File::open(path).expect("the npz exists")).expect("a readable npz")
}

/// A PNG and an SVG of the plot `name`, each non-trivial.
fn assert_plots(dir: &Path, name: &str) {
    let png = std::fs::read(dir.join(format!("{name}.png"))).expect("the PNG exists");
    assert!(png.len() > 1000, "{name}.png has {} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}.png is a PNG");
    let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).expect("the SVG exists");
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{name}.svg");
    // Text is drawn (axis labels), which needs the compiled-in font.
    assert!(svg.contains("time (s)"), "{name}.svg has its axis label");
}

on_every_backend! {
    fn a_spiking_run_writes_its_spikes_plots_and_summary(backend: BackendChoice) {
        let dir = scratch("out-cuba", &backend);
        let out = dir.join("run");
        let json = report(&lamina(&[
            "run", "cuba", "--neurons", "500", "--duration", "0.1s", "--seed", "3",
            "--backend", backend_name(&backend), "--json", "--out", out.to_str().unwrap(),
        ]));
        // summary.json is the printed report.
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary, json);
        let files = json["out"]["files"].as_array().expect("the files are listed");
        for name in ["spikes.npz", "raster.png", "raster.svg", "rates.png", "rates.svg"] {
            assert!(files.iter().any(|f| f == name), "{name} listed in {files:?}");
        }
        // The spikes read back give the report's count and hash.
        let mut spikes = npz(&out.join("spikes.npz"));
        let mut all: Vec<(u64, u32)> = Vec::new();
        let mut offset = 0;
        for (group, size) in [("excitatory", 400), ("inhibitory", 100)] {
            let steps: ndarray::Array1<u64> = spikes.by_name(&format!("{group}.steps")).unwrap();
            let neurons: ndarray::Array1<u32> =
                spikes.by_name(&format!("{group}.neurons")).unwrap();
            let times: ndarray::Array1<f64> =
                spikes.by_name(&format!("{group}.times_s")).unwrap();
            assert_eq!(steps.len(), times.len());
            assert!(neurons.iter().all(|&n| n < size), "{group} neurons in range");
            all.extend(steps.iter().copied().zip(neurons.iter().map(|n| n + offset)));
            offset += size;
        }
        all.sort_unstable();
        assert_eq!(all.len() as u64, json["spikes"].as_u64().unwrap());
        assert!(!all.is_empty(), "the network spikes");
        let merged = SpikeTrains {
            steps: all.iter().map(|p| p.0).collect(),
            times_s: Vec::new(),
            neurons: all.iter().map(|p| p.1).collect(),
        };
        assert_eq!(format!("{:016x}", merged.hash()), json["spike_hash"].as_str().unwrap());
        assert_plots(&out, "raster");
        let rates = std::fs::read_to_string(out.join("rates.svg")).unwrap();
        assert!(rates.contains("rate (Hz)") && rates.contains("inhibitory"), "rates.svg");
        // Each plot says what was run.
        let raster = std::fs::read_to_string(out.join("raster.svg")).unwrap();
        for svg in [&raster, &rates] {
            assert!(svg.contains("cuba: 500 neurons, seed 3, 100 ms"), "title in {svg:.300}");
        }
        assert!(rates.contains("single-neuron rates from 0 ms to 100 ms"), "rates.svg subject");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    fn a_nef_run_writes_its_decoded_values(backend: BackendChoice) {
        let dir = scratch("out-channel", &backend);
        let out = dir.join("run");
        let json = report(&lamina(&[
            "run", "channel", "--neurons", "50", "--duration", "0.2s",
            "--backend", backend_name(&backend), "--json", "--out", out.to_str().unwrap(),
        ]));
        let steps = json["steps"].as_u64().unwrap() as usize;
        assert_eq!(steps, 200);
        let mut probes = npz(&out.join("probes.npz"));
        for name in ["pre", "post"] {
            let t: ndarray::Array1<f64> = probes.by_name(&format!("{name}.t")).unwrap();
            let data: ndarray::Array2<f32> = probes.by_name(&format!("{name}.data")).unwrap();
            assert_eq!(t.len(), steps);
            assert_eq!(data.shape(), &[steps, 1]);
            assert!(data.iter().all(|x| x.is_finite()));
        }
        // `pre` follows the input 0.8 sin(2 pi t) at its peak (t = 0.25 s is past the end:
        // at 0.2 s the input is 0.76), through a 10 ms lowpass.
        let pre: ndarray::Array2<f32> = probes.by_name("pre.data").unwrap();
        let last = pre[[steps - 1, 0]];
        assert!((0.5..1.0).contains(&last), "pre decodes the input, got {last}");
        assert_plots(&out, "probes");
        let probes = std::fs::read_to_string(out.join("probes.svg")).unwrap();
        assert!(probes.contains("50 neurons each, 1 dimension,"), "probes.svg title");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}

#[test]
fn bad_arguments_exit_non_zero_with_a_message() {
    let dir = scratch("out-bad", &BackendChoice::Cpu);
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["run", "nosuchmodel", "--backend", "cpu"],
            "no built-in model `nosuchmodel`",
        ),
        (
            &[
                "run",
                "cuba",
                "--backend",
                "cpu",
                "--duration",
                "5ms",
                "--neurons",
                "50",
                "--out",
                file.to_str().unwrap(),
            ],
            "cannot create the directory",
        ),
        (&["run", "cuba", "--duration", "soon"], "is not a duration"),
        (&["run", "cuba", "--backend", "tpu"], "invalid value 'tpu'"),
        (
            &["run", "channel", "--backend", "cpu", "--check"],
            "--check does not apply to channel",
        ),
    ];
    for (args, expected) in cases {
        let out = lamina(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            stderr.contains(expected),
            "{args:?}: `{expected}` not in: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
