//! wgpu's no-op backend (`api: "noop"`): it accepts every call and runs nothing, so the GPU
//! executor's host side (encoding, submission, readback mapping) runs on any machine, adapter
//! or not. These tests need no GPU: the no-op adapter is always there.

use lamina::prelude::*;

fn noop() -> BackendChoice {
    BackendChoice::Gpu(GpuOptions {
        api: Some("noop".into()),
        ..Default::default()
    })
}

fn small() -> (Network, SpikeProbe) {
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
    net.connect(pop, pop, Connectivity::FixedInDegree(10), 50.0, 1.0)
        .unwrap();
    let probe = net.probe_spikes(pop).unwrap();
    (net, probe)
}

#[test]
fn a_small_network_steps_on_the_noop_backend() -> lamina::Result<()> {
    let (net, probe) = small();
    let mut sim = Simulator::new(&net, noop())?;
    assert_eq!(sim.backend_kind(), "gpu");
    assert!(
        sim.backend_description().to_lowercase().contains("noop"),
        "{}",
        sim.backend_description()
    );
    // Several chunks and a partial one: each submits, maps its staging buffers and reads
    // them back, which must complete (not hang) although nothing ran.
    let chunk = sim.plan().chunk_steps as u64;
    sim.run_steps(2 * chunk + 7)?;
    assert_eq!(sim.n_steps(), 2 * chunk + 7);
    // Nothing ran, so the record is whatever the backend's buffers hold: no spikes.
    assert!(sim.spikes(&probe)?.steps.is_empty());
    assert!(sim.dispatches_per_step() >= 2);
    sim.reset()?;
    sim.run_steps(10)?;
    Ok(())
}

#[test]
fn the_noop_backend_is_offered_only_when_named() {
    let named = lamina::exec::gpu::adapters(Some("noop")).unwrap();
    assert_eq!(named.len(), 1, "{named:?}");
    let any = lamina::exec::gpu::adapters(None).unwrap_or_default();
    assert!(
        any.iter().all(|a| !a.to_lowercase().contains("noop")),
        "{any:?}"
    );
}
