use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
fn main() {
    let n = 20_000_000u64;
    let mut rng = lamina::rng::stream(1, 2, 3);
    let t = std::time::Instant::now();
    let mut acc = 0u64;
    for _ in 0..n {
        acc = acc.wrapping_add(rng.random_range(0..20683u32) as u64);
    }
    println!(
        "random_range {:?} ns/draw ({acc})",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    let t = std::time::Instant::now();
    let mut s = 0.0;
    for _ in 0..n {
        let z: f64 = StandardNormal.sample(&mut rng);
        s += z;
    }
    println!(
        "normal {:?} ns/draw ({s})",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    let d = lamina::model::Dist::normal(87.8, 8.78).clipped(0.0, f64::INFINITY);
    let t = std::time::Instant::now();
    for _ in 0..n {
        s += d.sample(&mut rng);
    }
    println!(
        "dist {:?} ns/draw ({s})",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    let t = std::time::Instant::now();
    for _ in 0..n {
        acc = acc.wrapping_add(rng.random::<u32>() as u64);
    }
    println!(
        "u32 {:?} ns/draw ({acc})",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    let dd = lamina::model::Dist::normal(1.5, 0.75).clamped(0.1, f64::INFINITY);
    let t = std::time::Instant::now();
    let mut out = Vec::new();
    for c in 0..(n / 4096) {
        let mut rng = lamina::rng::stream(1, 2, c);
        for _ in 0..4096 {
            let i = rng.random_range(0..20683u32);
            let j = rng.random_range(0..5834u32);
            let w = d.sample(&mut rng);
            let dl = dd.sample(&mut rng);
            out.push((i, j, w as f32, ((dl / 0.1).round() as u32).max(1)));
        }
    }
    println!(
        "synapse {:?} ns ({})",
        t.elapsed().as_nanos() as f64 / n as f64,
        out.len()
    );
}
#[allow(dead_code)]
fn unused() {}
