//! Saving and loading NEF simulators (issue 4): a saved state resumes bit for bit on every
//! backend and across backends, weights round trip exactly, and bad files or paths are
//! refused with errors that say what is wrong, leaving nothing half-written.

mod common;

use lamina::prelude::*;
use ndarray::{Array2, ArrayD, IxDyn};
use ndarray_npy::{NpzReader, NpzWriter};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh empty directory for one test (tests of both backends run in one process).
fn scratch(tag: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "lamina_save_load_{}_{}_{tag}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

struct Model {
    net: NefNetwork,
    pre: EnsembleId,
    post: EnsembleId,
    learned: ConnectionId,
    /// pre.neurons() -> post.neurons(), a weight matrix to cut single synapses of.
    direct: ConnectionId,
    probes: Vec<NefProbeId>,
}

/// pre -> post with PES (error = post - pre), a weak pre.neurons() -> post.neurons()
/// connection, spikes of pre, a filtered probe of post, a sampled voltage probe and a probe of
/// the learned weights.
fn model(n_post: usize) -> lamina::Result<Model> {
    let mut net = NefNetwork::new().with_seed(3);
    let stim = net.node("stim", Node::function(1, |t| vec![(5.0 * t).sin()]))?;
    let pre = net.ensemble("pre", Ensemble::new(50, 1))?;
    let post = net.ensemble("post", Ensemble::new(n_post, 1))?;
    let error = net.node("error", Node::passthrough(1))?;
    net.connect(stim, pre, Connection::new())?;
    let learned = net.connect(pre, post, Connection::new().function(1, |_| vec![0.0]))?;
    net.connect(post, error, Connection::new())?;
    net.connect(pre, error, Connection::new().scale(-1.0))?;
    let rule = net.pes(learned, Pes::new(1e-3))?;
    net.connect(error, rule, Connection::new())?;
    let direct = net.connect(
        pre.neurons(),
        post.neurons(),
        Connection::new().transform(Array2::from_shape_fn((n_post, 50), |(i, j)| {
            1e-4 * ((i * 7 + j * 3) % 11) as f64
        })),
    )?;
    let probes = vec![
        net.probe(post, Probe::new().synapse(Synapse::lowpass(0.01)))?,
        net.probe(pre.neurons(), Probe::new())?,
        net.probe_voltage(post, Probe::new().sample_every(0.003))?,
        net.probe_weights(learned, Probe::new().sample_every(0.01))?,
    ];
    Ok(Model {
        net,
        pre,
        post,
        learned,
        direct,
        probes,
    })
}

/// 137 steps, ablate pre neuron 3, 33 steps, cut post neurons 1 and 4 off the learned
/// (factored) connection and a few single synapses of the direct one, 30 steps: where the
/// interrupted runs save.
fn first_half(sim: &mut Simulator, m: &Model) -> lamina::Result<()> {
    sim.run_steps(137)?;
    sim.ablate(m.pre, &[3])?;
    sim.run_steps(33)?;
    sim.lesion_connection(m.learned, Lesion::Post(&[1, 4]))?;
    let n_post = sim.ensemble(m.post)?.n_neurons();
    let mask = Array2::from_shape_fn((n_post, 50), |(i, j)| (i + j) % 9 == 0);
    sim.lesion_connection(m.direct, Lesion::Synapses(&mask))?;
    sim.run_steps(30)
}

/// 100 steps, heal the learned connection (its cut weights come back), 100 steps.
fn second_half(sim: &mut Simulator, m: &Model) -> lamina::Result<()> {
    sim.run_steps(100)?;
    sim.restore_connection(m.learned)?;
    sim.run_steps(100)
}

/// Probe data, signals and learned weights of two simulators are identical.
fn assert_same_run(what: &str, a: &mut Simulator, b: &mut Simulator, m: &Model) {
    assert_eq!(a.n_steps(), b.n_steps(), "{what}: steps");
    for (i, &p) in m.probes.iter().enumerate() {
        let (x, y) = (a.data(p).unwrap(), b.data(p).unwrap());
        assert_eq!(x.dim(), y.dim(), "{what}: probe {i} shape");
        assert!(
            x.iter().any(|&v| v != 0.0),
            "{what}: probe {i} is all zeros"
        );
        common::assert_same(
            &format!("{what}: probe {i}"),
            x.as_slice().unwrap(),
            y.as_slice().unwrap(),
        );
    }
    common::assert_same(
        &format!("{what}: signals"),
        &a.signals().unwrap(),
        &b.signals().unwrap(),
    );
    for c in [m.learned, m.direct] {
        common::assert_same(
            &format!("{what}: weights of {c:?}"),
            a.weights(c).unwrap().as_slice().unwrap(),
            b.weights(c).unwrap().as_slice().unwrap(),
        );
        assert_eq!(
            a.lesion_mask(c).unwrap(),
            b.lesion_mask(c).unwrap(),
            "{what}: lesions"
        );
    }
}

/// Saves at step 200 on `save_on`, loads into a fresh simulator on `load_on`, runs 200 more
/// and compares with an uninterrupted 400-step run on `load_on`.
fn resume_matches(save_on: BackendChoice, load_on: BackendChoice) -> lamina::Result<()> {
    let m = model(50)?;
    let dir = scratch("resume");
    let path = dir.join("state.npz");

    let mut whole = Simulator::new(&m.net, load_on.clone())?;
    first_half(&mut whole, &m)?;
    second_half(&mut whole, &m)?;

    let mut first = Simulator::new(&m.net, save_on)?;
    first_half(&mut first, &m)?;
    first.checkpoint(&path)?;
    drop(first);

    let mut resumed = Simulator::new(&m.net, load_on)?;
    resumed.load_checkpoint(&path)?;
    assert_eq!(resumed.n_steps(), 200);
    assert_eq!(resumed.data(m.probes[0])?.nrows(), 200);
    assert!(resumed.lesion_mask(m.direct)?.is_some());
    second_half(&mut resumed, &m)?;
    assert!(resumed.lesion_mask(m.learned)?.is_none());
    // Spikes of the ablated neuron stay off after loading.
    let spikes = resumed.data(m.probes[1])?;
    assert!(spikes.column(3).iter().skip(137).all(|&v| v == 0.0));
    assert!(spikes.column(3).iter().take(137).any(|&v| v != 0.0));
    assert_same_run("resumed vs uninterrupted", &mut resumed, &mut whole, &m);
    assert_eq!(
        entries(&dir),
        vec!["state.npz"],
        "no temporary files remain"
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

/// Rewrites a state file with one array replaced (or removed, with `None`).
fn tamper<T: ndarray_npy::WritableElement>(
    from: &Path,
    to: &Path,
    name: &str,
    value: Option<ArrayD<T>>,
) {
    let mut r = NpzReader::new(File::open(from).unwrap()).unwrap();
    let mut w = NpzWriter::new(File::create(to).unwrap());
    for n in r.names().unwrap() {
        if n == name {
            if let Some(v) = &value {
                w.add_array(n, v).unwrap();
            }
        } else if let Ok(a) = r.by_name::<_, IxDyn>(&n) {
            let a: ArrayD<f32> = a;
            w.add_array(n, &a).unwrap();
        } else if let Ok(a) = r.by_name::<_, IxDyn>(&n) {
            let a: ArrayD<u64> = a;
            w.add_array(n, &a).unwrap();
        } else {
            let a: ArrayD<bool> = r.by_name(&n).unwrap();
            w.add_array(n, &a).unwrap();
        }
    }
    w.finish().unwrap();
}

on_every_backend! {
    fn a_loaded_state_runs_on_bit_for_bit(backend: BackendChoice) {
        resume_matches(backend.clone(), backend)
    }

    fn a_state_loads_into_a_simulator_that_has_run_and_reset_still_works(backend: BackendChoice) {
        let m = model(50)?;
        let dir = scratch("rerun");
        let path = dir.join("state.npz");
        let mut sim = Simulator::new(&m.net, backend.clone())?;
        first_half(&mut sim, &m)?;
        sim.checkpoint(&path)?;
        second_half(&mut sim, &m)?;
        // Over a simulator with other lesions and ablations: they are replaced.
        let mut other = Simulator::new(&m.net, backend.clone())?;
        other.run_steps(321)?;
        other.lesion_connection(m.learned, Lesion::Pre(&[0, 9]))?;
        other.lesion_connection(m.direct, Lesion::Post(&[2]))?;
        other.ablate(m.post, &[5])?;
        other.load_checkpoint(&path)?;
        second_half(&mut other, &m)?;
        assert_same_run("loaded over a run", &mut other, &mut sim, &m);
        // A state without lesions lifts those in force.
        let mut plain = Simulator::new(&m.net, backend.clone())?;
        plain.run_steps(50)?;
        plain.checkpoint(&path)?;
        plain.run_steps(50)?;
        other.load_checkpoint(&path)?;
        assert_eq!(other.lesion_mask(m.direct)?, None);
        other.run_steps(50)?;
        assert_same_run("lesions lifted", &mut other, &mut plain, &m);
        other.load_checkpoint(dir.join("state.npz"))?;
        // reset() still goes back to the built network, not to the loaded state.
        other.reset()?;
        let mut fresh = Simulator::new(&m.net, BackendChoice::Cpu)?;
        common::assert_same("reset signals", &other.signals()?, &fresh.signals()?);
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }

    fn weights_and_built_parameters_round_trip_exactly(backend: BackendChoice) {
        let m = model(50)?;
        let dir = scratch("weights");
        let path = dir.join("weights.npz");
        let mut sim = Simulator::new(&m.net, backend.clone())?;
        sim.run_steps(300)?;
        let mut bias: Vec<f64> = sim.bias(m.post)?.iter().map(|&b| b as f64).collect();
        bias[7] = 0.1234567890123;
        sim.set_bias(m.post, &bias)?;
        sim.save_weights(&path)?;

        assert_eq!(
            lamina::io::array_names(&path)?,
            ["conn0", "conn1", "conn2", "conn3", "conn4", "conn5"]
                .into_iter()
                .map(String::from)
                .chain((0..2).flat_map(|i| {
                    ["gain", "bias", "encoders"].map(|k| format!("ens{i}.{k}"))
                }))
                .collect::<Vec<_>>()
        );
        let learned = sim.weights(m.learned)?;
        assert!(learned.iter().any(|&w| w != 0.0), "PES changed the weights");
        let loaded = lamina::io::load_array(&path, "conn1")?;
        assert_eq!(loaded.mapv(|x| x as f32), learned);
        for (i, ens) in [m.pre, m.post].into_iter().enumerate() {
            let built = sim.ensemble(ens)?.clone();
            assert_eq!(lamina::io::load_vector(&path, &format!("ens{i}.gain"))?, built.gain);
            assert_eq!(lamina::io::load_array(&path, &format!("ens{i}.encoders"))?, built.encoders);
        }
        // Biases: unchanged ones as built (float64), the changed one as the simulator has it.
        let saved_bias = lamina::io::load_vector(&path, "ens1.bias")?;
        let built = sim.ensemble(m.post)?.bias.clone();
        assert_eq!(saved_bias[0], built[0]);
        assert_eq!(saved_bias[7], 0.1234567890123f64 as f32 as f64);
        let now: Vec<f32> = saved_bias.iter().map(|&b| b as f32).collect();
        assert_eq!(now, sim.bias(m.post)?);

        // Into a fresh simulator of the same network: weights and biases exactly.
        let mut fresh = Simulator::new(&m.net, backend.clone())?;
        fresh.load_weights(&path)?;
        assert_eq!(fresh.weights(m.learned)?, learned);
        assert_eq!(fresh.bias(m.post)?, sim.bias(m.post)?);
        assert_eq!(fresh.n_steps(), 0);

        // As the transform of a neuron connection in another network (seed 001's model 2).
        let mut net2 = NefNetwork::new().with_seed(3);
        let pre = net2.ensemble("pre", Ensemble::new(50, 1))?;
        let post = net2.ensemble("post", Ensemble::new(50, 1))?;
        let c = net2.connect(pre.neurons(), post, Connection::new().transform(loaded * 2.0))?;
        let mut sim2 = Simulator::new(&net2, backend)?;
        assert_eq!(sim2.weights(c)?, learned.mapv(|w| w * 2.0));
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }

    fn files_from_another_network_are_refused_and_change_nothing(backend: BackendChoice) {
        let (small, big) = (model(50)?, model(60)?);
        let dir = scratch("mismatch");
        let (state, weights) = (dir.join("state.npz"), dir.join("weights.npz"));
        let mut sim = Simulator::new(&small.net, backend.clone())?;
        sim.run_steps(50)?;
        sim.checkpoint(&state)?;
        sim.save_weights(&weights)?;

        let mut other = Simulator::new(&big.net, backend.clone())?;
        other.run_steps(20)?;
        let before = (other.signals()?, other.weights(big.learned)?, other.data(big.probes[0])?);
        let e = other.load_checkpoint(&state).unwrap_err().to_string();
        assert!(e.contains("`sig`") && e.contains("state.npz"), "{e}");
        let sizes = |m: &Model| -> lamina::Result<(usize, usize)> {
            let p = Simulator::new(&m.net, BackendChoice::Cpu)?;
            Ok((p.nef_plan().sig.len(), p.nef_plan().w.len()))
        };
        let ((s_small, _), (s_big, _)) = (sizes(&small)?, sizes(&big)?);
        assert!(e.contains(&format!("({s_small},)")) && e.contains(&format!("({s_big},)")), "{e}");
        let e = other.load_weights(&weights).unwrap_err().to_string();
        // conn2 (post -> error) decodes post: 1 x 50 there, 1 x 60 here.
        assert!(e.contains("`conn2`") && e.contains("(1, 50)") && e.contains("(1, 60)"), "{e}");
        // Nothing changed.
        assert_eq!(other.n_steps(), 20);
        common::assert_same("signals", &before.0, &other.signals()?);
        assert_eq!(before.1, other.weights(big.learned)?);
        assert_eq!(before.2, other.data(big.probes[0])?);
        other.run_steps(10)?;

        // A weights file is not a state file, and the reverse.
        let e = sim.load_checkpoint(&weights).unwrap_err().to_string();
        assert!(e.contains("not a state file"), "{e}");
        let e = sim.load_weights(&state).unwrap_err().to_string();
        assert!(e.contains("no array `conn0`") && e.contains("`sig`"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }

    fn tampered_state_files_are_refused_with_the_array_and_shapes(backend: BackendChoice) {
        let m = model(50)?;
        let dir = scratch("tamper");
        let good = dir.join("state.npz");
        let bad = dir.join("bad.npz");
        let mut sim = Simulator::new(&m.net, backend.clone())?;
        sim.run_steps(30)?;
        sim.lesion_connection(m.direct, Lesion::Post(&[0]))?;
        sim.checkpoint(&good)?;
        let mut fresh = Simulator::new(&m.net, backend)?;

        tamper(&good, &bad, "probe2", Some(ArrayD::<f32>::zeros(IxDyn(&[9, 50]))));
        let e = fresh.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(e.contains("`probe2`") && e.contains("(9, 50)") && e.contains("(10, 50)"), "{e}");
        tamper(&good, &bad, "w", None::<ArrayD<f32>>);
        let e = fresh.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(e.contains("no array `w`") && e.contains("`sig`"), "{e}");
        tamper(&good, &bad, "sig", Some(ArrayD::<f32>::zeros(IxDyn(&[3, 4]))));
        let e = fresh.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(e.contains("`sig`") && e.contains("(3, 4)"), "{e}");
        tamper(&good, &bad, "lesion0.mask", Some(ArrayD::from_elem(IxDyn(&[3, 3]), true)));
        let e = fresh.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(e.contains("`lesion0.mask`") && e.contains("(3, 3)") && e.contains("(50, 50)"), "{e}");
        tamper(&good, &bad, "lesions", Some(ArrayD::from_elem(IxDyn(&[1]), 99u64)));
        let e = fresh.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(e.contains("connection 99") && e.contains("has 6"), "{e}");
        tamper(&good, &bad, "lesion0.at", Some(ArrayD::from_elem(IxDyn(&[50]), 0u64)));
        let e = fresh.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(e.contains("`lesion0.at`") && e.contains("outside connection 5"), "{e}");
        assert_eq!(fresh.n_steps(), 0);
        assert_eq!(fresh.data(m.probes[0])?.nrows(), 0);
        assert_eq!(fresh.lesion_mask(m.direct)?, None);

        // A float64 array where float32 is needed.
        let mut r = NpzReader::new(File::open(&good).unwrap()).unwrap();
        let sig: ArrayD<f32> = r.by_name("sig").unwrap();
        let mut w = NpzWriter::new(File::create(&bad).unwrap());
        for n in ["lamina_state", "fingerprint", "steps"] {
            let a: ArrayD<u64> = r.by_name(n).unwrap();
            w.add_array(n, &a).unwrap();
        }
        w.add_array("sig", &sig.mapv(f64::from)).unwrap();
        w.finish().unwrap();
        let e = fresh.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(e.contains("`sig`") && e.contains("f8") && e.contains("float32"), "{e}");
        fresh.load_checkpoint(&good)?;
        assert_eq!(fresh.n_steps(), 30);
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }

    fn bad_paths_are_errors_and_leave_nothing_behind(backend: BackendChoice) {
        let m = model(50)?;
        let dir = scratch("paths");
        let mut sim = Simulator::new(&m.net, backend)?;
        sim.run_steps(10)?;

        // A missing directory: an error, and the directory is not created.
        let missing = dir.join("missing").join("state.npz");
        let e = sim.checkpoint(&missing).unwrap_err().to_string();
        assert!(e.contains("missing") && e.contains("cannot"), "{e}");
        let e = sim.save_weights(&missing).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
        assert!(!dir.join("missing").exists());

        // A directory where the file should go: the rename fails, the temporary file goes.
        std::fs::create_dir(dir.join("taken.npz")).unwrap();
        let e = sim.checkpoint(dir.join("taken.npz")).unwrap_err().to_string();
        assert!(e.contains("taken.npz"), "{e}");
        let e = sim.save_weights(dir.join("taken.npz")).unwrap_err().to_string();
        assert!(e.contains("taken.npz"), "{e}");
        assert_eq!(entries(&dir), vec!["taken.npz"], "no temporary files remain");
        assert!(entries(&dir.join("taken.npz")).is_empty());

        // A read-only directory (root writes anyway: then there is nothing to test).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let ro = dir.join("readonly");
            std::fs::create_dir(&ro).unwrap();
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
            if File::create(ro.join("probe")).is_ok() {
                eprintln!("skipped the read-only directory case: this user writes anyway");
                std::fs::remove_file(ro.join("probe")).unwrap();
            } else {
                let e = sim.checkpoint(ro.join("state.npz")).unwrap_err().to_string();
                assert!(e.contains("readonly"), "{e}");
                assert!(entries(&ro).is_empty());
            }
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        }

        // Reading: a missing file, a directory, a file that is not an .npz.
        let e = sim.load_checkpoint(dir.join("nope.npz")).unwrap_err().to_string();
        assert!(e.contains("nope.npz"), "{e}");
        let e = sim.load_checkpoint(dir.join("taken.npz")).unwrap_err().to_string();
        assert!(e.contains("taken.npz"), "{e}");
        let text = dir.join("notes.txt");
        std::fs::write(&text, "not an npz").unwrap();
        let e = sim.load_checkpoint(&text).unwrap_err().to_string();
        assert!(e.contains("not an .npz"), "{e}");
        let e = lamina::io::load_array(&text, "conn0").unwrap_err().to_string();
        assert!(e.contains("not an .npz"), "{e}");
        assert_eq!(sim.n_steps(), 10);

        // Overwriting a file replaces it whole.
        let path = dir.join("weights.npz");
        sim.save_weights(&path)?;
        sim.save_weights(&path)?;
        let e = lamina::io::load_array(&path, "conn9").unwrap_err().to_string();
        assert!(e.contains("no array `conn9`") && e.contains("`conn0`"), "{e}");
        let e = lamina::io::load_array(&path, "ens0.gain").unwrap_err().to_string();
        assert!(e.contains("(50,)") && e.contains("2-D"), "{e}");
        let e = lamina::io::load_vector(&path, "conn1").unwrap_err().to_string();
        assert!(e.contains("(1, 50)") && e.contains("1-D"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }
}

#[test]
fn a_state_saved_on_the_cpu_resumes_on_the_gpu_bit_for_bit() -> lamina::Result<()> {
    let Some(gpu) = common::gpu_or_skip() else {
        return Ok(());
    };
    resume_matches(BackendChoice::Cpu, gpu)
}

#[test]
fn a_state_saved_on_the_gpu_resumes_on_the_cpu_bit_for_bit() -> lamina::Result<()> {
    let Some(gpu) = common::gpu_or_skip() else {
        return Ok(());
    };
    resume_matches(gpu, BackendChoice::Cpu)
}
