//! `channel`: the NEF benchmark. A sine input of `dims` dimensions passed through a chain of
//! `ensembles` LIF ensembles (Nengo defaults, `neurons` each), read out with a 10 ms lowpass.
//! Every stage adds a 5 ms lowpass and a step of delay, so the output is the input, smoothed
//! and late; `fit` finds the lag and the remaining error.

use crate::error::{invalid, Result};
use crate::model::nef::{Connection, Ensemble, NefNetwork, NefProbeId, Node, Probe, Synapse};
use std::f64::consts::PI;

pub struct Channel {
    pub network: NefNetwork,
    /// The last ensemble's decoded value, through a 10 ms lowpass.
    pub output: NefProbeId,
    pub dims: usize,
}

/// The input at time t: dimension k is 0.8 sin(2 pi (1 + k / 2) t).
pub fn input(t: f64, dims: usize) -> Vec<f64> {
    (0..dims)
        .map(|k| 0.8 * (2.0 * PI * (1.0 + 0.5 * k as f64) * t).sin())
        .collect()
}

pub fn build(neurons: usize, dims: usize, ensembles: usize, seed: u64) -> Result<Channel> {
    if neurons == 0 || dims == 0 || ensembles == 0 {
        return Err(invalid!(
            "channel needs at least one neuron, dimension and ensemble; got {neurons}, {dims}, {ensembles}"
        ));
    }
    let mut net = NefNetwork::new().with_seed(seed);
    let stim = net.node("stim", Node::function(dims, move |t| input(t, dims)))?;
    let mut prev = None;
    for k in 0..ensembles {
        let e = net.ensemble(&format!("ens{k}"), Ensemble::new(neurons, dims))?;
        match prev {
            None => net.connect(stim, e, Connection::new())?,
            Some(p) => net.connect(p, e, Connection::new())?,
        };
        prev = Some(e);
    }
    let last = prev.expect("at least one ensemble");
    let output = net.probe(last, Probe::new().synapse(Synapse::lowpass(0.01)))?;
    Ok(Channel {
        network: net,
        output,
        dims,
    })
}

/// The lag (in steps, up to 200) that best aligns `output` (one row per step) with the input,
/// and the rms error at that lag, over the steps after the first 100.
pub fn fit(output: &ndarray::Array2<f32>, dt: f64, dims: usize) -> (usize, f64) {
    let steps = output.nrows();
    let mut best = (0, f64::INFINITY);
    for lag in 0..200.min(steps) {
        let mut sum = 0.0;
        let mut count = 0usize;
        for s in 100.max(lag)..steps {
            let x = input((s - lag + 1) as f64 * dt, dims);
            for k in 0..dims {
                sum += (output[[s, k]] as f64 - x[k]).powi(2);
                count += 1;
            }
        }
        if count > 0 {
            let rmse = (sum / count as f64).sqrt();
            if rmse < best.1 {
                best = (lag, rmse);
            }
        }
    }
    best
}
