//! `channel`: Nengo's learning example, the NEF benchmark. A sine input of `dims` dimensions
//! drives `pre` (LIF, Nengo's defaults); `pre -> post` starts out computing zero and PES
//! (learning rate 1e-4) trains it with error = post - pre, until `post` follows the input.
//! `pre` and `post` are probed through a 10 ms lowpass; `fit` measures how well `post` follows
//! the input.

use crate::error::{invalid, Result};
use crate::model::nef::{
    Connection, ConnectionId, Ensemble, EnsembleId, NefNetwork, NefProbeId, Node, Pes, Probe,
    Synapse,
};
use std::f64::consts::PI;

/// PES learning rate of the example, as Nengo's default.
pub const LEARNING_RATE: f64 = 1e-4;

pub struct Channel {
    pub network: NefNetwork,
    /// `pre -> post`, the learned connection.
    pub learned: ConnectionId,
    pub pre_ensemble: EnsembleId,
    /// `pre` and `post` decoded, through a 10 ms lowpass.
    pub pre: NefProbeId,
    pub post: NefProbeId,
    pub dims: usize,
}

/// The input at time t: dimension k is 0.8 sin(2 pi (1 + k / 2) t).
pub fn input(t: f64, dims: usize) -> Vec<f64> {
    (0..dims)
        .map(|k| 0.8 * (2.0 * PI * (1.0 + 0.5 * k as f64) * t).sin())
        .collect()
}

/// `neurons` per ensemble, representing `dims` dimensions.
pub fn build(neurons: usize, dims: usize, seed: u64) -> Result<Channel> {
    if neurons == 0 || dims == 0 {
        return Err(invalid!(
            "channel needs at least one neuron and one dimension; got {neurons} and {dims}"
        ));
    }
    let mut net = NefNetwork::new().with_seed(seed);
    let stim = net.node("stim", Node::function(dims, move |t| input(t, dims)))?;
    let pre = net.ensemble("pre", Ensemble::new(neurons, dims))?;
    let post = net.ensemble("post", Ensemble::new(neurons, dims))?;
    let error = net.node("error", Node::passthrough(dims))?;
    net.connect(stim, pre, Connection::new())?;
    let learned = net.connect(
        pre,
        post,
        Connection::new().function(dims, move |_| vec![0.0; dims]),
    )?;
    let rule = net.pes(learned, Pes::new(LEARNING_RATE))?;
    net.connect(post, error, Connection::new())?;
    net.connect(pre, error, Connection::new().scale(-1.0))?;
    net.connect(error, rule, Connection::new())?;
    let lowpass = Probe::new().synapse(Synapse::lowpass(0.01));
    let pre_probe = net.probe(pre, lowpass)?;
    let post_probe = net.probe(post, lowpass)?;
    Ok(Channel {
        network: net,
        learned,
        pre_ensemble: pre,
        pre: pre_probe,
        post: post_probe,
        dims,
    })
}

/// How well `output` (one row per step from step 1) follows the input over steps
/// `from .. to`: the lag (in steps, below 100) that aligns them best, and the rms error there.
pub fn fit(
    output: &ndarray::Array2<f32>,
    dt: f64,
    dims: usize,
    from: usize,
    to: usize,
) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for lag in 0..100.min(from + 1) {
        let mut sum = 0.0;
        for s in from..to {
            let x = input((s + 1 - lag) as f64 * dt, dims);
            for (k, xk) in x.iter().enumerate() {
                sum += (output[[s, k]] as f64 - xk).powi(2);
            }
        }
        let rmse = (sum / ((to - from) * dims) as f64).sqrt();
        if rmse < best.1 {
            best = (lag, rmse);
        }
    }
    best
}
