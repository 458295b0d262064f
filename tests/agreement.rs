//! The GPU and its CPU twin give identical spike trains and state.
//!
//! They are bit-identical by construction: synaptic input is summed in fixed point (integer
//! addition is associative), Poisson counts are drawn from host-tabulated CDFs with a shared
//! integer hash, and every float multiply and add is rounded explicitly, unfused, in the same
//! order on both sides (shaders/shared/rounding.wgsl). So the bound tested here is equality.

mod common;
use common::{assert_same, assert_same_spikes, recurrent};
use lamina::prelude::*;

fn run(net: &Network, backend: BackendChoice, steps: u64) -> Result<Simulator> {
    let mut sim = Simulator::new(net, backend)?;
    sim.run_steps(steps)?;
    Ok(sim)
}

fn check_agreement(gpu_opts: GpuOptions) -> Result<()> {
    let (net, spikes, state, _) = recurrent(11)?;
    let steps = 2000;
    let cpu = run(&net, BackendChoice::Cpu, steps)?;
    let gpu = run(&net, BackendChoice::Gpu(gpu_opts), steps)?;
    let (a, b) = (cpu.spikes(&spikes)?, gpu.spikes(&spikes)?);
    assert!(
        a.steps.len() > 1000,
        "the network should be active: {} spikes",
        a.steps.len()
    );
    assert_same_spikes("cpu vs gpu", a, b);
    for var in [StateVar::V, StateVar::ISynEx, StateVar::ISynIn] {
        let (x, y) = (cpu.state(&state, var)?, gpu.state(&state, var)?);
        let bits = |a: &ndarray::Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_same(&format!("{var:?} (bits)"), &bits(&x), &bits(&y));
    }
    Ok(())
}

#[test]
fn gpu_and_cpu_spike_trains_are_identical() -> Result<()> {
    let Some(BackendChoice::Gpu(opts)) = common::gpu_or_skip() else {
        return Ok(());
    };
    check_agreement(opts)
}

#[test]
fn synapse_arrays_split_into_chunks_give_the_same_result() -> Result<()> {
    let Some(BackendChoice::Gpu(mut opts)) = common::gpu_or_skip() else {
        return Ok(());
    };
    // 16 KiB chunks: ~100k synapses become ~37 chunks, each its own propagation dispatch.
    opts.synapse_chunk_bytes = Some(16 << 10);
    let (net, ..) = recurrent(11)?;
    let sim = Simulator::new(&net, BackendChoice::Gpu(opts.clone()))?;
    let per_chunk =
        lamina::exec::gpu::synapses_per_chunk(16 << 10, sim.plan().syn_format.record_bits);
    let chunks = sim.plan().synapse_count().div_ceil(per_chunk);
    assert!(chunks > 10, "{chunks} chunks");
    assert_eq!(
        sim.dispatches_per_step() as u64,
        2 + chunks,
        "record, update + one per chunk"
    );
    drop(sim);
    check_agreement(opts)
}

/// Synapses cut mid-run land the same on the GPU, with the records split over many chunks (so
/// the cut words cross chunk boundaries), as on the CPU twin.
#[test]
fn cut_synapses_agree_across_backends_and_chunks() -> Result<()> {
    let Some(BackendChoice::Gpu(mut opts)) = common::gpu_or_skip() else {
        return Ok(());
    };
    opts.synapse_chunk_bytes = Some(16 << 10);
    let (net, spikes, _, [exc, inh]) = recurrent(11)?;
    let mut trains = Vec::new();
    for backend in [BackendChoice::Cpu, BackendChoice::Gpu(opts)] {
        let mut sim = Simulator::new(&net, backend)?;
        sim.run_steps(1000)?;
        let cut = sim.lesion(exc.slice(0..400), inh)? + sim.lesion(inh, exc.slice(100..300))?;
        assert!(cut > 10_000, "{cut} synapses cut");
        sim.run_steps(1000)?;
        trains.push(sim.spikes(&spikes)?.clone());
    }
    let mut intact = Simulator::new(&net, BackendChoice::Cpu)?;
    intact.run_steps(2000)?;
    assert_same_spikes("cpu vs gpu, with cuts", &trains[0], &trains[1]);
    assert_ne!(
        trains[0].hash(),
        intact.spikes(&spikes)?.hash(),
        "the cuts changed the run"
    );
    Ok(())
}
