//! Model files: every shipped file builds and runs, the shipped files equal the built-in
//! models bit for bit, files round-trip through TOML, and malformed files name line and key.

mod common;
use lamina::builtin::{channel, cuba, microcircuit};
use lamina::model::file::{import_csv, Model, ModelFile, RuleSpec};
use lamina::prelude::*;
use std::path::{Path, PathBuf};

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/models")
        .join(name)
}

fn load(name: &str) -> ModelFile {
    ModelFile::from_path(&shipped(name)).expect("the shipped file parses")
}

fn spiking(file: &ModelFile) -> lamina::model::file::SpikingModel {
    match file.build().expect("the file builds") {
        Model::Spiking(m) => m,
        Model::Nef(_) => panic!("a spiking model"),
    }
}

fn nef(file: &ModelFile) -> lamina::model::file::NefModel {
    match file.build().expect("the file builds") {
        Model::Nef(m) => m,
        Model::Spiking(_) => panic!("a NEF model"),
    }
}

/// The spikes of every probe of a spiking model file after `seconds`.
fn spikes_of(file: &ModelFile, backend: &BackendChoice, seconds: f64) -> Vec<SpikeTrains> {
    let m = spiking(file);
    let mut sim = Simulator::new(&m.network, backend.clone()).unwrap();
    sim.run(seconds).unwrap();
    m.spike_probes
        .iter()
        .map(|p| sim.spikes(&p.probe).unwrap().clone())
        .collect()
}

/// A model file's text with `from` replaced by `to`, parsed as if it were `name`.
fn edited(name: &str, from: &str, to: &str) -> lamina::Result<Model> {
    let text = std::fs::read_to_string(shipped(name)).unwrap();
    assert!(text.contains(from), "`{from}` is in {name}");
    ModelFile::parse(&text.replacen(from, to, 1), &shipped(name))?.build()
}

/// The error of a broken file, which must name `file:line:` and contain every part.
#[track_caller]
fn assert_refused(result: lamina::Result<Model>, line: usize, parts: &[&str]) {
    let err = match result {
        Ok(_) => panic!("the broken file was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(&format!(".toml:{line}:")),
        "line {line} not named in: {err}"
    );
    for part in parts {
        assert!(err.contains(part), "`{part}` not in: {err}");
    }
}

on_every_backend! {
    fn cuba_toml_is_the_built_in_cuba(backend: BackendChoice) {
        let from_file = spikes_of(&load("cuba.toml"), &backend, 0.1);
        let built = cuba::build(4000, 1)?;
        let mut sim = Simulator::new(&built.network, backend.clone())?;
        sim.run(0.1)?;
        assert!(!from_file[0].steps.is_empty(), "the network spikes");
        common::assert_same_spikes("excitatory", &from_file[0], sim.spikes(&built.exc_spikes)?);
        common::assert_same_spikes("inhibitory", &from_file[1], sim.spikes(&built.inh_spikes)?);
        Ok(())
    }

    fn microcircuit_toml_is_the_built_in_microcircuit_at_any_scale(backend: BackendChoice) {
        let file = load("microcircuit.toml").with_scale(0.02);
        let m = spiking(&file);
        let built = microcircuit::build(0.02, 1, false)?;
        assert_eq!(
            lamina::lower::build(&m.network)?.synapse_count(),
            lamina::lower::build(&built.network)?.synapse_count()
        );
        assert_eq!(m.run.reference_rates.as_ref().unwrap().1, built.params.rates_nest_2016);
        let from_file = spikes_of(&file, &backend, 0.05);
        let mut sim = Simulator::new(&built.network, backend.clone())?;
        sim.run(0.05)?;
        for (k, probe) in built.spikes.iter().enumerate() {
            common::assert_same_spikes(&built.params.populations[k], &from_file[k], sim.spikes(probe)?);
        }
        Ok(())
    }

    fn channel_toml_is_the_built_in_channel(backend: BackendChoice) {
        let m = nef(&load("channel.toml"));
        let mut from_file = Simulator::new(&m.network, backend.clone())?;
        from_file.run(0.3)?;
        let built = channel::build(1000, 1, 1)?;
        let mut sim = Simulator::new(&built.network, backend.clone())?;
        sim.run(0.3)?;
        let (a, b) = (from_file.data(m.probes[1].probe)?, sim.data(built.post)?);
        assert!(a.iter().any(|&x| x != 0.0), "post moves");
        assert_eq!(a, b, "post, from the file and built in");
        Ok(())
    }

    fn every_shipped_file_runs_and_round_trips(backend: BackendChoice) {
        let dir = shipped("");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        names.sort();
        assert!(names.len() >= 4, "{names:?}");
        for name in names {
            let file = load(&name).with_scale(0.02);
            let again = ModelFile::parse(&file.to_toml()?, file.path())?;
            assert_eq!(again, file, "{name} round-trips through TOML");
            match file.build()? {
                Model::Spiking(_) => {
                    let (a, b) = (spikes_of(&file, &backend, 0.05), spikes_of(&again, &backend, 0.05));
                    assert!(a.iter().any(|t| !t.steps.is_empty()), "{name} spikes");
                    for (x, y) in a.iter().zip(&b) {
                        common::assert_same_spikes(&name, x, y);
                    }
                }
                Model::Nef(m) => {
                    let mut sim = Simulator::new(&m.network, backend.clone())?;
                    sim.run(0.05)?;
                    assert_eq!(sim.data(m.probes[0].probe)?.nrows(), 50, "{name}");
                }
            }
        }
        Ok(())
    }

    fn per_neuron_arrays_in_a_file_give_the_networks_spikes_from_the_api(backend: BackendChoice) {
        let dir = common::scratch("arrays", &backend);
        let n = 30usize;
        let v_th: Vec<f64> = (0..n).map(|i| -56.0 + 0.2 * i as f64).collect();
        let tau_m: Vec<f64> = (0..n).map(|i| 8.0 + 0.5 * i as f64).collect();
        let t_ref: Vec<f64> = (0..n).map(|i| 1.0 + 0.1 * (i % 7) as f64).collect();
        let v0: Vec<f64> = (0..n).map(|i| -70.0 + 0.4 * i as f64).collect();
        let drive: Vec<f32> = (0..10).map(|i| 20.0 * i as f32).collect();
        let mut csv = String::from("neuron, v_th, tau_m\n");
        for i in 0..n {
            csv += &format!("{i}, {}, {}\n", v_th[i], tau_m[i]);
        }
        std::fs::write(dir.join("neurons.csv"), csv).unwrap();
        ndarray_npy::write_npy(dir.join("v0.npy"), &ndarray::Array1::from(v0.clone())).unwrap();
        // float32, as numpy often writes them.
        ndarray_npy::write_npy(dir.join("drive.npy"), &ndarray::Array1::from(drive.clone())).unwrap();
        let list = |v: &[f64]| format!("{v:?}");
        let text = format!(
            r#"
[network]
seed = 5

[[population]]
name = "exc"
size = {n}
v_th_mv = {{ file = "neurons.csv", column = "v_th" }}
tau_m_ms = {{ file = "neurons.csv", column = "tau_m" }}
t_ref_ms = {t_ref}
v_init_mv = {{ file = "v0.npy" }}

[[projection]]
source = "exc"
target = "exc"
rule = {{ fixed_in_degree = 5 }}
weight = 30.0
delay = 1.0

[[poisson]]
target = "exc"
in_degree = 150
rate_hz = 20.0
weight_pa = 60.0

[[current]]
target = "exc[10:20]"
amplitude_pa = {{ file = "drive.npy" }}
"#,
            t_ref = list(&t_ref)
        );
        let path = dir.join("arrays.toml");
        std::fs::write(&path, &text).unwrap();
        let file = ModelFile::from_path(&path)?;
        let from_file = spikes_of(&file, &backend, 0.2);
        // The text the file writes back reads as the same model.
        let again = ModelFile::parse(&file.to_toml()?, &path)?;
        assert_eq!(again, file);

        let mut net = Network::new().with_seed(5);
        let exc = net.population("exc", n as u32, LifCurrent::default())?;
        net.parameter_each(exc, "v_th_mv", &v_th)?;
        net.parameter_each(exc, "tau_m_ms", &tau_m)?;
        net.parameter_each(exc, "t_ref_ms", &t_ref)?;
        net.initial_state(exc, "v", &v0)?;
        net.connect(exc, exc, Connectivity::FixedInDegree(5), 30.0, 1.0)?;
        net.poisson(exc, PoissonInput { in_degree: 150, rate_hz: 20.0, weight_pa: 60.0 })?;
        let drive: Vec<f64> = drive.iter().map(|&x| x as f64).collect();
        net.current_each(exc.slice(10..20), &drive)?;
        let probe = net.probe_spikes(exc)?;
        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run(0.2)?;
        assert!(from_file[0].steps.len() > 20, "the network spikes");
        common::assert_same_spikes("exc", &from_file[0], sim.spikes(&probe)?);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    fn stdp_in_a_file_learns_the_weights_the_api_learns(backend: BackendChoice) {
        let times: Vec<Vec<f64>> = (0..8)
            .map(|i| (0..30).map(|k| 1.0 + 6.1 * k as f64 + 0.7 * i as f64).collect())
            .collect();
        let text = format!(
            r#"
[network]
seed = 2

[[population]]
name = "pre"
neuron = "spike_source"
times_ms = {times:?}

[[population]]
name = "post"
size = 3
i_e_pa = 330.0
v_init_mv = -65.0

[[projection]]
source = "pre"
target = "post"
rule = "all_to_all"
weight = {{ uniform = [10.0, 50.0] }}
delay = {{ uniform = [0.5, 3.0] }}
stdp = {{ tau_pre_ms = 15.0, tau_post_ms = 25.0, a_plus_pa = 4.0, a_minus_pa = -4.5, w_min_pa = 0.0, w_max_pa = 80.0 }}
"#
        );
        let file = ModelFile::parse(&text, Path::new("stdp.toml"))?;
        assert_eq!(ModelFile::parse(&file.to_toml()?, Path::new("stdp.toml"))?, file);
        let m = spiking(&file);
        let projection = m.projections[0].expect("the projection was made");
        let mut sim = Simulator::new(&m.network, backend.clone())?;
        sim.run(0.2)?;
        let learned = sim.plastic_weights(projection)?;

        let mut net = Network::new().with_seed(2);
        let pre = net.spike_source("pre", times)?;
        let post = net.population(
            "post",
            3,
            LifCurrent { i_e_pa: 330.0, v_init_mv: Dist::Const(-65.0), ..LifCurrent::default() },
        )?;
        let proj = net.connect(
            pre,
            post,
            Connectivity::AllToAll,
            Dist::uniform(10.0, 50.0),
            Dist::uniform(0.5, 3.0),
        )?;
        net.stdp(proj, Stdp {
            tau_pre_ms: 15.0,
            tau_post_ms: 25.0,
            a_plus_pa: 4.0,
            a_minus_pa: -4.5,
            w_min_pa: 0.0,
            w_max_pa: 80.0,
        })?;
        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run(0.2)?;
        let api = sim.plastic_weights(proj)?;
        assert_eq!(learned.len(), 24);
        let bits = |w: &ndarray::Array1<f32>| w.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&learned), bits(&api), "the same weights, bit for bit");
        let mut fresh = Simulator::new(&net, backend.clone())?;
        assert_ne!(bits(&fresh.plastic_weights(proj)?), bits(&api), "the weights learned");
        Ok(())
    }
}

#[test]
fn malformed_files_name_the_line_and_key() {
    // Syntax: an unclosed table header on the line of `[network]` (line 6).
    assert_refused(edited("cuba.toml", "[network]", "[network"), 6, &[]);
    // An unknown key, at its own line.
    assert_refused(
        edited("cuba.toml", "tau_m_ms = 20.0", "tau_mm = 20.0"),
        17,
        &["unknown field `tau_mm`"],
    );
    // A wrong type.
    assert_refused(
        edited("cuba.toml", "size = 3200", "size = \"many\""),
        16,
        &["size"],
    );
    // An unknown population, at the projection's entry, naming the key.
    assert_refused(
        edited(
            "cuba.toml",
            "source = \"excitatory\"",
            "source = \"excitatry\"",
        ),
        42,
        &["projection[0].source", "no population named `excitatry`"],
    );
    // A negative SD.
    assert_refused(
        edited(
            "microcircuit.toml",
            "weight = { normal = [87.81, 8.781], clip = [0.0, inf] }",
            "weight = { normal = [87.81, -1.0], clip = [0.0, inf] }",
        ),
        127,
        &["projection[0].weight"],
    );
    // A bad expression, and an unknown variable.
    assert_refused(
        edited("channel.toml", "0.8*sin(2*PI*1.0*t)", "0.8*sin(2*PI*"),
        24,
        &["node[0].output"],
    );
    assert_refused(
        edited("channel.toml", "function = [\"0\"]", "function = [\"y*2\"]"),
        38,
        &["connection[1].function", "unknown variable `y`"],
    );
    // A PES rule on a connection that does not exist.
    assert_refused(
        edited("channel.toml", "connection = 1", "connection = 9"),
        54,
        &["pes[0].connection", "no connection 9"],
    );
}

#[test]
fn bad_csv_rows_name_the_file_row_and_column() {
    let dir = std::env::temp_dir().join(format!("lamina-test-{}-csv", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = std::fs::read_to_string(shipped("layers.toml")).unwrap();
    std::fs::write(dir.join("layers.toml"), &model).unwrap();
    let table = std::fs::read_to_string(shipped("layers.csv")).unwrap();
    std::fs::write(
        dir.join("layers.csv"),
        table.replacen("0.08 87.8", "0.08 heavy", 1),
    )
    .unwrap();
    let err = ModelFile::from_path(&dir.join("layers.toml"))
        .unwrap()
        .build()
        .err()
        .expect("refused")
        .to_string();
    for part in [
        "layers.csv:4",
        "column `weight`",
        "`heavy` is not a number",
        "projection_table[0]",
    ] {
        assert!(err.contains(part), "`{part}` not in: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_csv_table_imports_as_projections() {
    let file = load("layers.toml");
    let projections = import_csv(&shipped("layers.csv"), &file).unwrap();
    assert_eq!(projections.len(), 10);
    let first = &projections[0];
    assert_eq!(
        (first.source.as_str(), first.target.as_str()),
        ("L4E", "L4E")
    );
    // PD14's convention: N = ln(1 - p) / ln(1 - 1 / (n_pre n_post)), truncated as the seed's
    // script does.
    let expected = ((-0.05f64).ln_1p() / (-1.0 / (2000.0 * 2000.0f64)).ln_1p()) as u64;
    assert_eq!(first.rule, RuleSpec::FixedTotalNumber(expected));
    assert!((199_000..=206_000).contains(&expected), "{expected}");
    // The table's model builds as if those projections were written out.
    let m = spiking(&file);
    assert_eq!(m.spike_probes.len(), 4, "every population is recorded");
}
