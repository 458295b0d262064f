//! Saving and loading a `Simulator`: its learned weights and built parameters for numpy
//! users and other networks (`save_weights`), and its whole state to resume a run bit for bit
//! (`checkpoint` / `load_checkpoint`). Both are `.npz` files (`crate::io`), written whole or not
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
//! let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
//! sim.run(0.05)?;
//! sim.checkpoint(&state)?;
//! sim.save_weights(&weights)?;
//! sim.run(0.05)?;
//!
//! // A fresh simulator of the same network picks up where the first one saved.
//! let mut resumed = Simulator::resume(&net, BackendChoice::Cpu, &state)?;
//! resumed.run(0.05)?;
//! assert_eq!(resumed.data(p)?, sim.data(p)?);
//! // Connection 1's decoders, as numpy's `np.load("doc_weights.npz")["conn1"]` reads them.
//! let w = lamina::io::load_array(&weights, "conn1")?;
//! assert_eq!(w.mapv(|x| x as f32), sim.weights(ab)?);
//! # Ok::<(), lamina::Error>(())
//! ```

use super::lesion::ConnLesion;
use super::Simulator;
use crate::error::Result;
use crate::io::{shaped, write_npz, NpzIn};
use crate::lower::nef::{lesioned_plan, synapse_shape, Cut, NefPlan};
use ndarray::{arr0, Array1, Array2, ArrayView1};
use std::path::Path;
use std::sync::Arc;

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

impl Simulator {
    /// Writes every connection's current weights and every ensemble's built parameters to an
    /// `.npz` file at `path` (exactly that path; no extension is added), which numpy reads
    /// with `np.load(path)`. Connections and ensembles are numbered in the order they were
    /// added to the network (`ConnectionId` / `EnsembleId` order):
    ///
    /// | array            | dtype   | shape             | what                                    |
    /// |------------------|---------|-------------------|-----------------------------------------|
    /// | `conn{i}`        | float32 | (rows, cols)      | [`Simulator::weights`] now: decoders with the transform folded in (dimensions x pre neurons), or post x pre |
    /// | `ens{i}.gain`    | float64 | (n_neurons,)      | gains as built (Nengo's `sim.data[ens].gain`) |
    /// | `ens{i}.bias`    | float64 | (n_neurons,)      | biases now, after any `set_bias`; unchanged ones keep their built float64 value, changed ones are the simulator's float32 value |
    /// | `ens{i}.encoders`| float64 | (n_neurons, dims) | encoders now: as built (unit length) unless changed by `set_encoders` |
    ///
    /// [`crate::io::load_array`] reads one array back (a `conn{i}` as the transform of a
    /// connection in another network); [`Simulator::load_weights`] puts the weights and
    /// biases back into a simulator of the same network. The file is written to a temporary
    /// file in the same directory and renamed onto `path` once complete, so a failure (a
    /// missing directory, no permission, a directory at `path`) leaves nothing behind.
    pub fn save_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let plan = Arc::clone(&self.nef_built);
        let mut conns = Vec::with_capacity(plan.built_connections.len());
        for c in &plan.built_connections {
            conns.push(self.backend.read_f32("w", c.w_off, c.rows * c.cols)?);
        }
        let mut encoders = Vec::with_capacity(plan.built_ensembles.len());
        for index in 0..plan.built_ensembles.len() {
            encoders.push(self.encoders_of(index)?);
        }
        let mut biases = Vec::with_capacity(plan.built_ensembles.len());
        for b in &plan.built_ensembles {
            let now = self.backend.read_f32("sig", b.bias_at(), b.n_neurons())?;
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
                out.add(&format!("conn{i}"), &shaped(w, &[c.rows, c.cols])?)?;
            }
            for (i, (b, bias)) in plan.built_ensembles.iter().zip(&biases).enumerate() {
                out.add(&format!("ens{i}.gain"), &ArrayView1::from(&b.gain))?;
                out.add(&format!("ens{i}.bias"), bias)?;
                out.add(&format!("ens{i}.encoders"), &encoders[i])?;
            }
            Ok(())
        })
    }

    /// Puts the weights and biases of a file written by [`Simulator::save_weights`] back
    /// into this simulator, between steps: every connection's `conn{i}` (float32 or float64)
    /// and every ensemble's `ens{i}.bias` must be there with this network's shapes (the error
    /// names the array and both shapes), and the file must not describe more connections or
    /// ensembles than this network has. Gains and encoders are built from the network and are
    /// not read. Weights of synapses this simulator has lesioned are written as zero (as
    /// `set_weights` does). Nothing is changed unless the whole file is right. Learning goes
    /// on from the loaded weights; the state (voltages, filters, step counter, probe data,
    /// lesions) is untouched.
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let plan = Arc::clone(&self.nef_built);
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
            let mut w = file.floats_as_f32(&format!("conn{i}"), &[c.rows, c.cols])?;
            // Cut synapses stay cut, as with `set_weights`.
            for at in self.cut_weights(i) {
                w[at - c.w_off] = 0.0;
            }
            conns.push(w);
        }
        let mut biases = Vec::with_capacity(n_ens);
        for (i, b) in plan.built_ensembles.iter().enumerate() {
            biases.push(file.floats_as_f32(&format!("ens{i}.bias"), &[b.n_neurons()])?);
        }
        for (c, w) in plan.built_connections.iter().zip(&conns) {
            self.backend.write_f32("w", c.w_off, w)?;
        }
        for (b, bias) in plan.built_ensembles.iter().zip(&biases) {
            self.backend.write_f32("sig", b.bias_at(), bias)?;
        }
        Ok(())
    }

    /// Writes the simulator's whole state to an `.npz` file at `path`, so that
    /// [`Simulator::load_checkpoint`] into a simulator of the same network, on either backend,
    /// continues the run bit for bit (spikes, probe data, learned weights, ablations,
    /// lesions):
    ///
    /// | array              | dtype   | shape            | what                                |
    /// |--------------------|---------|------------------|-------------------------------------|
    /// | `lamina_state`     | uint64  | ()               | file layout version, 1              |
    /// | `fingerprint`      | uint64  | (6,)             | the network's structure as built: len(sig), len(w), probes, ensembles, connections, a hash of the layout (offsets, shapes, neuron kinds, kernels, dt) |
    /// | `steps`            | uint64  | ()               | steps run ([`Simulator::n_steps`]) |
    /// | `sig`              | float32 | (len(sig),)      | every vector of the network as built: inputs, activities, voltages, refractory timers, live masks (ablations), biases, filter states |
    /// | `w`                | float32 | (len(w),)        | every matrix: weights as learned so far (cut synapses zero), encoders |
    /// | `probe{i}`         | float32 | (samples, width) | probe `i`'s samples so far ([`Simulator::data`]) |
    /// | `lesions`          | uint64  | (k,)             | the connection of each lesion in force, in the order they were made |
    /// | `lesion{j}.mask`   | bool    | (post, pre)      | lesion `j`'s cut synapses ([`Simulator::lesion_mask`]) |
    /// | `lesion{j}.at`     | uint64  | (m,)             | indices in `w` of the weights it zeroed |
    /// | `lesion{j}.saved`  | float32 | (m,)             | their values when cut, which `restore_synapses` gives back |
    ///
    /// Not saved: what callback nodes keep in their closures (function nodes are functions of
    /// time and resume as they were). Written as [`Simulator::save_weights`] writes: whole
    /// or not at all.
    pub(super) fn nef_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let built = Arc::clone(&self.nef_built);
        // The state is `sig` as built (signals a lesion adds are recomputed every step) and `w`.
        let sig = self.backend.read_f32("sig", 0, built.sig.len())?;
        let w = self.backend.read_f32("w", 0, built.w.len())?;
        let fingerprint = Array1::from(self.fingerprint().to_vec());
        let (steps, samples, lesions) = (self.step, &self.samples, &self.lesions);
        write_npz(path.as_ref(), |out| {
            out.add("lamina_state", &arr0(STATE_FORMAT))?;
            out.add("fingerprint", &fingerprint)?;
            out.add("steps", &arr0(steps))?;
            out.add("sig", &ArrayView1::from(&sig))?;
            out.add("w", &ArrayView1::from(&w))?;
            for (p, (layout, data)) in built.probes.iter().zip(samples).enumerate() {
                let rows = data.len() / layout.width;
                out.add(&format!("probe{p}"), &shaped(data, &[rows, layout.width])?)?;
            }
            // Host-side state beyond `sig` and `w` goes here, and is read in `read_lesions`
            // (or a function like it) and applied at the end of `load_checkpoint`.
            let conns: Array1<u64> = lesions.iter().map(|l| l.cut.conn as u64).collect();
            out.add("lesions", &conns)?;
            for (j, l) in lesions.iter().enumerate() {
                let at: Array1<u64> = l.saved.iter().map(|&(at, _)| at as u64).collect();
                let saved: Array1<f32> = l.saved.iter().map(|&(_, v)| v).collect();
                out.add(&format!("lesion{j}.mask"), &l.cut.mask)?;
                out.add(&format!("lesion{j}.at"), &at)?;
                out.add(&format!("lesion{j}.saved"), &saved)?;
            }
            Ok(())
        })
    }

    /// Replaces this simulator's state with one written by [`Simulator::checkpoint`] (on
    /// either backend): signals, weights, the step counter, every probe's samples, and the
    /// lesions (those in force here are lifted, those in the file put in force; the backend
    /// is reopened if that changes its tables). The file must come from a network of the same
    /// structure: the arrays' shapes (the error names the array and both shapes) and the
    /// fingerprint are checked first, and nothing is changed unless the whole file is right.
    /// The weights, biases and encoders in the file replace this simulator's; what the
    /// simulator reports from its build (`ensemble`, decoders) is this network's, so load
    /// files saved from the same network (same seed). `reset` still goes back to the network
    /// as built.
    pub(super) fn nef_load_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let built = Arc::clone(&self.nef_built);
        let mut file = NpzIn::open(path.as_ref())?;
        file.check_version(
            "lamina_state",
            "a state file written by Simulator::checkpoint",
            "state",
            STATE_FORMAT,
        )?;
        let sig = file.array::<f32>("sig", &[built.sig.len()])?;
        let w = file.array::<f32>("w", &[built.w.len()])?;
        let ours = self.fingerprint();
        file.check_fingerprint(&FINGERPRINT, &ours, "it was saved from another network", "")?;
        let steps = file.step_counter("steps")?;
        let mut samples = Vec::with_capacity(built.probes.len());
        for (p, layout) in built.probes.iter().enumerate() {
            let rows = (steps / layout.every as u64) as usize;
            samples.push(file.array::<f32>(&format!("probe{p}"), &[rows, layout.width])?);
        }
        let lesions = read_lesions(&mut file, &built)?;

        // Everything read and checked: now the lesioned tables, then the values.
        let cuts: Vec<Cut> = lesions.iter().map(|l| l.cut.clone()).collect();
        let plan = if cuts.is_empty() {
            Arc::clone(&built)
        } else {
            Arc::new(lesioned_plan(&built, &cuts).map_err(|e| file.error(e.to_string()))?)
        };
        if plan.dispatches != self.nef_plan.dispatches || plan.sig != self.nef_plan.sig {
            self.reopen_nef(plan)?;
        } else {
            self.nef_plan = plan;
        }
        self.lesions = lesions;
        self.backend.write_f32("sig", 0, &sig)?;
        self.backend.write_f32("w", 0, &w)?;
        self.step = steps;
        self.samples = samples;
        Ok(())
    }

    /// The structure a state file must match: sizes, and a hash of where everything is.
    fn fingerprint(&self) -> [u64; 6] {
        let plan = &self.nef_built;
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
            use crate::lower::nef::NefDispatch::*;
            let rows = match d {
                Sum { rows, entries } => rows.len() + entries.len(),
                MatVec { rows } => rows.len(),
                Neurons { rows } => rows.len(),
                Pes { rows } => rows.len(),
                // The model's kernel in the hash: a state saved under another model is refused.
                Synapse { rule, rows } => {
                    h = h.str(&plan.rules[*rule].source);
                    rows.len()
                }
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
}

/// The lesions of a state file, checked against the network as built (a file without
/// `lesions` has none).
fn read_lesions(file: &mut NpzIn, built: &NefPlan) -> Result<Vec<ConnLesion>> {
    if !file.has("lesions") {
        return Ok(Vec::new());
    }
    let conns = file.vector::<u64>("lesions")?;
    let mut lesions: Vec<ConnLesion> = Vec::with_capacity(conns.len());
    for (j, &conn) in conns.iter().enumerate() {
        let c = built.built_connections.get(conn as usize).ok_or_else(|| {
            file.error(format!(
                "lesion {j} is on connection {conn}; this network has {}",
                built.built_connections.len()
            ))
        })?;
        if lesions.iter().any(|l| l.cut.conn == conn as usize) {
            return Err(file.error(format!("connection {conn} has two lesions")));
        }
        let (posts, pres) = synapse_shape(built, c).ok_or_else(|| {
            file.error(format!(
                "lesion {j} is on connection {conn}, which has no neurons to lesion"
            ))
        })?;
        let mask = file.array::<bool>(&format!("lesion{j}.mask"), &[posts, pres])?;
        let at = file.vector::<u64>(&format!("lesion{j}.at"))?;
        let saved = file.array::<f32>(&format!("lesion{j}.saved"), &[at.len()])?;
        let region = c.w_off as u64..(c.w_off + c.rows * c.cols) as u64;
        if let Some(bad) = at.iter().find(|a| !region.contains(a)) {
            return Err(file.error(format!(
                "`lesion{j}.at` holds {bad}, outside connection {conn}'s weights \
                 ({}..{} in `w`)",
                region.start, region.end
            )));
        }
        lesions.push(ConnLesion {
            cut: Cut {
                conn: conn as usize,
                mask: Array2::from_shape_vec((posts, pres), mask)
                    .map_err(|e| file.error(e.to_string()))?,
            },
            saved: at.iter().map(|&a| a as usize).zip(saved).collect(),
        });
    }
    Ok(lesions)
}
