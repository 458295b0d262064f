//! Saving and loading a `NefSimulator`: its learned weights and built parameters for numpy
//! users and other networks (`save_weights`), and its whole state to resume a run bit for bit
//! (`save_state` / `load_state`). Both are `.npz` files (`crate::io`), written whole or not
//! at all.
//!
//! ```
//! use lamina::prelude::*;
//!
//! let mut net = NefNetwork::new().with_seed(1);
//! let stim = net.node("stim", Node::function(1, |t| vec![(6.0 * t).sin()]))?;
//! let a = net.ensemble("a", Ensemble::new(50, 1))?;
//! let b = net.ensemble("b", Ensemble::new(50, 1))?;
//! net.connect(stim, a, Connection::new())?;
//! let ab = net.connect(a, b, Connection::new())?;
//! let p = net.probe(b, Probe::new().synapse(Synapse::lowpass(0.01)))?;
//! let dir = std::env::temp_dir();
//! let (state, weights) = (dir.join("doc_state.npz"), dir.join("doc_weights.npz"));
//!
//! let mut sim = NefSimulator::new(&net, BackendChoice::Cpu)?;
//! sim.run(0.05)?;
//! sim.save_state(&state)?;
//! sim.save_weights(&weights)?;
//! sim.run(0.05)?;
//!
//! // A fresh simulator of the same network picks up where the first one saved.
//! let mut resumed = NefSimulator::new(&net, BackendChoice::Cpu)?;
//! resumed.load_state(&state)?;
//! resumed.run(0.05)?;
//! assert_eq!(resumed.data(p)?, sim.data(p)?);
//! // Connection 1's decoders, as numpy's `np.load("doc_weights.npz")["conn1"]` reads them.
//! let w = lamina::io::load_array(&weights, "conn1")?;
//! assert_eq!(w.mapv(|x| x as f32), sim.weights(ab)?);
//! # Ok::<(), lamina::Error>(())
//! ```

use super::NefSimulator;
use crate::backend::NefArray;
use crate::error::{Error, Result};
use crate::io::{shape_str, write_npz, NpzIn};
use ndarray::{arr0, Array1, ArrayView1, ArrayView2};
use std::path::Path;

/// Version of the state file layout, stored as `lamina_state`.
const STATE_FORMAT: u64 = 1;

/// What the fingerprint of a state file holds, in order.
const FINGERPRINT: [&str; 6] = [
    "signal values (len(sig))",
    "weight values (len(w))",
    "probes",
    "ensembles",
    "connections",
    "layout hash",
];

/// State beyond `sig`, `w`, the step counter and the probe samples, read from a state file
/// and checked before anything is changed. Empty for now: the lesions being added to
/// `NefSimulator` will go here (see [`NefSimulator::save_extra_state`]).
struct ExtraState;

impl NefSimulator {
    /// Writes every connection's current weights and every ensemble's built parameters to an
    /// `.npz` file at `path` (exactly that path; no extension is added), which numpy reads
    /// with `np.load(path)`. Connections and ensembles are numbered in the order they were
    /// added to the network (`ConnectionId` / `EnsembleId` order):
    ///
    /// | array            | dtype   | shape             | what                                    |
    /// |------------------|---------|-------------------|-----------------------------------------|
    /// | `conn{i}`        | float32 | (rows, cols)      | [`NefSimulator::weights`] now: decoders with the transform folded in (dimensions x pre neurons), or post x pre |
    /// | `ens{i}.gain`    | float64 | (n_neurons,)      | gains as built (Nengo's `sim.data[ens].gain`) |
    /// | `ens{i}.bias`    | float64 | (n_neurons,)      | biases now, after any `set_bias`; unchanged ones keep their built float64 value, changed ones are the simulator's float32 value |
    /// | `ens{i}.encoders`| float64 | (n_neurons, dims) | unit-length encoders as built           |
    ///
    /// [`crate::io::load_array`] reads one array back (a `conn{i}` as the transform of a
    /// connection in another network); [`NefSimulator::load_weights`] puts the weights and
    /// biases back into a simulator of the same network. The file is written to a temporary
    /// file in the same directory and renamed onto `path` once complete, so a failure (a
    /// missing directory, no permission, a directory at `path`) leaves nothing behind.
    pub fn save_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let plan = std::sync::Arc::clone(&self.plan);
        let mut conns = Vec::with_capacity(plan.built_connections.len());
        for c in &plan.built_connections {
            conns.push(
                self.backend
                    .read(NefArray::Weights, c.w_off, c.rows * c.cols)?,
            );
        }
        let mut biases = Vec::with_capacity(plan.built_ensembles.len());
        for b in &plan.built_ensembles {
            let now = self
                .backend
                .read(NefArray::Signals, b.bias_at(), b.n_neurons())?;
            let bias: Array1<f64> = now
                .iter()
                .zip(&b.bias)
                .map(|(&now, &built)| {
                    if now == built as f32 {
                        built
                    } else {
                        now as f64
                    }
                })
                .collect();
            biases.push(bias);
        }
        write_npz(path.as_ref(), |out| {
            for (i, (c, w)) in plan.built_connections.iter().zip(&conns).enumerate() {
                out.add(&format!("conn{i}"), &view2(w, c.rows, c.cols)?)?;
            }
            for (i, (b, bias)) in plan.built_ensembles.iter().zip(&biases).enumerate() {
                out.add(&format!("ens{i}.gain"), &ArrayView1::from(&b.gain))?;
                out.add(&format!("ens{i}.bias"), bias)?;
                out.add(&format!("ens{i}.encoders"), &b.encoders)?;
            }
            Ok(())
        })
    }

    /// Puts the weights and biases of a file written by [`NefSimulator::save_weights`] back
    /// into this simulator, between steps: every connection's `conn{i}` (float32 or float64)
    /// and every ensemble's `ens{i}.bias` must be there with this network's shapes (the error
    /// names the array and both shapes), and the file must not describe more connections or
    /// ensembles than this network has. Gains and encoders are built from the network and are
    /// not read. Nothing is changed unless the whole file is right. Learning goes on from the
    /// loaded weights; the state (voltages, filters, step counter, probe data) is untouched.
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let plan = std::sync::Arc::clone(&self.plan);
        let mut file = NpzIn::open(path.as_ref())?;
        let (n_conn, n_ens) = (plan.built_connections.len(), plan.built_ensembles.len());
        if file.has(&format!("conn{n_conn}")) || file.has(&format!("ens{n_ens}.bias")) {
            let count = |prefix: &str, suffix: &str| {
                (0..)
                    .take_while(|i| file.has(&format!("{prefix}{i}{suffix}")))
                    .count()
            };
            return Err(file.error(format!(
                "it holds {} connections and {} ensembles; this network has {n_conn} and {n_ens}",
                count("conn", ""),
                count("ens", ".bias")
            )));
        }
        let mut conns = Vec::with_capacity(n_conn);
        for (i, c) in plan.built_connections.iter().enumerate() {
            conns.push(file.floats_as_f32(&format!("conn{i}"), &[c.rows, c.cols])?);
        }
        let mut biases = Vec::with_capacity(n_ens);
        for (i, b) in plan.built_ensembles.iter().enumerate() {
            biases.push(file.floats_as_f32(&format!("ens{i}.bias"), &[b.n_neurons()])?);
        }
        for (c, w) in plan.built_connections.iter().zip(&conns) {
            self.backend.write(NefArray::Weights, c.w_off, w)?;
        }
        for (b, bias) in plan.built_ensembles.iter().zip(&biases) {
            self.backend.write(NefArray::Signals, b.bias_at(), bias)?;
        }
        Ok(())
    }

    /// Writes the simulator's whole state to an `.npz` file at `path`, so that
    /// [`NefSimulator::load_state`] into a simulator of the same network, on either backend,
    /// continues the run bit for bit (spikes, probe data, learned weights):
    ///
    /// | array          | dtype   | shape                 | what                                 |
    /// |----------------|---------|-----------------------|--------------------------------------|
    /// | `lamina_state` | uint64  | ()                    | file layout version, 1               |
    /// | `fingerprint`  | uint64  | (6,)                  | the network's structure: len(sig), len(w), probes, ensembles, connections, a hash of the layout (offsets, shapes, neuron kinds, kernels, dt) |
    /// | `steps`        | uint64  | ()                    | steps run ([`NefSimulator::n_steps`]) |
    /// | `sig`          | float32 | (len(sig),)           | every vector: inputs, activities, voltages, refractory timers, live masks (ablations), biases, filter states |
    /// | `w`            | float32 | (len(w),)             | every matrix: weights as learned so far, encoders |
    /// | `probe{i}`     | float32 | (samples, width)      | probe `i`'s samples so far ([`NefSimulator::data`]) |
    ///
    /// Not saved: what callback nodes keep in their closures (function nodes are functions of
    /// time and resume as they were). Written as [`NefSimulator::save_weights`] writes: whole
    /// or not at all.
    pub fn save_state(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let plan = std::sync::Arc::clone(&self.plan);
        let sig = self.backend.read(NefArray::Signals, 0, plan.sig.len())?;
        let w = self.backend.read(NefArray::Weights, 0, plan.w.len())?;
        let fingerprint = Array1::from(self.fingerprint().to_vec());
        let extra = self.save_extra_state()?;
        let steps = self.steps;
        let samples = &self.samples;
        write_npz(path.as_ref(), |out| {
            out.add("lamina_state", &arr0(STATE_FORMAT))?;
            out.add("fingerprint", &fingerprint)?;
            out.add("steps", &arr0(steps))?;
            out.add("sig", &ArrayView1::from(&sig))?;
            out.add("w", &ArrayView1::from(&w))?;
            for (p, (layout, data)) in plan.probes.iter().zip(samples).enumerate() {
                let rows = data.len() / layout.width;
                out.add(&format!("probe{p}"), &view2(data, rows, layout.width)?)?;
            }
            for (name, array) in &extra {
                out.add(name, array)?;
            }
            Ok(())
        })
    }

    /// Replaces this simulator's state with one written by [`NefSimulator::save_state`] (on
    /// either backend): signals, weights, the step counter and every probe's samples. The file
    /// must come from a network of the same structure: the arrays' shapes (the error names the
    /// array and both shapes) and the fingerprint are checked first, and nothing is changed
    /// unless the whole file is right. The weights, biases and encoders in the file replace
    /// this simulator's; what the simulator reports from its build (`ensemble`, decoders) is
    /// this network's, so load files saved from the same network (same seed).
    pub fn load_state(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let plan = std::sync::Arc::clone(&self.plan);
        let mut file = NpzIn::open(path.as_ref())?;
        if !file.has("lamina_state") {
            return Err(file.error(
                "it is not a state file written by NefSimulator::save_state (no `lamina_state` \
                 array)"
                    .into(),
            ));
        }
        let version = file
            .u64s("lamina_state", &[])?
            .first()
            .copied()
            .unwrap_or(0);
        if version != STATE_FORMAT {
            return Err(file.error(format!(
                "its state format is version {version}; this lamina reads version {STATE_FORMAT}"
            )));
        }
        let sig = file.f32s("sig", &[plan.sig.len()])?;
        let w = file.f32s("w", &[plan.w.len()])?;
        let theirs = file.u64s("fingerprint", &[FINGERPRINT.len()])?;
        for ((what, &theirs), ours) in FINGERPRINT.iter().zip(&theirs).zip(self.fingerprint()) {
            if theirs != ours {
                return Err(file.error(format!(
                    "it was saved from another network: {what} {theirs} there, {ours} here"
                )));
            }
        }
        let steps = file.u64s("steps", &[])?.first().copied().unwrap_or(0);
        if steps > u32::MAX as u64 {
            return Err(file.error(format!(
                "its step counter {steps} exceeds the u32 steps a simulator counts"
            )));
        }
        let mut samples = Vec::with_capacity(plan.probes.len());
        for (p, layout) in plan.probes.iter().enumerate() {
            let rows = (steps / layout.every as u64) as usize;
            samples.push(file.f32s(&format!("probe{p}"), &[rows, layout.width])?);
        }
        let extra = self.read_extra_state(&mut file)?;
        self.backend.write(NefArray::Signals, 0, &sig)?;
        self.backend.write(NefArray::Weights, 0, &w)?;
        self.steps = steps;
        self.samples = samples;
        self.apply_extra_state(extra)
    }

    /// The structure a state file must match: sizes, and a hash of where everything is.
    fn fingerprint(&self) -> [u64; 6] {
        let plan = &self.plan;
        let mut h = crate::rng::KeyHasher::default()
            .str("lamina nef layout")
            .f64(plan.dt)
            .u64(plan.feed_width() as u64)
            .u64(plan.record_len as u64);
        for e in &plan.ensembles {
            for x in [
                e.kind,
                e.n,
                e.j_enc,
                e.neuron_in,
                e.bias,
                e.out,
                e.voltage,
                e.refractory,
            ] {
                h = h.u64(x as u64);
            }
        }
        for b in &plan.built_ensembles {
            h = h
                .u64(b.encoders.ncols() as u64)
                .u64(b.input as u64)
                .u64(b.out as u64)
                .u64(b.voltage as u64);
        }
        for c in &plan.built_connections {
            h = h.u64(c.w_off as u64).u64(c.rows as u64).u64(c.cols as u64);
        }
        for p in &plan.probes {
            h = h
                .u64(p.rec_off as u64)
                .u64(p.width as u64)
                .u64(p.every as u64);
        }
        for d in &plan.dispatches {
            use crate::build::nef::NefDispatch::*;
            let rows = match d {
                Sum { rows, entries } => rows.len() + entries.len(),
                MatVec { rows } => rows.len(),
                Neurons { rows } => rows.len(),
                Pes { rows } => rows.len(),
                Filter { rows } => rows.len(),
                Host { node } => *node,
                Feed | Record | Advance => 0,
            };
            h = h.str(d.kernel()).u64(rows as u64);
        }
        [
            plan.sig.len() as u64,
            plan.w.len() as u64,
            plan.probes.len() as u64,
            plan.built_ensembles.len() as u64,
            plan.built_connections.len() as u64,
            h.finish(),
        ]
    }

    /// Named arrays of state kept outside `sig` and `w`, added to the state file. None yet:
    /// the lesions being added to `NefSimulator` go here (and are read back by
    /// `read_extra_state`, checked before anything changes, then applied by
    /// `apply_extra_state`).
    fn save_extra_state(&mut self) -> Result<Vec<(String, ndarray::ArrayD<f32>)>> {
        Ok(Vec::new())
    }

    /// Reads and checks the arrays `save_extra_state` wrote; changes nothing.
    fn read_extra_state(&self, _file: &mut NpzIn) -> Result<ExtraState> {
        Ok(ExtraState)
    }

    /// Applies what `read_extra_state` read, after `sig`, `w` and the probes are loaded.
    fn apply_extra_state(&mut self, _extra: ExtraState) -> Result<()> {
        Ok(())
    }
}

/// A flat row-major buffer as a rows x cols view.
fn view2(data: &[f32], rows: usize, cols: usize) -> Result<ArrayView2<'_, f32>> {
    ArrayView2::from_shape((rows, cols), data).map_err(|e| {
        Error::Simulation(format!(
            "{} values do not make a {} array: {e}",
            data.len(),
            shape_str(&[rows, cols])
        ))
    })
}
