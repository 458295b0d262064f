//! The smallest program that embeds lamina: build a network, run it, read its spikes.
//!
//! A library user depends on lamina without the command-line tool's dependencies:
//! `lamina = { version = "0.1", default-features = false }`. There is no global state: any
//! number of simulators can live in one process, on one device or several. An application
//! that already owns a wgpu device and queue hands them over with
//! `BackendChoice::shared(SharedDevice::new(&adapter, device, queue))`.
//!
//! `cargo run --release --example embed`

use lamina::prelude::*;

fn main() -> lamina::Result<()> {
    let mut net = Network::new().with_seed(1);
    let pop = net.population("pop", 100, LifCurrent::default())?;
    net.current(pop, 400.0)?; // pA: enough to make every neuron fire regularly
    let spikes = net.probe_spikes(pop)?;

    let mut sim = Simulator::new(&net, BackendChoice::Auto)?; // a hardware GPU if there is one, else the CPU twin
    sim.run(0.1)?; // seconds
    let trains = sim.spikes(&spikes)?;
    println!(
        "{} spikes from {} neurons in {} s on {}",
        trains.neurons.len(),
        100,
        sim.time(),
        sim.backend_description()
    );
    Ok(())
}
