//! Per-kernel costs, measured through the public simulator API on networks built so that one
//! kernel does nearly all of the work of a step. Each benchmark times 100 steps (one chunk, one
//! submission on a GPU) after an untimed `reset()`, so the figure per iteration divided by 100
//! is the cost of one step; the throughput criterion prints counts the kernel's work items
//! (neuron updates, synaptic events, Poisson draws, recorded values, multiply-adds, weight
//! updates) over those 100 steps. Every group runs on the CPU twin and, when an adapter is
//! found, on the GPU (the adapter is printed). Run with `cargo bench --bench kernels`
//! (`-- --quick` for a short pass; a name after `--` filters the groups).
//!
//! | group | network | what dominates a step |
//! |---|---|---|
//! | `spiking_neuron_update` | 200,000 LIF neurons at rest, no input, no synapses | the neuron update (nothing spikes: the propagation dispatch gets no work) |
//! | `spiking_neuron_models` | the same 200,000 neurons at rest as user-defined models (kernels generated from WGSL snippets): the built-in `izhikevich`, and a one-variable leaky integrator | the neuron update through a generated model function: compare with `spiking_neuron_update` |
//! | `spiking_poisson` | the same, each neuron with a Poisson input (in-degree 100, 10 Hz, 0.01 pA: never spikes) | neuron update + one Poisson draw per neuron per step: subtract `spiking_neuron_update` for the draws |
//! | `spiking_propagation` | 200 spike sources firing every step, all-to-all into 2,000 LIF neurons (0.001 pA: they stay silent) | delivering 400,000 synaptic events per step into the delay ring |
//! | `spiking_record_state` | 10,000 LIF neurons at rest, v, i_ex and i_in of all recorded every step, against the same network unrecorded | the state record kernel and reading the record back |
//! | `nef_neuron_update` | one ensemble of 100,000 LIF neurons (Nengo's defaults), nothing connected | the NEF neuron update |
//! | `nef_matvec` | `a.neurons() -> b.neurons()` with a dense 1,000 x 1,000 transform | the matrix-vector product (1e6 multiply-adds per step; 2,000 neuron updates) |
//! | `nef_pes` | the same connection learning with PES from a constant error | matrix-vector + PES's update of all 1e6 weights: subtract `nef_matvec` for PES |
//! | `nef_synapse_models` | the same connection learning with the built-in `stdp` and `memristor` synapse models (kernels generated from WGSL snippets) | matrix-vector + the model's kernel over all 1e6 synapses: subtract `nef_matvec` for the model |
//!
//! Every NEF network here also probes a one-value constant node: on a GPU a NEF chunk with
//! nothing to read back returns as soon as it is submitted, so without a probe the timer would
//! stop before the GPU had run the steps (the wait would fall into the untimed `reset()`).

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use lamina::exec::gpu;
use lamina::prelude::*;
use ndarray::Array2;
use std::time::{Duration, Instant};

/// Steps per timed iteration: at most one chunk, so one submission on a GPU.
const STEPS: u64 = 100;

fn backends() -> Vec<(&'static str, BackendChoice)> {
    let mut v = vec![("cpu", BackendChoice::Cpu)];
    let found = gpu::adapters(GpuOptions::from_env().api.as_deref()).unwrap_or_default();
    if !found.is_empty() {
        v.push(("gpu", BackendChoice::gpu()));
    }
    v
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(3));
    g
}

/// Times `STEPS` steps of a spiking simulator, each iteration from a fresh `reset()`.
fn time_spiking(sim: &mut Simulator, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        sim.reset().expect("resets");
        let t0 = Instant::now();
        sim.run_steps(STEPS).expect("runs");
        total += t0.elapsed();
    }
    total
}

fn time_nef(sim: &mut Simulator, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        sim.reset().expect("resets");
        let t0 = Instant::now();
        sim.run_steps(STEPS).expect("runs");
        total += t0.elapsed();
    }
    total
}

/// LIF neurons at rest: v starts at e_l and nothing moves it.
fn resting_network(neurons: u32) -> (Network, PopulationId) {
    let mut net = Network::new().with_seed(1);
    let pop = net
        .population("cells", neurons, LifCurrent::default())
        .expect("population");
    (net, pop)
}

fn bench_spiking(
    g: &mut BenchmarkGroup<criterion::measurement::WallTime>,
    label: &str,
    net: &Network,
) {
    for (name, backend) in backends() {
        let mut sim = Simulator::new(net, backend).expect("simulator opens");
        eprintln!("{label}/{name}: {}", sim.backend_description());
        g.bench_function(format!("{name}/{label}"), |b| {
            b.iter_custom(|iters| time_spiking(&mut sim, iters))
        });
    }
}

/// Adds a probed one-value node, so that every chunk ends with a readback of the probe (see
/// the module's documentation).
fn synced(mut net: NefNetwork) -> NefNetwork {
    let tick = net.node("tick", Node::constant(&[0.0])).expect("node");
    net.probe(tick, Probe::new()).expect("probe");
    net
}

fn bench_nef(
    g: &mut BenchmarkGroup<criterion::measurement::WallTime>,
    label: &str,
    net: NefNetwork,
) {
    let net = synced(net);
    for (name, backend) in backends() {
        let mut sim = Simulator::new(&net, backend).expect("simulator opens");
        eprintln!(
            "{label}/{name}: {}, {} dispatches per step",
            sim.backend_description(),
            sim.dispatches_per_step()
        );
        g.bench_function(format!("{name}/{label}"), |b| {
            b.iter_custom(|iters| time_nef(&mut sim, iters))
        });
    }
}

fn spiking_neuron_update(c: &mut Criterion) {
    let n = 200_000;
    let mut g = group(c, "spiking_neuron_update");
    g.throughput(Throughput::Elements(n as u64 * STEPS));
    let (net, _) = resting_network(n);
    bench_spiking(&mut g, "200k_neurons", &net);
    g.finish();
}

fn spiking_neuron_models(c: &mut Criterion) {
    let n = 200_000;
    let mut g = group(c, "spiking_neuron_models");
    g.throughput(Throughput::Elements(n as u64 * STEPS));
    let leaky = NeuronModel::new("leaky")
        .state("x", 0.0)
        .param("decay", 0.99)
        .update("x = rn(rn(x * decay) + rn(in_ex + in_in));")
        .threshold("x > 1.0")
        .reset("x = 0.0;")
        .cpu_twin(|inp, s| {
            s[0] = s[0] * inp.params[0] + (inp.in_ex + inp.in_in);
            let fired = !inp.refractory && s[0] > 1.0;
            if fired {
                s[0] = 0.0;
            }
            fired
        });
    let izh = izhikevich(IzhikevichParams::default());
    for (label, model) in [("200k_izhikevich", izh), ("200k_leaky", leaky)] {
        let mut net = Network::new().with_seed(1);
        net.neurons("cells", n, model).expect("population");
        bench_spiking(&mut g, label, &net);
    }
    g.finish();
}

fn spiking_poisson(c: &mut Criterion) {
    let n = 200_000;
    let mut g = group(c, "spiking_poisson");
    g.throughput(Throughput::Elements(n as u64 * STEPS));
    let (mut net, pop) = resting_network(n);
    net.poisson(
        pop,
        PoissonInput {
            in_degree: 100,
            rate_hz: 10.0,
            weight_pa: 0.01,
        },
    )
    .expect("poisson");
    bench_spiking(&mut g, "200k_neurons_in_degree_100", &net);
    g.finish();
}

fn spiking_propagation(c: &mut Criterion) {
    let (sources, targets) = (200u32, 2000u32);
    let mut g = group(c, "spiking_propagation");
    g.throughput(Throughput::Elements(
        sources as u64 * targets as u64 * STEPS,
    ));
    let mut net = Network::new().with_seed(1);
    let dt = net.dt_ms();
    // Every source spikes at every step of the timed piece (and one step beyond).
    let times: Vec<f64> = (0..=STEPS).map(|k| k as f64 * dt).collect();
    let src = net
        .spike_source("sources", vec![times; sources as usize])
        .expect("sources");
    let dst = net
        .population("targets", targets, LifCurrent::default())
        .expect("targets");
    net.connect(src, dst, Connectivity::AllToAll, 0.001, dt)
        .expect("connects");
    bench_spiking(&mut g, "200x2000_all_to_all", &net);
    g.finish();
}

fn spiking_record_state(c: &mut Criterion) {
    let n = 10_000;
    let mut g = group(c, "spiking_record_state");
    // Values recorded: v, i_ex, i_in of every neuron at every step.
    g.throughput(Throughput::Elements(3 * n as u64 * STEPS));
    let (plain, _) = resting_network(n);
    bench_spiking(&mut g, "10k_neurons_unrecorded", &plain);
    let (mut recorded, pop) = resting_network(n);
    recorded
        .probe_state(pop, recorded.dt_ms())
        .expect("state probe");
    bench_spiking(&mut g, "10k_neurons_recorded_every_step", &recorded);
    g.finish();
}

fn nef_neuron_update(c: &mut Criterion) {
    let n = 100_000;
    let mut g = group(c, "nef_neuron_update");
    g.throughput(Throughput::Elements(n as u64 * STEPS));
    let mut net = NefNetwork::new().with_seed(1);
    net.ensemble("a", Ensemble::new(n, 1)).expect("ensemble");
    bench_nef(&mut g, "100k_lif", net);
    g.finish();
}

/// How the matrix of `matrix_network` learns.
#[derive(Clone, Copy, PartialEq)]
enum Learning {
    None,
    Pes,
    /// The built-in STDP synapse model (WGSL snippets, pre and post traces).
    Stdp,
    /// The built-in memristor-pair synapse model (two state variables, per-step weights).
    Memristor,
}

/// `a.neurons() -> b.neurons()` through a dense n x n transform, learning as `learning` says.
fn matrix_network(n: usize, learning: Learning) -> NefNetwork {
    let mut net = NefNetwork::new().with_seed(1);
    let a = net.ensemble("a", Ensemble::new(n, 1)).expect("a");
    let b = net.ensemble("b", Ensemble::new(n, 1)).expect("b");
    let drive = net.node("drive", Node::constant(&[0.5])).expect("drive");
    net.connect(drive, a, Connection::new())
        .expect("drive -> a");
    let w = Array2::from_shape_fn((n, n), |(i, j)| {
        1e-4 * (((i * 7 + j * 13) % 11) as f64 - 5.0)
    });
    let conn = net
        .connect(a.neurons(), b.neurons(), Connection::new().transform(w))
        .expect("a -> b");
    let rule = match learning {
        Learning::None => return net,
        Learning::Pes => net.pes(conn, Pes::new(1e-6)).expect("pes"),
        Learning::Stdp => net.learn(conn, stdp(StdpParams::default())).expect("stdp"),
        Learning::Memristor => net
            .learn(conn, memristor(MemristorParams::default()).expect("model"))
            .expect("memristor"),
    };
    let error = net.node("error", Node::constant(&[0.1])).expect("error");
    net.connect(error, rule, Connection::new())
        .expect("error -> rule");
    net
}

fn nef_matvec(c: &mut Criterion) {
    let n = 1000;
    let mut g = group(c, "nef_matvec");
    g.throughput(Throughput::Elements((n * n) as u64 * STEPS));
    bench_nef(&mut g, "1000x1000", matrix_network(n, Learning::None));
    g.finish();
}

fn nef_pes(c: &mut Criterion) {
    let n = 1000;
    let mut g = group(c, "nef_pes");
    g.throughput(Throughput::Elements((n * n) as u64 * STEPS));
    bench_nef(&mut g, "1000x1000", matrix_network(n, Learning::Pes));
    g.finish();
}

fn nef_synapse_models(c: &mut Criterion) {
    let n = 1000;
    let mut g = group(c, "nef_synapse_models");
    g.throughput(Throughput::Elements((n * n) as u64 * STEPS));
    bench_nef(&mut g, "stdp_1000x1000", matrix_network(n, Learning::Stdp));
    bench_nef(
        &mut g,
        "memristor_1000x1000",
        matrix_network(n, Learning::Memristor),
    );
    g.finish();
}

criterion_group!(
    benches,
    spiking_neuron_update,
    spiking_neuron_models,
    spiking_poisson,
    spiking_propagation,
    spiking_record_state,
    nef_neuron_update,
    nef_matvec,
    nef_pes,
    nef_synapse_models
);
criterion_main!(benches);
