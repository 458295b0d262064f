//! Lesions between steps: cutting a connection's synapses into chosen post neurons, from chosen
//! pre neurons, or by a mask, on any backend, mid-run; `restore_synapses` lifts them. See
//! `lower::nef::lesion` for how a cut becomes a rewrite of the plan's tables.

use super::Simulator;
use crate::error::{Error, Result};
use crate::lower::nef::{cut_weights, lesioned_plan, synapse_shape, ConnRows, Cut};
use crate::model::nef::ConnectionId;
use ndarray::{s, Array2};
use std::sync::Arc;

/// Which synapses of a connection [`Simulator::lesion_connection`] cuts. Indices are rows (post
/// neurons) and columns (pre neurons) of [`Simulator::full_weights`]: for a connection into
/// an ensemble, every neuron of it; into `ens.neurons()` (or a slice of them), the neurons of
/// the slice, from 0.
#[derive(Clone, Copy, Debug)]
pub enum Lesion<'a> {
    /// Every synapse into these post neurons (their other inputs stay).
    Post(&'a [usize]),
    /// Every synapse from these pre neurons.
    Pre(&'a [usize]),
    /// The synapses where the mask (post x pre) is true.
    Synapses(&'a Array2<bool>),
}

/// A lesion in force on one connection.
#[derive(Clone, Debug)]
pub(super) struct ConnLesion {
    pub cut: Cut,
    /// `(index in w, weight before the cut)` of every weight the cut zeroed, for `restore_synapses`.
    pub saved: Vec<(usize, f32)>,
}

impl Simulator {
    /// Cuts synapses of a connection from the next step on, and keeps them cut: their weights
    /// read zero, PES never changes them, `set_weights` writes them as zero. Lesions add up;
    /// [`Simulator::restore_connection`] lifts them. Works on weight connections, neuron -> neuron
    /// connections and decoded (factored) connections; on a factored one a lesion can cut whole
    /// post neurons (the connection no longer enters their current; their other inputs stay)
    /// or whole pre neurons (their decoders are zeroed), but not single synapses.
    ///
    /// Cost: one write of the cut weights; if the cut changes which weights learn or how
    /// inputs reach the neurons, the backend is reopened with the rewritten tables and the
    /// state copied over (a readback and an upload of everything, on a GPU).
    pub fn lesion_connection(&mut self, conn: ConnectionId, lesion: Lesion) -> Result<()> {
        let c = self.connection(conn)?.clone();
        let (posts, pres) = synapse_shape(&self.nef_built, &c).ok_or_else(|| {
            Error::Simulation(format!(
                "connection {} goes into a node or a learning rule, which has no neurons to \
                 lesion; cut it at its pre neurons by lesioning another connection, or set its \
                 weights",
                conn.index
            ))
        })?;
        // The connection's lesion so far, taken out; put back below with this one added.
        let mut lesions = self.lesions.clone();
        let old = lesions
            .iter()
            .position(|l| l.cut.conn == conn.index)
            .map(|i| lesions.remove(i));
        let mut mask = old.as_ref().map_or_else(
            || Array2::from_elem((posts, pres), false),
            |l| l.cut.mask.clone(),
        );
        let out_of_range = |what: &str, i: usize, n: usize| {
            Error::Simulation(format!(
                "connection {} has {n} {what} neurons (0 .. {}); cannot lesion {what} neuron {i}",
                conn.index,
                n.saturating_sub(1)
            ))
        };
        match lesion {
            Lesion::Post(neurons) => {
                for &k in neurons {
                    if k >= posts {
                        return Err(out_of_range("post", k, posts));
                    }
                    mask.row_mut(k).fill(true);
                }
            }
            Lesion::Pre(neurons) => {
                if !c.pre_neurons {
                    return Err(Error::Simulation(format!(
                        "connection {} comes from a node, which has no pre neurons to lesion",
                        conn.index
                    )));
                }
                for &j in neurons {
                    if j >= pres {
                        return Err(out_of_range("pre", j, pres));
                    }
                    mask.column_mut(j).fill(true);
                }
            }
            Lesion::Synapses(cut) => {
                if cut.dim() != (posts, pres) {
                    return Err(Error::Simulation(format!(
                        "connection {} has {posts} x {pres} synapses (post x pre); the lesion \
                         mask is {} x {}",
                        conn.index,
                        cut.nrows(),
                        cut.ncols()
                    )));
                }
                mask.zip_mut_with(cut, |m, &x| *m |= x);
            }
        }
        let (before, saved) = match old {
            Some(l) => (cut_weights(&self.nef_built, &l.cut), l.saved),
            None => (Vec::new(), Vec::new()),
        };
        let cut = Cut {
            conn: conn.index,
            mask,
        };
        let fresh: Vec<usize> = cut_weights(&self.nef_built, &cut)
            .into_iter()
            .filter(|at| before.binary_search(at).is_err())
            .collect();
        lesions.push(ConnLesion { cut, saved });
        self.apply_lesions(lesions, conn.index, &fresh, &[])
    }

    /// Lifts every lesion of a connection: its cut weights get back the values they had when
    /// they were cut (PES resumes on them), and a factored connection reaches every post neuron
    /// again.
    pub fn restore_connection(&mut self, conn: ConnectionId) -> Result<()> {
        self.connection(conn)?;
        let mut lesions = self.lesions.clone();
        let Some(i) = lesions.iter().position(|l| l.cut.conn == conn.index) else {
            return Ok(());
        };
        let healed = lesions.remove(i);
        self.apply_lesions(lesions, conn.index, &[], &healed.saved)
    }

    /// The synapses of a connection cut now (post x pre), or `None` if it has no lesion.
    pub fn lesion_mask(&self, conn: ConnectionId) -> Result<Option<Array2<bool>>> {
        self.connection(conn)?;
        Ok(self
            .lesions
            .iter()
            .find(|l| l.cut.conn == conn.index)
            .map(|l| l.cut.mask.clone()))
    }

    /// The weights of a connection as post neurons x pre neurons, the currents one unit of
    /// pre activity gives each post neuron: for a factored (decoded) connection the post's
    /// scaled encoders times the decoders (and transform); for a connection into
    /// `ens.neurons()` the weights times the post gains (Nengo multiplies inputs to neurons by
    /// their gains); a weight connection's own matrix otherwise. Lesioned synapses read zero.
    pub fn full_weights(&mut self, conn: ConnectionId) -> Result<Array2<f32>> {
        let c = self.connection(conn)?.clone();
        let w = self.weights(conn)?;
        match c.post {
            ConnRows::Neurons { gain: false, .. } => Ok(w),
            ConnRows::Neurons {
                ens,
                first,
                gain: true,
            } => {
                let gain = &self.nef_built.built_ensembles[ens].gain;
                let mut w = w;
                for (r, mut row) in w.rows_mut().into_iter().enumerate() {
                    let g = gain[first + r] as f32;
                    row.mapv_inplace(|x| g * x);
                }
                Ok(w)
            }
            ConnRows::EnsembleInput { ens, first } => {
                let enc = self
                    .scaled_encoders(ens)?
                    .slice(s![.., first..first + c.rows])
                    .mapv(|x| x as f64);
                let mut full = enc.dot(&w.mapv(|x| x as f64)).mapv(|x| x as f32);
                if let Some(mask) = self.lesion_mask(conn)? {
                    for (k, mut row) in full.rows_mut().into_iter().enumerate() {
                        if mask.row(k).iter().all(|&x| x) {
                            row.fill(0.0);
                        }
                    }
                }
                Ok(full)
            }
            ConnRows::Other => Err(Error::Simulation(format!(
                "connection {} goes into a node or a learning rule, which has no neurons; read \
                 its weights with `weights`",
                conn.index
            ))),
        }
    }

    /// Indices in `w` of a connection's weights that its lesion holds at zero.
    pub(super) fn cut_weights(&self, conn: usize) -> Vec<usize> {
        self.lesions
            .iter()
            .find(|l| l.cut.conn == conn)
            .map_or_else(Vec::new, |l| cut_weights(&self.nef_built, &l.cut))
    }

    /// Puts `lesions` in force: zeroes connection `conn`'s weights at `zero` (keeping their
    /// values in its lesion's `saved`, for `restore_synapses`) and writes `restore` (indices in `w`), then
    /// reopens the backend with the rewritten tables if they changed. Nothing changes on an
    /// error.
    fn apply_lesions(
        &mut self,
        mut lesions: Vec<ConnLesion>,
        conn: usize,
        zero: &[usize],
        restore: &[(usize, f32)],
    ) -> Result<()> {
        let cuts: Vec<Cut> = lesions.iter().map(|l| l.cut.clone()).collect();
        let plan = lesioned_plan(&self.nef_built, &cuts)?;
        let same_tables =
            plan.dispatches == self.nef_plan.dispatches && plan.sig == self.nef_plan.sig;
        // Patch the whole region of the connection (one read, one write), or all of `w` when
        // the backend is reopened.
        let (first, len) = if same_tables {
            let c = &self.nef_built.built_connections[conn];
            (c.w_off, c.rows * c.cols)
        } else {
            (0, self.nef_built.w.len())
        };
        let mut w = self.backend.read_f32("w", first, len)?;
        if let Some(l) = lesions.iter_mut().find(|l| l.cut.conn == conn) {
            l.saved.extend(zero.iter().map(|&at| (at, w[at - first])));
        }
        for &at in zero {
            w[at - first] = 0.0;
        }
        for &(at, v) in restore {
            w[at - first] = v;
        }
        if same_tables {
            self.backend.write_f32("w", first, &w)?;
        } else {
            // The state is everything in `sig` as built (the decoded-input copies are computed
            // afresh each step) and all of `w`.
            let sig = self.backend.read_f32("sig", 0, self.nef_built.sig.len())?;
            self.reopen_nef(Arc::new(plan))?;
            self.backend.write_f32("sig", 0, &sig)?;
            self.backend.write_f32("w", 0, &w)?;
        }
        self.lesions = lesions;
        Ok(())
    }
}
