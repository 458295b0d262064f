//! Build a small network in Rust, run it on the GPU (or the CPU reference when no adapter is
//! found), and read its spikes and membrane traces.
//!
//! cargo run --release --example quickstart

use lamina::prelude::*;

fn main() -> Result<()> {
    let mut net = Network::new().with_seed(42);
    let neuron = LifCurrent {
        tau_m_ms: 10.0,
        v_init_mv: Dist::uniform(-70.0, -56.0),
        ..LifCurrent::default()
    };
    let exc = net.population("exc", 400, neuron.clone())?;
    let inh = net.population("inh", 100, neuron)?;
    let delay = Dist::normal(1.5, 0.5).clipped(0.1, 5.0);
    for target in [exc, inh] {
        net.connect(
            exc,
            target,
            Connectivity::FixedProbability(0.1),
            50.0,
            delay.clone(),
        )?;
        net.connect(
            inh,
            target,
            Connectivity::FixedInDegree(10),
            -200.0,
            delay.clone(),
        )?;
        net.poisson(
            target,
            PoissonInput {
                in_degree: 800,
                rate_hz: 8.0,
                weight_pa: 30.0,
            },
        )?;
    }
    let spikes = net.probe_spikes(exc)?;
    let traces = net.probe_state(exc.slice(0..3), 1.0)?;

    let mut sim = Simulator::new(&net, BackendChoice::Auto)?;
    println!("running on {}", sim.backend_description());
    sim.run(0.5)?;

    let trains = sim.spikes(&spikes)?;
    println!(
        "{} spikes from `exc`, {:.1} Hz per neuron",
        trains.neurons.len(),
        trains.neurons.len() as f64 / 400.0 / sim.time()
    );
    let v = sim.state(&traces, StateVar::V)?;
    let t = sim.state_times(&traces)?;
    for k in (0..v.nrows()).step_by(100) {
        println!("t = {:5.3} s  v = {:?} mV", t[k], v.row(k).to_vec());
    }
    Ok(())
}
