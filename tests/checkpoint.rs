//! Checkpoint and resume: a run written to disk at any step and resumed in a fresh simulator
//! (on the same backend or the other one) continues bit for bit as if it had never stopped.

mod common;
use common::{assert_same, assert_same_spikes, backend_name, recurrent, scratch};
use lamina::prelude::*;

/// Spikes and every recorded state value of two simulators of `recurrent`'s network are the
/// same bits.
fn assert_same_run(what: &str, a: &Simulator, b: &Simulator, probes: (&SpikeProbe, &StateProbe)) {
    assert_eq!(a.n_steps(), b.n_steps(), "{what}: steps");
    assert_same_spikes(
        what,
        a.spikes(probes.0).unwrap(),
        b.spikes(probes.0).unwrap(),
    );
    for var in [StateVar::V, StateVar::ISynEx, StateVar::ISynIn] {
        let bits = |s: &Simulator| -> Vec<u32> {
            s.state(probes.1, var)
                .unwrap()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };
        assert_same(&format!("{what}: {var:?}"), &bits(a), &bits(b));
    }
}

on_every_backend! {
    fn a_network_with_per_neuron_arrays_resumes_and_a_changed_array_is_named(backend: BackendChoice) {
        let (mut net, spikes, state, [exc, inh]) = recurrent(11)?;
        let v_th: Vec<f64> = (0..800).map(|i| -52.0 + 0.005 * i as f64).collect();
        let t_ref: Vec<f64> = (0..200).map(|i| 1.0 + 0.01 * i as f64).collect();
        let drive: Vec<f64> = (0..100).map(|i| i as f64).collect();
        net.parameter_each(exc, "v_th_mv", &v_th)?;
        net.parameter_each(inh, "t_ref_ms", &t_ref)?;
        net.current_each(exc.slice(0..100), &drive)?;
        net.initial_state(inh.slice(0..2), "v", &[-51.0, -60.0])?;
        let dir = scratch("arrays", &backend);
        let path = dir.join("run.npz");
        let mut whole = Simulator::new(&net, backend.clone())?;
        whole.run_steps(1500)?;
        let mut first = Simulator::new(&net, backend.clone())?;
        first.run_steps(777)?;
        first.checkpoint(&path)?;
        let mut resumed = Simulator::resume(&net, backend.clone(), &path)?;
        resumed.run_steps(1500 - 777)?;
        assert_same_run("resumed with arrays", &whole, &resumed, (&spikes, &state));
        assert!(!whole.spikes(&spikes)?.steps.is_empty(), "the network is silent");

        // One threshold changed: refused, and the message names the array and the neuron.
        let mut changed = net.clone();
        changed.parameter_each(exc.slice(5..6), "v_th_mv", &[-49.0])?;
        let err = Simulator::resume(&changed, backend.clone(), &path).map(|_| ()).unwrap_err();
        let err = err.to_string();
        assert!(
            err.contains(
                "the per-neuron v_th_mv of population `exc` differs from the checkpoint's \
                 (neuron 5: -49 here, -51.975 in the checkpoint)"
            ),
            "{err}"
        );
        // An array the checkpoint's network did not have is named too.
        let mut more = net.clone();
        more.parameter_each(inh, "tau_m_ms", &[21.0; 200])?;
        let err = Simulator::resume(&more, backend.clone(), &path).map(|_| ()).unwrap_err();
        assert!(
            err.to_string().contains("population `inh` has a per-neuron tau_m_ms"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }

    fn a_resumed_run_equals_an_uninterrupted_one(backend: BackendChoice) {
        let (net, spikes, state, _) = recurrent(11)?;
        let dir = scratch("resume", &backend);
        let path = dir.join("run.npz");
        let mut whole = Simulator::new(&net, backend.clone())?;
        whole.run_steps(2500)?;
        // Stop inside a chunk of records (1,000 steps) and between state samples (every 3).
        let mut first = Simulator::new(&net, backend.clone())?;
        first.run_steps(1234)?;
        first.checkpoint(&path)?;
        drop(first);
        let mut resumed = Simulator::resume(&net, backend.clone(), &path)?;
        assert_eq!(resumed.n_steps(), 1234);
        resumed.run_steps(2500 - 1234)?;
        assert_same_run("resumed", &whole, &resumed, (&spikes, &state));
        assert!(!whole.spikes(&spikes)?.steps.is_empty(), "the network is silent");
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }

    fn checkpoints_move_between_backends(backend: BackendChoice) {
        let (net, spikes, state, _) = recurrent(11)?;
        let dir = scratch("cross", &backend);
        let mut whole = Simulator::new(&net, BackendChoice::Cpu)?;
        whole.run_steps(1500)?;
        for (from, to) in [(backend.clone(), BackendChoice::Cpu), (BackendChoice::Cpu, backend.clone())] {
            let path = dir.join(format!("{}-to-{}.npz", backend_name(&from), backend_name(&to)));
            let mut first = Simulator::new(&net, from)?;
            first.run_steps(777)?;
            first.checkpoint(&path)?;
            let mut resumed = Simulator::resume(&net, to, &path)?;
            resumed.run_steps(1500 - 777)?;
            assert_same_run("across backends", &whole, &resumed, (&spikes, &state));
        }
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }

    fn ablations_and_cut_synapses_are_part_of_the_checkpoint(backend: BackendChoice) {
        let (net, spikes, state, [exc, inh]) = recurrent(11)?;
        let dir = scratch("interventions", &backend);
        let path = dir.join("run.npz");
        let intervene = |sim: &mut Simulator| -> Result<()> {
            sim.run_steps(300)?;
            sim.ablate(exc, &(0..50).collect::<Vec<_>>())?;
            let cut = sim.lesion(inh, exc.slice(0..400))?;
            assert!(cut > 1000, "only {cut} synapses cut");
            sim.run_steps(600)
        };
        let mut whole = Simulator::new(&net, backend.clone())?;
        intervene(&mut whole)?;
        whole.checkpoint(&path)?;
        whole.run_steps(600)?;
        let mut resumed = Simulator::resume(&net, backend.clone(), &path)?;
        assert_eq!(
            resumed.synapses(inh, exc.slice(0..400))?,
            whole.synapses(inh, exc.slice(0..400))?,
            "the cut synapses as read back"
        );
        resumed.run_steps(600)?;
        assert_same_run("with interventions", &whole, &resumed, (&spikes, &state));
        // Ablated neurons stayed silent after the resume.
        let late = |s: &Simulator| -> Vec<u32> {
            let t = s.spikes(&spikes).unwrap();
            t.steps.iter().zip(&t.neurons).filter(|(&st, &n)| st >= 301 && n < 50).map(|(_, &n)| n).collect()
        };
        assert!(late(&resumed).is_empty(), "ablated neurons spiked: {:?}", late(&resumed));
        // Healing after the resume gives back the weights the checkpoint's cuts took.
        for sim in [&mut whole, &mut resumed] {
            sim.restore_synapses()?;
            sim.restore(exc, &(0..50).collect::<Vec<_>>())?;
            sim.run_steps(400)?;
        }
        assert_same_run("healed after resuming", &whole, &resumed, (&spikes, &state));
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }

    fn a_checkpoint_of_another_network_or_a_bad_file_is_refused(backend: BackendChoice) {
        let (net, spikes, state, _) = recurrent(11)?;
        let (other, ..) = recurrent(12)?;
        let dir = scratch("refused", &backend);
        let theirs = dir.join("other.npz");
        let mut sim = Simulator::new(&other, BackendChoice::Cpu)?;
        sim.run_steps(100)?;
        sim.checkpoint(&theirs)?;

        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run_steps(200)?;
        let err = sim.load_checkpoint(&theirs).unwrap_err().to_string();
        assert!(err.contains("written with seed 12; this network has seed 11"), "{err}");
        // Another network with the same seed: the counts tell them apart.
        let mut small = Network::new().with_seed(11);
        let pop = small.population("pop", 10, LifCurrent::default())?;
        small.connect(pop, pop, Connectivity::FixedInDegree(2), 50.0, 1.0)?;
        let mut sim_small = Simulator::new(&small, backend.clone())?;
        let err = sim_small.load_checkpoint(&theirs_same_seed(&dir, &net)?).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("another network") && err.contains("neurons"), "{err}");
        // Another seed with the same sizes: only the hash tells them apart.
        let same_sizes = |seed| -> Result<Network> {
            let mut net = Network::new().with_seed(seed);
            let pop = net.population("pop", 50, LifCurrent::default())?;
            net.connect(pop, pop, Connectivity::FixedInDegree(5), 50.0, 1.0)?;
            Ok(net)
        };
        let seed1 = dir.join("seed1.npz");
        Simulator::new(&same_sizes(1)?, BackendChoice::Cpu)?.checkpoint(&seed1)?;
        let mut seed2 = Simulator::new(&same_sizes(2)?, backend.clone())?;
        let err = seed2.load_checkpoint(&seed1).unwrap_err().to_string();
        assert!(
            err.contains("written with seed 1; this network has seed 2")
                && err.contains("--seed 1"),
            "{err}"
        );

        let missing = dir.join("missing.npz");
        let err = sim.load_checkpoint(&missing).unwrap_err().to_string();
        assert!(err.contains("missing.npz"), "{err}");

        let not_npz = dir.join("notes.npz");
        std::fs::write(&not_npz, "not a zip archive").unwrap();
        let err = sim.load_checkpoint(&not_npz).unwrap_err().to_string();
        assert!(err.contains("not an .npz file"), "{err}");

        // A NEF state file, or any npz, is not a checkpoint.
        let foreign = dir.join("foreign.npz");
        write_npz(&foreign, |w| w.add_array("x", &ndarray::arr1(&[1.0f32])).unwrap());
        let err = sim.load_checkpoint(&foreign).unwrap_err().to_string();
        assert!(err.contains("not a checkpoint") && err.contains("lamina_checkpoint"), "{err}");

        // Right network, one array of the wrong shape: refused, naming it and both shapes.
        let ours = dir.join("ours.npz");
        sim.checkpoint(&ours)?;
        let bad = dir.join("bad.npz");
        copy_npz_with(&ours, &bad, "v", ndarray::Array1::<f32>::zeros(7).into_dyn());
        let err = sim.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(err.contains("`v`") && err.contains("(7,)") && err.contains("(1010,)"), "{err}");

        // None of it changed the simulator: it goes on exactly as an undisturbed one.
        sim.run_steps(300)?;
        let mut fresh = Simulator::new(&net, backend.clone())?;
        fresh.run_steps(500)?;
        assert_same_run("after refused loads", &fresh, &sim, (&spikes, &state));
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }

    fn a_damaged_or_edited_checkpoint_is_refused_saying_what_is_wrong(backend: BackendChoice) {
        let (net, ..) = recurrent(11)?;
        let dir = scratch("damaged", &backend);
        let ours = dir.join("ours.npz");
        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run_steps(150)?;
        sim.checkpoint(&ours)?;
        let n = sim.plan().neuron_count() as usize;
        let bad = dir.join("bad.npz");

        let mut v = sim.plan().v_init.clone();
        v[3] = f32::NAN;
        copy_npz_with(&ours, &bad, "v", ndarray::Array1::from(v).into_dyn());
        let err = sim.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(err.contains("`v` holds NaN at index 3") && err.contains("damaged"), "{err}");

        let mut refractory = vec![0u32; n];
        refractory[n - 1] = 10_000;
        copy_npz_with(&ours, &bad, "refractory", ndarray::Array1::from(refractory).into_dyn());
        let err = sim.load_checkpoint(&bad).unwrap_err().to_string();
        assert!(
            err.contains("`refractory` holds 10000 steps") && err.contains("refractory period"),
            "{err}"
        );

        // The same network with one initial potential edited in its plan after the build: the
        // message names the part that differs, not two hashes.
        let mut edited = lamina::lower::build(&net)?;
        edited.v_init[0] += 1.0;
        let mut other = Simulator::from_plan(std::sync::Arc::new(edited), backend.clone())?;
        let err = other.load_checkpoint(&ours).unwrap_err().to_string();
        assert!(
            err.contains("differs in the neurons' initial state") && !err.contains("hash"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }

    fn corrupted_checkpoints_are_refused_or_loaded_never_a_panic(backend: BackendChoice) {
        // A mutation fuzz of the loader: a valid checkpoint with random bytes overwritten, or
        // cut short, 300 times (fixed seed). Each load returns an error or, where the
        // mutation hit only values (a voltage, a spike time...), loads them; it never panics.
        use rand::{Rng, SeedableRng};
        let mut net = Network::new().with_seed(2);
        let pop = net.population("pop", 30, LifCurrent::default())?;
        net.connect(pop, pop, Connectivity::FixedInDegree(3), 60.0, 1.5)?;
        net.poisson(pop, PoissonInput { in_degree: 200, rate_hz: 10.0, weight_pa: 80.0 })?;
        net.probe_spikes(pop)?;
        net.probe_state(pop.slice(0..2), 1.0)?;
        let dir = scratch("fuzz", &backend);
        let good = dir.join("good.npz");
        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run_steps(150)?;
        sim.checkpoint(&good)?;
        let bytes = std::fs::read(&good).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (mut refused, mut loaded) = (0, 0);
        for case in 0..300 {
            let mut bad = bytes.clone();
            if case % 4 == 0 {
                bad.truncate(rng.random_range(0..bytes.len()));
            } else {
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(0..bad.len());
                    bad[at] = rng.random();
                }
            }
            let path = dir.join("bad.npz");
            std::fs::write(&path, &bad).unwrap();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sim.load_checkpoint(&path)
            }));
            match outcome {
                Ok(Ok(())) => loaded += 1,
                Ok(Err(e)) => {
                    assert!(e.to_string().contains("bad.npz"), "the error names no file: {e}");
                    refused += 1;
                }
                Err(_) => panic!("case {case}: loading a corrupted checkpoint panicked"),
            }
        }
        eprintln!("{refused} refused, {loaded} loaded");
        assert!(refused > 200, "only {refused} of 300 refused ({loaded} loaded)");
        // The simulator still works and takes the good checkpoint back.
        sim.load_checkpoint(&good)?;
        sim.run_steps(50)?;
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }

    fn a_failed_write_leaves_the_last_checkpoint_whole(backend: BackendChoice) {
        let (net, spikes, state, _) = recurrent(11)?;
        let dir = scratch("atomic", &backend);
        let path = dir.join("run.npz");
        let mut sim = Simulator::new(&net, backend.clone())?;
        sim.run_steps(400)?;
        sim.checkpoint(&path)?;
        let before = std::fs::read(&path).unwrap();
        let err = sim.checkpoint(dir.join("no-such-dir").join("run.npz")).unwrap_err().to_string();
        assert!(err.contains("no-such-dir"), "{err}");
        // A directory where the file should go: the write fails at the rename.
        std::fs::create_dir(dir.join("taken.npz")).unwrap();
        assert!(sim.checkpoint(dir.join("taken.npz")).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before, "the last checkpoint changed");
        let names: Vec<String> = std::fs::read_dir(&dir).unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "temporary files left: {names:?}");
        // A write killed midway leaves its temporary file; the next write of the same name
        // removes it once its process is gone, and leaves a live process's alone.
        let dead = dir.join(".run.npz.4294967-0.tmp");
        let live = dir.join(format!(".run.npz.{}-999.tmp", std::process::id()));
        std::fs::write(&dead, "half a checkpoint").unwrap();
        std::fs::write(&live, "being written").unwrap();
        sim.checkpoint(&path)?;
        if std::path::Path::new("/proc/self").exists() {
            assert!(!dead.exists(), "a dead process's temporary file was kept");
        }
        assert!(live.exists(), "a live process's temporary file was removed");
        std::fs::remove_file(&live).unwrap();
        sim.load_checkpoint(&path)?;
        let resumed = Simulator::resume(&net, backend.clone(), &path)?;
        let mut fresh = Simulator::new(&net, backend.clone())?;
        fresh.run_steps(400)?;
        assert_same_run("from the kept checkpoint", &fresh, &resumed, (&spikes, &state));
        std::fs::remove_dir_all(dir).ok();
        Ok(())
    }
}

/// A checkpoint of `net` at step 10, written under `dir`.
fn theirs_same_seed(dir: &std::path::Path, net: &Network) -> Result<std::path::PathBuf> {
    let path = dir.join("same-seed.npz");
    let mut sim = Simulator::new(net, BackendChoice::Cpu)?;
    sim.run_steps(10)?;
    sim.checkpoint(&path)?;
    Ok(path)
}

fn write_npz(
    path: &std::path::Path,
    fill: impl FnOnce(&mut ndarray_npy::NpzWriter<std::fs::File>),
) {
    let mut w = ndarray_npy::NpzWriter::new(std::fs::File::create(path).unwrap());
    fill(&mut w);
    w.finish().unwrap();
}

/// Copies an `.npz`, replacing array `name` (of any type) with `with`.
fn copy_npz_with<T: ndarray_npy::WritableElement>(
    from: &std::path::Path,
    to: &std::path::Path,
    name: &str,
    with: ndarray::ArrayD<T>,
) {
    let mut r = ndarray_npy::NpzReader::new(std::fs::File::open(from).unwrap()).unwrap();
    let names = r.names().unwrap();
    write_npz(to, |w| {
        for n in names {
            let n = n.trim_end_matches(".npy").to_string();
            if n == name {
                w.add_array(&n, &with).unwrap();
                continue;
            }
            macro_rules! copy_as {
                ($($t:ty),*) => {{
                    $(if let Ok(a) = r.by_name::<ndarray::OwnedRepr<$t>, ndarray::IxDyn>(&n) {
                        w.add_array(&n, &a).unwrap();
                        continue;
                    })*
                    panic!("array {n} has an unexpected type");
                }};
            }
            copy_as!(f32, u64, u32, i32);
        }
    });
}
