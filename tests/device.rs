//! Device trouble: no adapter, an adapter lost mid-run. Each is an error that says what
//! happened and what to try, never a hang or a panic.

mod common;
use lamina::backend::gpu::GpuBackend;
use lamina::backend::Backend;
use lamina::prelude::*;
use std::sync::Arc;

fn small() -> Network {
    let mut net = Network::new().with_seed(1);
    let pop = net.population("pop", 100, LifCurrent::default()).unwrap();
    net.poisson(
        pop,
        PoissonInput {
            in_degree: 500,
            rate_hz: 10.0,
            weight_pa: 80.0,
        },
    )
    .unwrap();
    net
}

#[test]
fn no_such_adapter_says_what_to_try() {
    // Runs with or without a GPU: no adapter has this name.
    let opts = GpuOptions {
        adapter: Some("no-such-adapter-anywhere".into()),
        ..GpuOptions::from_env()
    };
    let err = Simulator::new(&small(), BackendChoice::Gpu(opts))
        .err()
        .expect("refused");
    assert!(matches!(err, Error::Device(_)), "{err:?}");
    let text = err.to_string();
    for part in ["no-such-adapter-anywhere", "lamina adapters", "CPU backend"] {
        assert!(text.contains(part), "`{part}` not in: {text}");
    }
}

#[test]
fn a_device_lost_mid_run_is_an_error() {
    let Some(BackendChoice::Gpu(opts)) = common::gpu_or_skip() else {
        return;
    };
    let plan = Arc::new(lamina::build::build(&small()).unwrap());
    let mut backend = GpuBackend::new(&plan, &opts).unwrap();
    backend.run_chunk(0, 100).unwrap();
    backend.device().destroy();
    let err = backend
        .run_chunk(100, 100)
        .expect_err("a lost device cannot run");
    assert!(matches!(err, Error::Device(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("lost"), "{text}");
    assert!(text.contains("CPU backend"), "{text}");
    // And it stays an error, not a hang, on every later call.
    assert!(backend.run_chunk(200, 10).is_err());
    assert!(backend.read_state().is_err());
}
