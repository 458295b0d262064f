//! The checks `NefNetwork::connect` makes before it adds a connection, so that a bad
//! connection fails where it is made rather than when the network is built.

use super::{Connection, NefNetwork, NefObj, ObjKind, Transform};
use crate::error::{invalid, Result};
use crate::lower::nef::solvers::{Excitatory, Solver};
use crate::model::nef::fits_f32;

impl NefNetwork {
    /// Checks a connection from `pre` to `post`; returns its `size_mid` and `size_out`.
    pub(super) fn check_connection(
        &self,
        pre: &NefObj,
        post: &NefObj,
        conn: &Connection,
    ) -> Result<(usize, usize)> {
        let pre_range = self.resolve(pre, false)?;
        if let ObjKind::LearningRule(_) = pre.kind {
            return Err(invalid!("a learning rule cannot be a connection's source"));
        }
        self.check_target_takes_input(post)?;
        let post_range = self.resolve(post, true)?;
        let decoded = matches!(pre.kind, ObjKind::Ensemble(_));
        let size_mid = self.size_mid(pre, conn, decoded, pre_range.len())?;
        let size_out = post_range.len();
        self.check_transform(pre, post, &conn.transform, size_mid, size_out)?;
        conn.synapse.validate()?;
        conn.solver.validate()?;
        self.check_weight_solver(pre, post, &conn.solver, decoded)?;
        self.check_eval_points(pre, conn, decoded)?;
        Ok((size_mid, size_out))
    }

    /// Refuses a node target that takes no input. Checked before the target is resolved, so
    /// that this, rather than the node's empty input range, is what is reported.
    fn check_target_takes_input(&self, post: &NefObj) -> Result<()> {
        if let ObjKind::Node(i) = post.kind {
            if post.net == self.id && i < self.nodes.len() && self.nodes[i].1.size_in() == 0 {
                return Err(invalid!(
                    "node `{}` takes no input: only a passthrough or callback node can be a target",
                    self.nodes[i].0
                ));
            }
        }
        Ok(())
    }

    /// The transform's input size: the function's output, or the pre slice.
    fn size_mid(
        &self,
        pre: &NefObj,
        conn: &Connection,
        decoded: bool,
        pre_len: usize,
    ) -> Result<usize> {
        let size_mid = match &conn.function {
            Some((n, _)) if decoded => *n,
            Some(_) => {
                return Err(invalid!(
                    "a function can only be decoded from an ensemble; {} is not one \
                     (compute it in a node instead)",
                    self.describe(pre.kind)
                ))
            }
            None => pre_len,
        };
        if size_mid == 0 {
            return Err(invalid!(
                "a connection's function must return at least one value"
            ));
        }
        Ok(size_mid)
    }

    fn check_transform(
        &self,
        pre: &NefObj,
        post: &NefObj,
        transform: &Transform,
        size_mid: usize,
        size_out: usize,
    ) -> Result<()> {
        match transform {
            Transform::Scalar(k) => {
                if !fits_f32(*k) {
                    return Err(invalid!(
                        "transform {k} is not finite in float32 (|k| must stay below 3.4e38)"
                    ));
                }
                if size_mid != size_out {
                    return Err(invalid!(
                        "a scalar transform needs the same size on both ends: {} gives {size_mid} \
                         values but {} takes {size_out}; pass a {size_out}x{size_mid} matrix",
                        self.describe(pre.kind),
                        self.describe(post.kind)
                    ));
                }
            }
            Transform::Matrix(m) => {
                if m.dim() != (size_out, size_mid) {
                    return Err(invalid!(
                        "transform is {}x{} but the connection needs {size_out}x{size_mid} \
                         (post size x pre size)",
                        m.nrows(),
                        m.ncols()
                    ));
                }
                if m.iter().any(|x| !fits_f32(*x)) {
                    return Err(invalid!(
                        "transform contains a NaN or infinite value (in float32: |x| must stay \
                         below 3.4e38)"
                    ));
                }
            }
        }
        Ok(())
    }

    /// A solver for neuron weights needs ensembles on both ends, and Dale's mask one entry
    /// per pre neuron.
    fn check_weight_solver(
        &self,
        pre: &NefObj,
        post: &NefObj,
        solver: &Solver,
        decoded: bool,
    ) -> Result<()> {
        if solver.weights() && (!decoded || !matches!(post.kind, ObjKind::Ensemble(_))) {
            let what = match solver {
                Solver::Dale { .. } => "Solver::Dale solves post x pre neuron weights: it",
                _ => "a weight solver",
            };
            return Err(invalid!(
                "{what} needs an ensemble on both ends (ensemble -> ensemble); got {} -> {}",
                self.describe(pre.kind),
                self.describe(post.kind)
            ));
        }
        if let (
            Solver::Dale {
                excitatory: Excitatory::Mask(mask),
                ..
            },
            ObjKind::Ensemble(i),
        ) = (solver, pre.kind)
        {
            let n = self.ensembles[i].1.n_neurons;
            if mask.len() != n {
                return Err(invalid!(
                    "Solver::Dale: the excitatory mask has {} entries but {} has {n} neurons; \
                     give one per pre neuron",
                    mask.len(),
                    self.describe(pre.kind)
                ));
            }
        }
        Ok(())
    }

    fn check_eval_points(&self, pre: &NefObj, conn: &Connection, decoded: bool) -> Result<()> {
        if let Some(points) = &conn.eval_points {
            if !decoded {
                return Err(invalid!(
                    "eval_points only apply to a connection from an ensemble"
                ));
            }
            if points.ncols() != self.full_size(pre.kind, false) || points.nrows() == 0 {
                return Err(invalid!(
                    "eval_points are {}x{}; they need one column per dimension of {}",
                    points.nrows(),
                    points.ncols(),
                    self.describe(pre.kind)
                ));
            }
        }
        Ok(())
    }
}
