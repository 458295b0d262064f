//! The GPU and its CPU twin give identical spike trains and state.
//!
//! They are bit-identical by construction: synaptic input is summed in fixed point (integer
//! addition is associative), Poisson counts are drawn from host-tabulated CDFs with a shared
//! integer hash, and every float multiply and add is rounded explicitly, unfused, in the same
//! order on both sides (shaders/shared/rounding.wgsl). So the bound tested here is equality.

mod common;
use common::{assert_same, assert_same_spikes};
use lamina::prelude::*;

/// A 1,000-neuron recurrent network with drawn delays up to 5 ms, Poisson background, a
/// constant current into part of it, and a spike source.
/// The network, its probes, and its populations (exc, inh).
type Recurrent = (Network, SpikeProbe, StateProbe, [PopulationId; 2]);

fn recurrent(seed: u64) -> Result<Recurrent> {
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
        lamina::backend::gpu::synapses_per_chunk(16 << 10, sim.plan().syn_format.record_bits);
    let chunks = sim.plan().synapse_count().div_ceil(per_chunk);
    assert!(chunks > 10, "{chunks} chunks");
    assert_eq!(
        sim.dispatches_per_step() as u64,
        3 + chunks,
        "record, update, prepare + one per chunk"
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
        let cut = sim.lesion_synapses(exc.slice(0..400), inh)?
            + sim.lesion_synapses(inh, exc.slice(100..300))?;
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
