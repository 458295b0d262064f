//! The NEF part of the `Simulator`: a `NefNetwork`'s probe data, built parameters, weights,
//! biases and encoders between steps, as `nengo.Simulator` offers them.
//!
//! ```
//! use lamina::prelude::*;
//!
//! let mut net = NefNetwork::new().with_seed(1);
//! let stim = net.node("stim", Node::function(1, |t| vec![(6.0 * t).sin()]))?;
//! let a = net.ensemble("a", Ensemble::new(50, 1))?;
//! let b = net.ensemble("b", Ensemble::new(50, 1))?;
//! net.connect(stim, a, Connection::new())?;
//! let conn = net.connect(a, b, Connection::new().function(1, |x| vec![x[0] * x[0]]))?;
//! let error = net.node("error", Node::passthrough(1))?;
//! net.connect(b, error, Connection::new())?;
//! net.connect(a, error, Connection::new().function(1, |x| vec![-x[0] * x[0]]))?;
//! let pes = net.pes(conn, Pes::new(1e-4))?;
//! net.connect(error, pes, Connection::new())?;
//! let p = net.probe(b, Probe::new().synapse(Synapse::lowpass(0.01)))?;
//!
//! let mut sim = Simulator::new(&net, BackendChoice::Cpu)?; // or BackendChoice::gpu()
//! sim.run(0.1)?;
//! assert_eq!(sim.data(p)?.dim(), (100, 1)); // samples x dimensions
//! assert_eq!(sim.trange(p)?.len(), 100);
//! let (_x, rates) = sim.tuning_curves(a, None)?; // 50 inputs x 50 neurons
//! assert_eq!(rates.dim(), (50, 50));
//! assert_eq!(sim.weights(conn)?.dim(), (1, 50)); // decoders, as learned so far
//! # Ok::<(), lamina::Error>(())
//! ```

use super::Simulator;
use crate::error::{Error, Result};
use crate::exec::ChunkRecord;
use crate::lower::nef::{ensemble_rates, BuiltEnsemble, NefPlan};
use crate::model::nef::{ConnectionId, EnsembleId, NefProbeId};
use ndarray::Array2;

/// The name the NEF half of the API had before one [`Simulator`] ran both kinds of network;
/// kept so that code written against it compiles. A NEF network on the simulator:
///
/// # Example
///
/// Run, read a probe with its times, then silence half an ensemble and run on:
///
/// ```
/// use lamina::prelude::*;
///
/// let mut net = NefNetwork::new().with_seed(2);
/// let stim = net.node("stim", Node::constant(&[0.6]))?;
/// let a = net.ensemble("a", Ensemble::new(100, 1))?;
/// net.connect(stim, a, Connection::new())?;
/// let p = net.probe(a, Probe::new().synapse(Synapse::lowpass(0.02)))?;
///
/// let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
/// sim.run(0.3)?;
/// assert_eq!(sim.n_steps(), 300); // dt = 1 ms
/// let (t, x) = (sim.trange(p)?, sim.data(p)?);
/// let late: Vec<f32> = (0..t.len()).filter(|&k| t[k] > 0.2).map(|k| x[[k, 0]]).collect();
/// let mean = late.iter().sum::<f32>() / late.len() as f32; // the last 100 ms
/// assert!((mean - 0.6).abs() < 0.05, "a decodes {mean}, not 0.6");
///
/// sim.ablate(a, &(0..50).collect::<Vec<_>>())?; // neurons 0 to 49 fire no more
/// sim.run(0.1)?;
/// assert_eq!(sim.data(p)?.nrows(), 400); // the probe goes on recording
/// # Ok::<(), lamina::Error>(())
/// ```
pub type NefSimulator = Simulator;

impl Simulator {
    /// Runs for `seconds`, calling `f` with the simulator every `every_n_steps` steps (and after
    /// the last step), so a learning rule written in Rust can read activities, probe data and
    /// weights and write weights and biases between steps. On a GPU each call that reads or
    /// writes costs a round trip (a readback of `sig` or `w`, an upload of what changed), and
    /// the steps in between run in one submission; `benches/nef_step.rs` measures it.
    pub fn run_with(
        &mut self,
        seconds: f64,
        every_n_steps: u64,
        mut f: impl FnMut(&mut Simulator) -> Result<()>,
    ) -> Result<()> {
        if every_n_steps == 0 {
            return Err(Error::Simulation(
                "run_with needs every_n_steps >= 1".into(),
            ));
        }
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(Error::Simulation(format!(
                "cannot run for {seconds} s; give a non-negative, finite duration"
            )));
        }
        let mut left = (seconds / self.program.dt).round() as u64;
        while left > 0 {
            let n = left.min(every_n_steps);
            self.run_steps(n)?;
            left -= n;
            f(self)?;
        }
        Ok(())
    }

    /// The activities of an ensemble's neurons at the last step (amplitude / dt for a spike,
    /// the rate for rate neurons).
    pub fn activities(&mut self, ens: EnsembleId) -> Result<Vec<f32>> {
        let b = self.ensemble(ens)?;
        let (at, n) = (b.out, b.n_neurons());
        self.backend.read_f32("sig", at, n)
    }

    /// Seconds per step.
    pub fn dt(&self) -> f64 {
        self.program.dt
    }

    /// Files a chunk of `n` steps from step `first`'s NEF probe samples under their probes;
    /// returns where each probe's samples of the chunk start (for the health check).
    pub(super) fn absorb_nef(&mut self, rec: &ChunkRecord, first: u32, n: u32) -> Vec<usize> {
        if !self.parts.nef {
            return Vec::new();
        }
        // The NEF record follows the spiking part's two when both run.
        let record = rec.floats(if self.parts.spiking { 2 } else { 0 });
        let first_sample: Vec<usize> = (self.nef_plan.probes.iter().zip(&self.samples))
            .map(|(layout, data)| data.len() / layout.width.max(1))
            .collect();
        for (p, layout) in self.nef_plan.probes.iter().enumerate() {
            let count = layout.samples_in(first, n) * layout.width;
            self.samples[p].extend_from_slice(&record[layout.rec_off..layout.rec_off + count]);
        }
        first_sample
    }

    fn probe_index(&self, probe: NefProbeId) -> Result<usize> {
        if probe.net != self.nef_net_id || probe.index >= self.nef_plan.probes.len() {
            return Err(Error::Simulation(
                "this probe was not declared on the network this simulator was built from; \
                 add it with `NefNetwork::probe` before building"
                    .into(),
            ));
        }
        Ok(probe.index)
    }

    /// A probe's last sample (empty before the first), without copying its history: what a
    /// learning rule in `run_with` reads.
    pub fn latest(&self, probe: NefProbeId) -> Result<&[f32]> {
        let p = self.probe_index(probe)?;
        let width = self.nef_plan.probes[p].width;
        let s = &self.samples[p];
        Ok(&s[s.len().saturating_sub(width)..])
    }

    /// A probe's samples so far: one row per sample, one column per element.
    pub fn data(&self, probe: NefProbeId) -> Result<Array2<f32>> {
        let p = self.probe_index(probe)?;
        let width = self.nef_plan.probes[p].width;
        let rows = self.samples[p].len() / width;
        Array2::from_shape_vec((rows, width), self.samples[p].clone())
            .map_err(|e| Error::Simulation(format!("probe data has an inconsistent shape: {e}")))
    }

    /// Times of a probe's samples in seconds (Nengo's `sim.trange(sample_every=...)`).
    pub fn trange(&self, probe: NefProbeId) -> Result<Vec<f64>> {
        let p = self.probe_index(probe)?;
        let every = self.nef_plan.probes[p].every as u64;
        Ok((1..=self.step / every)
            .map(|k| (k * every) as f64 * self.nef_plan.dt)
            .collect())
    }

    /// Built parameters of an ensemble: gains, biases, encoders, eval points.
    pub fn ensemble(&self, ens: EnsembleId) -> Result<&BuiltEnsemble> {
        if ens.net != self.nef_net_id || ens.index >= self.nef_plan.built_ensembles.len() {
            return Err(Error::Simulation(
                "this ensemble belongs to another network".into(),
            ));
        }
        Ok(&self.nef_plan.built_ensembles[ens.index])
    }

    /// Firing rates of an ensemble's neurons over `inputs` (rows of its vector space), or by
    /// default over 50 points from -radius to radius per dimension, as Nengo's
    /// `nengo.utils.ensemble.tuning_curves`. Returns (inputs, rates), rates one row per input.
    pub fn tuning_curves(
        &self,
        ens: EnsembleId,
        inputs: Option<Array2<f64>>,
    ) -> Result<(Array2<f64>, Array2<f64>)> {
        let b = self.ensemble(ens)?;
        let d = b.encoders.ncols();
        let inputs = match inputs {
            Some(x) if x.ncols() == d => x,
            Some(x) => {
                return Err(Error::Simulation(format!(
                    "tuning curve inputs have {} columns; ensemble `{}` has {d} dimensions",
                    x.ncols(),
                    b.name
                )))
            }
            None if d > 3 => {
                return Err(Error::Simulation(format!(
                    "a {d}-dimensional grid of 50 points per axis is too large; pass inputs"
                )))
            }
            None => {
                let axis: Vec<f64> = (0..50)
                    .map(|i| -b.radius + 2.0 * b.radius * i as f64 / 49.0)
                    .collect();
                let total = 50usize.pow(d as u32);
                let mut grid = Array2::zeros((total, d));
                for row in 0..total {
                    let mut k = row;
                    for col in (0..d).rev() {
                        grid[[row, col]] = axis[k % 50];
                        k /= 50;
                    }
                }
                grid
            }
        };
        let rates = ensemble_rates(b, &inputs);
        Ok((inputs, rates))
    }

    /// The current weights of a connection (decoders with the transform folded in, or the
    /// post x pre matrix), including what learning has changed.
    pub fn weights(&mut self, conn: ConnectionId) -> Result<Array2<f32>> {
        let c = self.connection(conn)?.clone();
        let w = self.backend.read_f32("w", c.w_off, c.rows * c.cols)?;
        Array2::from_shape_vec((c.rows, c.cols), w)
            .map_err(|e| Error::Simulation(format!("weights have an inconsistent shape: {e}")))
    }

    /// Replaces a connection's weights between steps (the shape of [`Simulator::weights`]:
    /// decoders with the transform folded in, or the post x pre matrix). Learning goes on
    /// from them. Weights of lesioned synapses are written as zero.
    pub fn set_weights(&mut self, conn: ConnectionId, weights: &Array2<f64>) -> Result<()> {
        let c = self.connection(conn)?;
        if weights.dim() != (c.rows, c.cols) {
            return Err(Error::Simulation(format!(
                "connection {} has {}x{} weights; got a {}x{} array",
                conn.index,
                c.rows,
                c.cols,
                weights.nrows(),
                weights.ncols()
            )));
        }
        self.set_weights_block(conn, (0, 0), weights)
    }

    /// Replaces a block of a connection's weights between steps: `block` lands at rows
    /// `at.0 ..` and columns `at.1 ..` of [`Simulator::weights`], the rest stays. One
    /// readback and one upload of the rows it spans (none when it spans whole rows).
    pub fn set_weights_block(
        &mut self,
        conn: ConnectionId,
        at: (usize, usize),
        block: &Array2<f64>,
    ) -> Result<()> {
        let c = self.connection(conn)?.clone();
        let (h, w) = block.dim();
        if at.0 + h > c.rows || at.1 + w > c.cols {
            return Err(Error::Simulation(format!(
                "a {h}x{w} block at ({}, {}) does not fit connection {}'s {}x{} weights",
                at.0, at.1, conn.index, c.rows, c.cols
            )));
        }
        if let Some(((r, k), v)) = block.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::Simulation(format!(
                "weight ({}, {}) is {v}; weights must be finite",
                r + at.0,
                k + at.1
            )));
        }
        let (first, len) = (c.w_off + at.0 * c.cols, h * c.cols);
        let mut values = if w == c.cols {
            vec![0.0; len]
        } else {
            self.backend.read_f32("w", first, len)?
        };
        for ((r, k), &x) in block.indexed_iter() {
            values[r * c.cols + at.1 + k] = x as f32;
        }
        // Cut synapses stay cut, whoever writes.
        for cut in self.cut_weights(conn.index) {
            if (first..first + len).contains(&cut) {
                values[cut - first] = 0.0;
            }
        }
        self.backend.write_f32("w", first, &values)
    }

    pub(super) fn connection(
        &self,
        conn: ConnectionId,
    ) -> Result<&crate::lower::nef::BuiltConnection> {
        if conn.net != self.nef_net_id || conn.index >= self.nef_plan.built_connections.len() {
            return Err(Error::Simulation(
                "this connection belongs to another network".into(),
            ));
        }
        Ok(&self.nef_plan.built_connections[conn.index])
    }

    /// The biases of an ensemble's neurons now (as built, unless changed by `set_bias`).
    pub fn bias(&mut self, ens: EnsembleId) -> Result<Vec<f32>> {
        let b = self.ensemble(ens)?;
        let (at, n) = (b.bias_at(), b.n_neurons());
        self.backend.read_f32("sig", at, n)
    }

    /// Replaces the biases of an ensemble's neurons between steps (seed 001 removes them).
    pub fn set_bias(&mut self, ens: EnsembleId, bias: &[f64]) -> Result<()> {
        let b = self.ensemble(ens)?;
        let (at, n) = (b.bias_at(), b.n_neurons());
        if bias.len() != n {
            return Err(Error::Simulation(format!(
                "ensemble `{}` has {n} neurons; got {} biases",
                b.name,
                bias.len()
            )));
        }
        if let Some(v) = bias.iter().find(|v| !v.is_finite()) {
            return Err(Error::Simulation(format!("bias {v} is not finite")));
        }
        let values: Vec<f32> = bias.iter().map(|&x| x as f32).collect();
        self.backend.write_f32("sig", at, &values)
    }

    /// An ensemble's encoders now (n x d; as built unless changed by `set_encoders`), read
    /// back from the scaled encoders the neurons use, `gain * e / radius`, in f32.
    /// Entries `set_encoders` never changed are the built f64 values exactly.
    pub fn encoders(&mut self, ens: EnsembleId) -> Result<Array2<f64>> {
        self.ensemble(ens)?;
        self.encoders_of(ens.index)
    }

    /// [`Simulator::encoders`] of ensemble `index`.
    pub(super) fn encoders_of(&mut self, index: usize) -> Result<Array2<f64>> {
        let b = self.nef_plan.built_ensembles[index].clone();
        let scaled = self.scaled_encoders(index)?;
        Ok(Array2::from_shape_fn(scaled.dim(), |(i, k)| {
            let built = b.encoders[[i, k]];
            if scaled[[i, k]] == scaled_encoder(built, &b, i) {
                built
            } else {
                scaled[[i, k]] as f64 * b.radius / b.gain[i]
            }
        }))
    }

    /// The scaled encoders of ensemble `index` as the neurons use them now.
    pub(super) fn scaled_encoders(&mut self, index: usize) -> Result<Array2<f32>> {
        let b = &self.nef_plan.built_ensembles[index];
        let (n, d) = b.encoders.dim();
        let values = self.backend.read_f32("w", b.encoders_w, n * d)?;
        Array2::from_shape_vec((n, d), values)
            .map_err(|e| Error::Simulation(format!("encoders have an inconsistent shape: {e}")))
    }

    /// Replaces an ensemble's encoders between steps (n x d, any length: they are used as
    /// given, not normalised), everywhere the neurons' input is encoded: their decoded input
    /// and the error of PES on connections into them. They are scaled by the gains and the
    /// radius as built (inputs to neurons are multiplied by their gains). Weights solved with
    /// `weights: true` were built from the old encoders and stay as they are.
    pub fn set_encoders(&mut self, ens: EnsembleId, encoders: &Array2<f64>) -> Result<()> {
        let b = self.ensemble(ens)?.clone();
        if encoders.dim() != b.encoders.dim() {
            return Err(Error::Simulation(format!(
                "ensemble `{}` has {}x{} encoders (neurons x dimensions); got a {}x{} array",
                b.name,
                b.encoders.nrows(),
                b.encoders.ncols(),
                encoders.nrows(),
                encoders.ncols()
            )));
        }
        if let Some(((i, k), v)) = encoders.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::Simulation(format!(
                "encoder ({i}, {k}) is {v}; encoders must be finite"
            )));
        }
        let scaled = Array2::from_shape_fn(encoders.dim(), |(i, k)| {
            scaled_encoder(encoders[[i, k]], &b, i)
        });
        let (n, d) = scaled.dim();
        let mut writes = vec![(b.encoders_w, 0..n, 0..d)];
        for copy in self
            .nef_plan
            .encoder_copies
            .iter()
            .filter(|c| c.ens == ens.index)
        {
            writes.push((copy.w_off, copy.neurons.clone(), copy.dims.clone()));
        }
        for (at, neurons, dims) in writes {
            let block: Vec<f32> = scaled
                .slice(ndarray::s![neurons, dims])
                .iter()
                .copied()
                .collect();
            self.backend.write_f32("w", at, &block)?;
        }
        Ok(())
    }

    pub(super) fn set_alive(
        &mut self,
        ens: EnsembleId,
        neurons: &[usize],
        value: f32,
    ) -> Result<()> {
        let b = self.ensemble(ens)?;
        let (at, n) = (b.alive_at(), b.n_neurons());
        if let Some(bad) = neurons.iter().find(|&&i| i >= n) {
            return Err(Error::Simulation(format!(
                "ensemble `{}` has {n} neurons; neuron {bad} does not exist",
                b.name
            )));
        }
        // One read and one write of the mask, however many neurons change.
        let mut alive = self.backend.read_f32("sig", at, n)?;
        for &i in neurons {
            alive[i] = value;
        }
        self.backend.write_f32("sig", at, &alive)
    }

    /// The whole signal array (for tests comparing backends bit for bit).
    pub fn signals(&mut self) -> Result<Vec<f32>> {
        self.backend.read_f32("sig", 0, self.nef_plan.sig.len())
    }

    /// The lowered NEF network (empty when the simulator runs a spiking network only).
    pub fn nef_plan(&self) -> &NefPlan {
        &self.nef_plan
    }
}

/// Encoder entry `e` of neuron `i` as the neurons use it: in the order of the build
/// (`e * (gain / radius)`), so the bits are the same.
fn scaled_encoder(e: f64, b: &BuiltEnsemble, i: usize) -> f32 {
    (e * (b.gain[i] / b.radius)) as f32
}
