//! STDP makes a neuron's input weights bimodal (Song, Miller & Abbott 2000, as in Brian2's STDP
//! example), with the built-in `stdp` synapse model: WGSL snippets with pre and post traces,
//! running on the GPU.
//!
//! cargo run --release --example stdp [-- SECONDS]
//!
//! 1000 LIF neurons, driven by a 16-dimensional band-limited noise through random encoders,
//! fire irregularly at a few Hz to tens of Hz; all of them excite one LIF neuron through
//! plastic synapses that start uniform in [0, w_max]. Depression slightly stronger than
//! potentiation (a_minus = -1.05 a_plus) makes most weights fall to 0 and the inputs that
//! drive the neuron's spikes grow to w_max. Prints the histogram of the weights at the start
//! and the end, and one JSON line with the fraction of weights near either bound.

use lamina::prelude::*;
use std::f64::consts::PI;

const N_IN: usize = 1000;
const DIMS: usize = 16;
const W_MAX: f64 = 1.5e-4;
const BINS: usize = 10;

fn main() -> Result<()> {
    let seconds: f64 = match std::env::args().nth(1) {
        Some(s) => s.parse().map_err(|_| {
            Error::Validation(format!("SECONDS must be a number of seconds, not `{s}`"))
        })?,
        None => 100.0,
    };
    let mut net = NefNetwork::new().with_seed(5);
    // Band-limited noise: per dimension, a sum of sines of fixed random frequencies and phases.
    let waves: Vec<Vec<(f64, f64)>> = (0..DIMS)
        .map(|d| {
            (0..8)
                .map(|k| {
                    let h = lamina::rng::mix64((d * 8 + k) as u64);
                    let f = 1.0 + 79.0 * ((h & 0xffff) as f64 / 65535.0);
                    let phase = 2.0 * PI * ((h >> 16 & 0xffff) as f64 / 65535.0);
                    (f, phase)
                })
                .collect()
        })
        .collect();
    let noise = net.node(
        "noise",
        Node::function(DIMS, move |t| {
            waves
                .iter()
                .map(|w| {
                    0.12 * w
                        .iter()
                        .map(|(f, p)| (2.0 * PI * f * t + p).sin())
                        .sum::<f64>()
                })
                .collect()
        }),
    )?;
    let inputs = net.ensemble(
        "inputs",
        Ensemble::new(N_IN, DIMS)
            .max_rates(NefDist::Uniform {
                low: 20.0,
                high: 60.0,
            })
            .intercepts(NefDist::Uniform {
                low: -0.3,
                high: 0.1,
            }),
    )?;
    let neuron = net.ensemble(
        "neuron",
        Ensemble::new(1, 1).gain_bias(vec![1.0], vec![0.0]),
    )?;
    net.connect(noise, inputs, Connection::new())?;
    let w0 = ndarray::Array2::from_shape_fn((1, N_IN), |(_, j)| {
        W_MAX * (lamina::rng::mix64(j as u64 ^ 0xabcd) >> 11) as f64 / (1u64 << 53) as f64
    });
    let conn = net.connect(
        inputs.neurons(),
        neuron.neurons(),
        Connection::new().transform(w0),
    )?;
    net.learn(
        conn,
        stdp(StdpParams {
            a_plus: 0.05 * W_MAX,
            a_minus: -0.05 * 1.05 * W_MAX,
            w_max: W_MAX,
            ..StdpParams::default()
        }),
    )?;
    let p_in = net.probe(inputs.neurons(), Probe::new().sample_every(0.01))?;
    let p_out = net.probe(neuron.neurons(), Probe::new())?;

    let mut sim = Simulator::new(&net, BackendChoice::Auto)?;
    let start = histogram(&sim.weights(conn)?);
    let t0 = std::time::Instant::now();
    sim.run(seconds)?;
    let wall_s = t0.elapsed().as_secs_f64();
    let w = sim.weights(conn)?;
    let end = histogram(&w);
    let out = sim.data(p_out)?;
    let post_hz = out.iter().filter(|&&x| x != 0.0).count() as f64 / seconds;
    let inp = sim.data(p_in)?;
    let in_hz = inp.iter().filter(|&&x| x != 0.0).count() as f64
        / (inp.nrows() as f64 * 0.001)
        / N_IN as f64;
    println!("weights / w_max   start   end");
    for b in 0..BINS {
        println!(
            "  {:.1} - {:.1}      {:5}   {:5}  {}",
            b as f64 / BINS as f64,
            (b + 1) as f64 / BINS as f64,
            start[b],
            end[b],
            "#".repeat(end[b] / 10)
        );
    }
    let near = |lo: f64, hi: f64| {
        w.iter()
            .filter(|&&x| (lo..=hi).contains(&(x as f64 / W_MAX)))
            .count() as f64
            / N_IN as f64
    };
    println!(
        "{}",
        serde_json::json!({
            "backend": sim.backend_description(),
            "seconds": seconds,
            "wall_s": wall_s,
            "input_rate_hz": in_hz,
            "output_rate_hz": post_hz,
            "fraction_below_0.1_w_max": near(0.0, 0.1),
            "fraction_above_0.9_w_max": near(0.9, 1.0),
            "fraction_between": near(0.1, 0.9) ,
            "histogram_start": start,
            "histogram_end": end,
        })
    );
    Ok(())
}

/// Counts of weights in `BINS` equal bins of [0, w_max].
fn histogram(w: &ndarray::Array2<f32>) -> Vec<usize> {
    let mut h = vec![0; BINS];
    for &x in w {
        let b = ((x as f64 / W_MAX) * BINS as f64).floor() as usize;
        h[b.min(BINS - 1)] += 1;
    }
    h
}
