//! Shared test helpers: write a test once, run it on every backend.
#![allow(dead_code)]

use lamina::exec::gpu;
use lamina::prelude::*;

/// The GPU backend if an adapter exists. Without one the test is skipped with a message, unless
/// `LAMINA_REQUIRE_GPU=1`, where it fails: CI sets it so a missing driver cannot hide.
pub fn gpu_or_skip() -> Option<BackendChoice> {
    let opts = GpuOptions::from_env();
    let found = gpu::adapters(opts.api.as_deref()).unwrap_or_default();
    if found.is_empty() {
        if std::env::var("LAMINA_REQUIRE_GPU").is_ok_and(|v| v == "1") {
            panic!(
                "LAMINA_REQUIRE_GPU=1 but no GPU adapter was found (LAMINA_BACKEND={:?})",
                opts.api
            );
        }
        eprintln!("skipped: no GPU adapter (set LAMINA_REQUIRE_GPU=1 to make this a failure)");
        return None;
    }
    Some(BackendChoice::Gpu(opts))
}

/// Stamps each test once per backend: `mod cpu { #[test] fn name() }` and `mod gpu { ... }`.
#[macro_export]
macro_rules! on_every_backend {
    ($(fn $name:ident($backend:ident: BackendChoice) $body:block)*) => {
        mod cpu {
            use super::*;
            $(
                #[test]
                fn $name() -> lamina::Result<()> {
                    let $backend = BackendChoice::Cpu;
                    $body
                }
            )*
        }
        mod gpu {
            use super::*;
            $(
                #[test]
                fn $name() -> lamina::Result<()> {
                    let Some($backend) = common::gpu_or_skip() else { return Ok(()) };
                    $body
                }
            )*
        }
    };
}

/// "cpu" or "gpu": which backend a test runs on, for names and command lines.
pub fn backend_name(backend: &BackendChoice) -> &'static str {
    match backend {
        BackendChoice::Cpu => "cpu",
        _ => "gpu",
    }
}

/// A fresh, empty temporary directory for one test on one backend (tests run concurrently).
pub fn scratch(test: &str, backend: &BackendChoice) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "lamina-test-{}-{test}-{}",
        std::process::id(),
        backend_name(backend)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// Compares two slices exactly, naming the first index where they differ.
#[track_caller]
pub fn assert_same<T: PartialEq + std::fmt::Debug>(what: &str, a: &[T], b: &[T]) {
    if let Some(i) = a.iter().zip(b).position(|(x, y)| x != y) {
        panic!("{what} differ first at index {i}: {:?} vs {:?}", a[i], b[i]);
    }
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
}

/// Compares spike trains exactly.
#[track_caller]
pub fn assert_same_spikes(what: &str, a: &SpikeTrains, b: &SpikeTrains) {
    assert_same(&format!("{what}: spike steps"), &a.steps, &b.steps);
    assert_same(&format!("{what}: spiking neurons"), &a.neurons, &b.neurons);
}

/// A 1,000-neuron recurrent network with drawn delays up to 5 ms, Poisson background, a
/// constant current into part of it, and a spike source.
/// The network, its probes, and its populations (exc, inh).
pub type Recurrent = (Network, SpikeProbe, StateProbe, [PopulationId; 2]);

pub fn recurrent(seed: u64) -> Result<Recurrent> {
    let mut net = Network::new().with_seed(seed);
    let lif = LifCurrent {
        tau_m_ms: 20.0,
        c_m_pf: 250.0,
        e_l_mv: -65.0,
        v_reset_mv: -65.0,
        v_th_mv: -50.0,
        t_ref_ms: 2.0,
        tau_syn_ex_ms: 0.5,
        tau_syn_in_ms: 0.5,
        i_e_pa: 0.0,
        v_init_mv: Dist::normal(-58.0, 5.0).clipped(-80.0, -50.5),
    };
    let exc = net.population("exc", 800, lif.clone())?;
    let inh = net.population("inh", 200, lif)?;
    let delay = Dist::normal(1.5, 0.75).clipped(0.1, 5.0);
    let w_exc = Dist::normal(87.8, 8.8).clipped(0.0, f64::INFINITY);
    let w_inh = Dist::normal(-351.2, 35.1).clipped(f64::NEG_INFINITY, 0.0);
    for target in [exc, inh] {
        net.connect(
            exc,
            target,
            Connectivity::FixedProbability(0.1),
            w_exc.clone(),
            delay.clone(),
        )?;
        net.connect(
            inh,
            target,
            Connectivity::FixedInDegree(20),
            w_inh.clone(),
            delay.clone(),
        )?;
        net.poisson(
            target,
            PoissonInput {
                in_degree: 1800,
                rate_hz: 8.0,
                weight_pa: 87.8,
            },
        )?;
    }
    net.current(exc.slice(0..100), 50.0)?;
    let stim = net.spike_source(
        "stim",
        (0..10).map(|i| vec![5.0 + i as f64, 20.0]).collect(),
    )?;
    net.connect(
        stim,
        exc.slice(100..200),
        Connectivity::AllToAll,
        200.0,
        1.0,
    )?;
    let spikes = net.probe_spikes(exc)?;
    let state = net.probe_state(inh.slice(0..20), 0.3)?;
    Ok((net, spikes, state, [exc, inh]))
}

/// The pair-based STDP rule the plasticity tests share: 15 and 25 ms traces, potentiation 4 pA,
/// depression 4.5 pA, weights in [0, 80] pA.
pub fn pair_stdp() -> Stdp {
    Stdp {
        tau_pre_ms: 15.0,
        tau_post_ms: 25.0,
        a_plus_pa: 4.0,
        a_minus_pa: -4.5,
        w_min_pa: 0.0,
        w_max_pa: 80.0,
    }
}
