//! Step throughput of the CUBA network on each backend: time per 100 steps (10 ms of
//! biological time). Run with `cargo bench`; the GPU half needs an adapter and is skipped
//! without one (the adapter is printed).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lamina::builtin::cuba;
use lamina::exec::gpu;
use lamina::prelude::*;

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("cuba_100_steps");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100));
    let has_gpu = !gpu::adapters(GpuOptions::from_env().api.as_deref())
        .unwrap_or_default()
        .is_empty();
    for n in [4000u32, 32000] {
        let model = cuba::build(n, 1).expect("cuba builds");
        let mut backends = vec![("cpu", BackendChoice::Cpu)];
        if has_gpu {
            backends.push(("gpu", BackendChoice::gpu()));
        }
        for (name, backend) in backends {
            let mut sim = Simulator::new(&model.network, backend).expect("simulator opens");
            eprintln!("{name}: {}", sim.backend_description());
            // Settle past the initial transient, then measure steady-state steps.
            sim.run_steps(1000).expect("runs");
            group.bench_function(format!("{name}/n={n}"), |b| {
                b.iter(|| sim.run_steps(100).expect("runs"));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
