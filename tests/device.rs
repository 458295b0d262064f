//! Device trouble: no adapter, an adapter lost mid-run. Each is an error that says what
//! happened and what to try, never a hang or a panic.

mod common;
use lamina::exec::gpu::GpuExecutor;
use lamina::exec::Executor;
use lamina::prelude::*;
use std::sync::Arc;

fn small() -> Network {
    small_probed().0
}

/// `small()` with a probe of its spikes.
fn small_probed() -> (Network, SpikeProbe) {
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
    let probe = net.probe_spikes(pop).unwrap();
    (net, probe)
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
    let plan = Arc::new(lamina::lower::build(&small()).unwrap());
    let mut backend = GpuExecutor::new(&Arc::new(plan.program()), &opts).unwrap();
    backend.run_chunk(0, 100, &[]).unwrap();
    backend.device().destroy();
    let err = backend
        .run_chunk(100, 100, &[])
        .expect_err("a lost device cannot run");
    assert!(matches!(err, Error::Device(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("lost"), "{text}");
    assert!(text.contains("CPU backend"), "{text}");
    // And it stays an error, not a hang, on every later call.
    assert!(backend.run_chunk(200, 10, &[]).is_err());
    assert!(backend.read_words("v", 0, 1).is_err());
}

#[test]
fn a_device_lost_with_chunks_in_flight_fails_each_of_them() {
    let Some(BackendChoice::Gpu(opts)) = common::gpu_or_skip() else {
        return;
    };
    let plan = Arc::new(lamina::lower::build(&small()).unwrap());
    let mut backend = GpuExecutor::new(&Arc::new(plan.program()), &opts).unwrap();
    backend.submit_chunk(0, 100, &[]).unwrap();
    backend.submit_chunk(100, 100, &[]).unwrap();
    backend.device().destroy();
    // Each chunk in flight comes back, never hangs: with its records if it had run before the
    // device went, else with an error that says the device was lost.
    for k in 0..2 {
        match backend.collect_chunk() {
            Ok(record) => assert_eq!(record.steps, 100, "chunk {k}"),
            Err(err) => {
                assert!(matches!(err, Error::Device(_)), "chunk {k}: {err:?}");
                assert!(err.to_string().contains("lost"), "chunk {k}: {err}");
            }
        }
    }
    assert_eq!(backend.in_flight(), 0);
    // Every later call fails, saying why.
    let err = backend
        .submit_chunk(200, 10, &[])
        .and_then(|()| backend.collect_chunk().map(drop))
        .expect_err("a lost device cannot run");
    assert!(err.to_string().contains("lost"), "{err}");
}

/// A device and queue the caller opened on the adapter the GPU tests use, with `limits`.
fn caller_device(limits: impl Fn(&wgpu::Adapter) -> wgpu::Limits) -> Option<SharedDevice> {
    common::gpu_or_skip()?;
    let opts = GpuOptions::from_env();
    let adapter = lamina::exec::gpu::context::usable_adapters(opts.api.as_deref())
        .expect("adapters listed")
        .into_iter()
        .next()?;
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("the caller's device"),
        required_limits: limits(&adapter),
        ..Default::default()
    }))
    .expect("the adapter gives the caller a device");
    Some(SharedDevice::new(&adapter, device, queue))
}

#[test]
fn a_device_the_caller_owns_runs_the_same_bits_and_keeps_its_handler() {
    let Some(shared) = caller_device(|a| a.limits()) else {
        return;
    };
    // The caller's own error handler: lamina must not replace it.
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = seen.clone();
    shared
        .device
        .on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            sink.lock().unwrap().push(e.to_string());
        }));
    let (net, probe) = small_probed();
    let mut on_shared = Simulator::new(&net, BackendChoice::shared(shared.clone())).unwrap();
    let mut on_cpu = Simulator::new(&net, BackendChoice::Cpu).unwrap();
    on_shared.run(0.05).unwrap();
    on_cpu.run(0.05).unwrap();
    let (a, b) = (
        on_shared.spikes(&probe).unwrap(),
        on_cpu.spikes(&probe).unwrap(),
    );
    assert!(!a.steps.is_empty(), "the network spikes");
    common::assert_same_spikes("shared device vs CPU", a, b);
    // Two simulators on one device, and the caller's device still works for the caller.
    let second = Simulator::new(&net, BackendChoice::shared(shared.clone())).unwrap();
    drop(second);
    drop(on_shared);
    // An error of the caller's own reaches the caller's handler.
    let _bad = shared.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("invalid on purpose"),
        size: 16,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    shared.device.poll(wgpu::PollType::wait_indefinitely()).ok();
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the caller's handler saw its own error (and none of lamina's)"
    );
}

#[test]
fn a_shared_device_with_too_few_storage_buffers_is_refused_with_advice() {
    let Some(shared) = caller_device(|_| wgpu::Limits::downlevel_defaults()) else {
        return;
    };
    let err = Simulator::new(&small(), BackendChoice::shared(shared))
        .err()
        .expect("refused");
    assert!(matches!(err, Error::Device(_)), "{err:?}");
    let text = err.to_string();
    for part in ["storage buffers per shader stage", "required_limits", "13"] {
        assert!(text.contains(part), "`{part}` not in: {text}");
    }
}
