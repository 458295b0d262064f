//! NEF step costs on each backend: 100 steps of the `channel` model (PES learning, 2 x 1,000
//! LIF neurons in 1-D and 2 x 2,000 in 16-D), and the round trip a callback node costs per step. Run with `cargo bench --bench nef_step`; the GPU half needs an adapter
//! and is skipped without one (the adapter is printed).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lamina::builtin::channel;
use lamina::exec::gpu;
use lamina::prelude::*;

fn backends() -> Vec<(&'static str, BackendChoice)> {
    let mut v = vec![("cpu", BackendChoice::Cpu)];
    let found = gpu::adapters(GpuOptions::from_env().api.as_deref()).unwrap_or_default();
    if !found.is_empty() {
        v.push(("gpu", BackendChoice::gpu()));
    }
    v
}

fn channel_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("nef_channel_100_steps");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100));
    for (neurons, dims) in [(1000, 1), (2000, 16)] {
        let m = channel::build(neurons, dims, 1).expect("channel builds");
        for (name, backend) in backends() {
            let mut sim = Simulator::new(&m.network, backend).expect("simulator opens");
            eprintln!("{name}: {}", sim.backend_description());
            group.bench_function(format!("{name}/2x{neurons}n/{dims}d"), |b| {
                b.iter(|| sim.run_steps(100).expect("runs"));
            });
        }
    }
    group.finish();
}

/// A small chain with a callback node between the input and the first ensemble: every step
/// then waits for the host.
fn callback_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("nef_callback_100_steps");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100));
    let build = || -> lamina::Result<NefNetwork> {
        let mut net = NefNetwork::new().with_seed(1);
        let stim = net.node("stim", Node::function(1, |t| vec![t.sin()]))?;
        let host = net.node("host", Node::callback(1, 1, |_, x| vec![0.5 * x[0]]))?;
        let a = net.ensemble("a", Ensemble::new(100, 1))?;
        let b = net.ensemble("b", Ensemble::new(100, 1))?;
        net.connect(stim, host, Connection::new().synapse(Synapse::None))?;
        net.connect(host, a, Connection::new())?;
        net.connect(a, b, Connection::new())?;
        net.probe(b, Probe::new().synapse(Synapse::lowpass(0.01)))?;
        Ok(net)
    };
    let net = build().expect("builds");
    for (name, backend) in backends() {
        let mut sim = Simulator::new(&net, backend).expect("simulator opens");
        group.bench_function(name, |b| b.iter(|| sim.run_steps(100).expect("runs")));
    }
    group.finish();
}

/// `run_with` calling a Rust rule every step that reads activities and weights and writes the
/// weights back: the cost of learning from Rust, per step.
fn run_with_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("nef_run_with_100_steps");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100));
    let m = channel::build(1000, 1, 1).expect("channel builds");
    for (name, backend) in backends() {
        let mut sim = Simulator::new(&m.network, backend).expect("simulator opens");
        group.bench_function(format!("{name}/every_step"), |b| {
            b.iter(|| {
                sim.run_with(0.1, 1, |sim| {
                    let mut w = sim.weights(m.learned)?.mapv(|x| x as f64);
                    let acts = sim.activities(m.pre_ensemble)?;
                    w[[0, 0]] += 1e-9 * acts[0] as f64;
                    sim.set_weights(m.learned, &w)
                })
                .expect("runs")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, channel_steps, callback_steps, run_with_steps);
criterion_main!(benches);
