//! Connections: a matrix (decoders times the transform, a transform alone, or weights solved
//! directly) applied to the pre's values, filtered by the synapse, and summed into the post.

use super::ensembles::{ensemble_key, ensemble_rates};
use super::{Lowering, SumTarget};
use crate::error::{invalid, Result};
use crate::lower::nef::layout::SumEntry;
use crate::lower::nef::plan::{BuiltConnection, BuiltEnsemble, ConnRows};
use crate::lower::nef::solvers::{LstsqL2Factor, Solver};
use crate::model::nef::network::{ConnectionSpec, ObjKind, Transform};
use crate::model::nef::VecFn;
use crate::rng::stream;
use ndarray::{s, Array2, ArrayView2};
use std::ops::Range;
use std::rc::Rc;

/// Which pre neurons a `Solver::Dale` with a fraction makes excitatory: a stream of the pre
/// ensemble's key, after those `ensembles` draws from.
const DRAW_EXCITATORY: u64 = 5;

/// What a connection's matrix multiplies: `len` values at `src` in `sig`; and what was solved
/// to get the matrix.
struct Source {
    src: u32,
    len: usize,
    /// Function size x pre neurons, for a decoded connection.
    decoders: Option<Array2<f64>>,
    /// Post x pre neuron weights of a solver that solves them directly, and which pre neurons
    /// are excitatory.
    solved: Option<(Array2<f64>, Vec<bool>)>,
}

impl Source {
    fn values(src: u32, len: usize) -> Source {
        Source {
            src,
            len,
            decoders: None,
            solved: None,
        }
    }
}

/// Targets of a decoded connection: `function` (or the identity) of the pre slice at every
/// eval point, `m x size_mid`.
fn eval_targets(
    eval_points: &Array2<f64>,
    pre_slice: Range<usize>,
    function: Option<&VecFn>,
    size_mid: usize,
) -> Result<Array2<f64>> {
    let m = eval_points.nrows();
    let mut targets = Array2::zeros((m, size_mid));
    for p in 0..m {
        let x: Vec<f64> = eval_points.slice(s![p, pre_slice.clone()]).to_vec();
        let y = match function {
            Some(f) => f(&x),
            None => x.clone(),
        };
        if y.len() != size_mid {
            return Err(invalid!(
                "the function returned {} values at {x:?}; the connection declared {size_mid}",
                y.len()
            ));
        }
        if let Some(bad) = y.iter().find(|v| !v.is_finite()) {
            return Err(invalid!(
                "the function returned {bad} at {x:?}; it must be finite"
            ));
        }
        targets.row_mut(p).assign(&ndarray::ArrayView1::from(&y));
    }
    Ok(targets)
}

fn transform_matrix(c: &ConnectionSpec) -> Array2<f64> {
    match &c.conn.transform {
        Transform::Scalar(k) => Array2::eye(c.size_out) * *k,
        Transform::Matrix(m) => m.clone(),
    }
}

/// The connection's own eval points (given in units of the radius), or the pre ensemble's.
fn connection_eval_points(c: &ConnectionSpec, pre: &BuiltEnsemble) -> Array2<f64> {
    match &c.conn.eval_points {
        Some(p) => p * pre.radius,
        None => pre.eval_points.clone(),
    }
}

/// The post x pre matrix: weights solved directly as they are; otherwise the transform after
/// the decoders if any, and before the post's scaled encoders for a weight solver's
/// connection (`full_weights`).
fn connection_matrix(
    built: &[BuiltEnsemble],
    c: &ConnectionSpec,
    post_range: &Range<usize>,
    transform: Array2<f64>,
    decoders: Option<&Array2<f64>>,
    solved: Option<Array2<f64>>,
    full_weights: bool,
) -> Array2<f64> {
    let direct = solved.is_some();
    let mut weights = match (decoders, solved) {
        (_, Some(w)) => w,
        (Some(d), None) => transform.dot(&d.t()),
        (None, None) => transform,
    };
    if full_weights && !direct {
        let ObjKind::Ensemble(e) = c.post.kind else {
            unreachable!()
        };
        let enc = built[e].scaled_encoders.slice(s![.., post_range.clone()]);
        weights = enc.dot(&weights);
    }
    weights
}

/// What the rows of the matrix feed, for lesions and for learning rules.
fn connection_rows(c: &ConnectionSpec, post_range: &Range<usize>, full_weights: bool) -> ConnRows {
    match c.post.kind {
        ObjKind::Ensemble(ens) if full_weights => ConnRows::Neurons {
            ens,
            first: 0,
            gain: false,
        },
        ObjKind::Ensemble(ens) => ConnRows::EnsembleInput {
            ens,
            first: post_range.start,
        },
        ObjKind::Neurons(ens) => ConnRows::Neurons {
            ens,
            first: post_range.start,
            gain: true,
        },
        ObjKind::Node(_) | ObjKind::LearningRule(_) => ConnRows::Other,
    }
}

impl Lowering<'_> {
    pub(super) fn connection(
        &mut self,
        c: &ConnectionSpec,
        built: &[BuiltEnsemble],
    ) -> Result<BuiltConnection> {
        let net = self.net;
        let pre_range = net.resolve(&c.pre, false)?;
        let post_range = net.resolve(&c.post, true)?;
        let transform = transform_matrix(c);
        let Source {
            src,
            len: src_len,
            decoders,
            solved,
        } = self.connection_source(c, built, pre_range, &post_range, &transform)?;
        let (solved, excitatory) = solved.unzip();
        let full_weights = net.to_neurons(c) && matches!(c.post.kind, ObjKind::Ensemble(_));
        let weights = connection_matrix(
            built,
            c,
            &post_range,
            transform,
            decoders.as_ref(),
            solved,
            full_weights,
        );
        let (rows, cols) = weights.dim();
        debug_assert_eq!(cols, src_len);
        let w_off = self.w.len();
        let out = self.matvec(
            &weights,
            src,
            format!("connection {:?} -> {:?}", c.pre.kind, c.post.kind),
        )?;
        let delivered = self.filtered(c.conn.synapse, out, rows)?;
        self.deliver(c, built, delivered, rows, &post_range, full_weights);
        Ok(BuiltConnection {
            excitatory,
            w_off,
            rows,
            cols,
            decoders: decoders.map(|d| d.reversed_axes()),
            pre_neurons: !matches!(c.pre.kind, ObjKind::Node(_)),
            post: connection_rows(c, &post_range, full_weights),
            delivered: delivered as usize,
        })
    }

    fn connection_source(
        &mut self,
        c: &ConnectionSpec,
        built: &[BuiltEnsemble],
        pre_range: Range<usize>,
        post_range: &Range<usize>,
        transform: &Array2<f64>,
    ) -> Result<Source> {
        Ok(match c.pre.kind {
            ObjKind::Ensemble(e) if c.conn.solver.solves_neuron_weights() => {
                let solved = self.solved_weights(c, built, e, pre_range, post_range, transform)?;
                Source {
                    solved: Some(solved),
                    ..Source::values(self.ens[e].out, built[e].gain.len())
                }
            }
            ObjKind::Ensemble(e) => {
                let pre = &built[e];
                let points = connection_eval_points(c, pre);
                let function = c.conn.function.as_ref().map(|(_, f)| f);
                let own = (e, c.conn.eval_points.is_none());
                let d = self.decoders(
                    pre,
                    own,
                    pre_range,
                    &points,
                    function,
                    c.size_mid,
                    &c.conn.solver,
                )?;
                Source {
                    decoders: Some(d),
                    ..Source::values(self.ens[e].out, pre.gain.len())
                }
            }
            ObjKind::Neurons(e) => {
                Source::values(self.ens[e].out + pre_range.start as u32, pre_range.len())
            }
            ObjKind::Node(k) => {
                Source::values(self.node_out[k] + pre_range.start as u32, pre_range.len())
            }
            ObjKind::LearningRule(_) => unreachable!("refused by NefNetwork::connect"),
        })
    }

    /// Post x pre weights of a solver that solves them directly (`Nnls` with weights, `Dale`),
    /// from ensemble `e`, and their signs.
    fn solved_weights(
        &self,
        c: &ConnectionSpec,
        built: &[BuiltEnsemble],
        e: usize,
        pre_range: Range<usize>,
        post_range: &Range<usize>,
        transform: &Array2<f64>,
    ) -> Result<(Array2<f64>, Vec<bool>)> {
        let pre = &built[e];
        let points = connection_eval_points(c, pre);
        let ObjKind::Ensemble(post) = c.post.kind else {
            return Err(invalid!(
                "{:?} solves neuron weights: the connection needs an ensemble as its \
                 post",
                c.conn.solver
            ));
        };
        let enc = built[post]
            .scaled_encoders
            .slice(s![.., post_range.clone()]);
        self.neuron_weights(c, pre, pre_range, &points, transform, enc)
    }

    /// Adds the connection's delivered rows to the sums of what its post reads.
    fn deliver(
        &mut self,
        c: &ConnectionSpec,
        built: &[BuiltEnsemble],
        delivered: u32,
        rows: usize,
        post_range: &Range<usize>,
        full_weights: bool,
    ) {
        for r in 0..rows {
            let from = delivered + r as u32;
            match c.post.kind {
                ObjKind::Ensemble(e) if full_weights => {
                    let dst = self.ens[e].neuron_in + r as u32;
                    self.add_sum(SumTarget::NeuronInput(e), dst, from, 1.0);
                }
                ObjKind::Ensemble(e) => {
                    let dst = self.ens[e].input + (post_range.start + r) as u32;
                    self.add_sum(SumTarget::EnsInput(e), dst, from, 1.0);
                }
                ObjKind::Neurons(e) => {
                    // Nengo multiplies inputs to neurons by their gains, after the synapse.
                    let i = post_range.start + r;
                    let dst = self.ens[e].neuron_in + i as u32;
                    self.add_sum(
                        SumTarget::NeuronInput(e),
                        dst,
                        from,
                        built[e].gain[i] as f32,
                    );
                }
                ObjKind::Node(k) => {
                    let dst = self.node_in[k] + (post_range.start + r) as u32;
                    self.add_sum(SumTarget::NodeInput(k), dst, from, 1.0);
                }
                ObjKind::LearningRule(l) => {
                    let dst = self.rule_error[l] + (post_range.start + r) as u32;
                    self.add_sum(SumTarget::RuleError(l), dst, from, 1.0);
                }
            }
        }
    }

    fn add_sum(&mut self, target: SumTarget, dst: u32, src: u32, scale: f32) {
        self.sums
            .entry(target)
            .or_default()
            .entry(dst)
            .or_default()
            .push(SumEntry { src, scale });
    }

    /// Decoders (pre neurons x function size) of a decoded connection, by Nengo's recipe.
    /// `ens` and `own_points`: the ensemble's index, and whether `eval_points` are its own;
    /// then the factorised system is shared by every decoding from it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decoders(
        &mut self,
        pre: &BuiltEnsemble,
        (ens, own_points): (usize, bool),
        pre_slice: Range<usize>,
        eval_points: &Array2<f64>,
        function: Option<&VecFn>,
        size_mid: usize,
        solver: &Solver,
    ) -> Result<Array2<f64>> {
        let reg = match *solver {
            Solver::LstsqL2 { reg, .. } => reg,
            // Sign-constrained decoders (`Nnls`): solved per connection, nothing to share.
            _ => {
                let targets = eval_targets(eval_points, pre_slice, function, size_mid)?;
                return solver.solve(&ensemble_rates(pre, eval_points), &targets);
            }
        };
        let key = (ens, reg.to_bits());
        let factor = match self.factors.get(&key) {
            Some(f) if own_points => f.clone(),
            _ => {
                let f = Rc::new(LstsqL2Factor::new(&ensemble_rates(pre, eval_points), reg)?);
                if own_points {
                    self.factors.insert(key, f.clone());
                }
                f
            }
        };
        let targets = eval_targets(eval_points, pre_slice, function, size_mid)?;
        factor.solve(&targets)
    }

    /// Post x pre neuron weights of a solver that solves them directly (`Nnls` with weights,
    /// `Dale`), fitted to the input currents the post neurons need (bias aside), `J = Y T^T E^T`
    /// (targets over the eval points, the transform, the post's scaled encoders), and the
    /// excitatory mask.
    fn neuron_weights(
        &self,
        c: &ConnectionSpec,
        pre: &BuiltEnsemble,
        pre_slice: Range<usize>,
        eval_points: &Array2<f64>,
        transform: &Array2<f64>,
        post_encoders: ArrayView2<f64>,
    ) -> Result<(Array2<f64>, Vec<bool>)> {
        let function = c.conn.function.as_ref().map(|(_, f)| f);
        let targets = eval_targets(eval_points, pre_slice, function, c.size_mid)?;
        let currents = targets.dot(&transform.t()).dot(&post_encoders.t());
        // Keyed by the pre ensemble (its key, as `ensemble` makes it): which neurons are
        // excitatory is a property of the neurons, the same for all their connections.
        let mut rng = stream(self.net.seed, ensemble_key(&pre.name), DRAW_EXCITATORY);
        c.conn
            .solver
            .solve_neuron_weights(&ensemble_rates(pre, eval_points), &currents, &mut rng)
    }
}

#[cfg(test)]
mod tests {
    use crate::lower::nef::layout::{FilterRow, SumEntry, SumRow};
    use crate::lower::nef::{build_nef, ConnRows, NefDispatch, NefPlan};
    use crate::model::nef::{Connection, Ensemble, EnsembleId, NefNetwork};
    use ndarray::Array2;

    /// The entries of the sum row that writes `dst`.
    fn summed_into(plan: &NefPlan, dst: u32) -> Vec<SumEntry> {
        plan.dispatches
            .iter()
            .find_map(|d| match d {
                NefDispatch::Sum { rows, entries } => {
                    rows.iter()
                        .find(|r| r.dst == dst)
                        .map(|&SumRow { first, count, .. }| {
                            entries[first as usize..(first + count) as usize].to_vec()
                        })
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no sum row writes sig[{dst}]"))
    }

    fn kernels(plan: &NefPlan) -> Vec<&'static str> {
        plan.dispatches.iter().map(NefDispatch::kernel).collect()
    }

    /// a (4 neurons) and b (3 neurons), one dimension each: a's signals are sig[0..29], b's
    /// sig[29..51] (input 29, neuron input 33), their encoders w[0..4] and w[4..7].
    fn two_ensembles() -> (NefNetwork, EnsembleId, EnsembleId) {
        let mut net = NefNetwork::new().with_seed(2);
        let a = net.ensemble("a", Ensemble::new(4, 1)).unwrap();
        let b = net.ensemble("b", Ensemble::new(3, 1)).unwrap();
        (net, a, b)
    }

    #[test]
    fn a_decoded_connection_is_transform_times_decoders_filtered_into_the_post_input() {
        let (mut net, ea, eb) = two_ensembles();
        net.connect(ea, eb, Connection::new().scale(2.0)).unwrap();
        let plan = build_nef(&net).unwrap();
        let c = &plan.built_connections[0];
        let d = c
            .decoders
            .as_ref()
            .expect("a decoded connection has decoders");
        assert_eq!(d.dim(), (1, 4));
        assert_eq!((c.w_off, c.rows, c.cols), (7, 1, 4));
        assert_eq!(c.post, ConnRows::EnsembleInput { ens: 1, first: 0 });
        assert!(c.pre_neurons && c.excitatory.is_none());
        let doubled: Vec<f32> = d.iter().map(|&x| (2.0 * x) as f32).collect();
        assert_eq!(plan.w[7..11], doubled[..]);
        // The product at sig[51], through the default lowpass into sig[52] (state 53..55).
        assert_eq!(c.delivered, 52);
        assert_eq!(
            summed_into(&plan, 29),
            [SumEntry {
                src: 52,
                scale: 1.0
            }]
        );
        assert_eq!(
            plan.dispatches[plan.dispatches.len() - 2],
            NefDispatch::Filter {
                rows: vec![FilterRow {
                    src: 51,
                    dst: 52,
                    state: 53,
                    coef: 0
                }]
            }
        );
        // a's encoders and b's input; b's encoders and a's neurons; the connection and b's
        // neurons; then the end-of-step filter.
        assert_eq!(
            kernels(&plan),
            [
                "nef_sum",
                "nef_matvec",
                "nef_matvec",
                "nef_neurons",
                "nef_matvec",
                "nef_neurons",
                "nef_filter",
                "nef_advance"
            ]
        );
    }

    #[test]
    fn a_neuron_to_neuron_connection_is_its_transform_scaled_by_the_post_gains() {
        let (mut net, ea, eb) = two_ensembles();
        let t = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 / 8.0);
        net.connect(
            ea.neurons(),
            eb.neurons(),
            Connection::new().transform(t.clone()),
        )
        .unwrap();
        let plan = build_nef(&net).unwrap();
        let c = &plan.built_connections[0];
        assert!(c.decoders.is_none());
        assert_eq!((c.w_off, c.rows, c.cols), (7, 3, 4));
        assert_eq!(
            c.post,
            ConnRows::Neurons {
                ens: 1,
                first: 0,
                gain: true
            }
        );
        let t32: Vec<f32> = t.iter().map(|&x| x as f32).collect();
        assert_eq!(plan.w[7..19], t32[..]);
        // Products at sig[51..54], filtered into sig[54..57].
        assert_eq!(c.delivered, 54);
        let gain = &plan.built_ensembles[1].gain;
        for r in 0..3 {
            assert_eq!(
                summed_into(&plan, 33 + r),
                [SumEntry {
                    src: 54 + r,
                    scale: gain[r as usize] as f32
                }]
            );
        }
        let matvec_rows: usize = plan
            .dispatches
            .iter()
            .map(|d| match d {
                NefDispatch::MatVec { rows } => rows.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(
            matvec_rows,
            4 + 3 + 3,
            "two encoders and the connection's rows"
        );
    }
}
