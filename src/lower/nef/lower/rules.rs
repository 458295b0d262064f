//! Learning rules: what every rule reads (its connection's pre activities, its error per row of
//! the weight matrix), and PES, one thread per row segment of the weight matrix.

use super::{Lowering, SEGMENT};
use crate::error::Result;
use crate::lower::nef::layout::PesRow;
use crate::lower::nef::plan::{BuiltConnection, BuiltEnsemble, EncoderCopy};
use crate::model::nef::network::ObjKind;
use crate::model::nef::Pes;
use ndarray::s;

impl Lowering<'_> {
    /// Where a learning rule's connection reads its pre activities (the pre slice's outputs).
    pub(super) fn rule_pre_activities(&self, conn: usize) -> Result<u32> {
        let c = &self.net.connections[conn];
        let pre_range = self.net.resolve(&c.pre, false)?;
        Ok(match c.pre.kind {
            ObjKind::Ensemble(e) => self.ens[e].out,
            ObjKind::Neurons(e) => self.ens[e].out + pre_range.start as u32,
            _ => unreachable!("refused by NefNetwork::add_rule"),
        })
    }

    /// Where rule `index`'s error is, one value per row of its connection's matrix: the error
    /// itself for decoded rows, or for rows of post neurons the post's scaled encoders times
    /// the error (Nengo's PES on neuron connections).
    pub(super) fn rule_row_errors(
        &mut self,
        index: usize,
        conn: usize,
        built: &[BuiltEnsemble],
        conns: &[BuiltConnection],
    ) -> Result<u32> {
        let net = self.net;
        let c = &net.connections[conn];
        let bc = &conns[conn];
        let error = self.rule_error[index];
        if !net.to_neurons(c) {
            return Ok(error);
        }
        let post_range = net.resolve(&c.post, true)?;
        let (ens, neurons, dims) = match c.post.kind {
            ObjKind::Neurons(e) => (e, post_range, 0..built[e].encoders.ncols()),
            ObjKind::Ensemble(e) => (e, 0..built[e].n_neurons(), post_range),
            _ => unreachable!("to_neurons implies an ensemble post"),
        };
        let enc = built[ens]
            .scaled_encoders
            .slice(s![neurons.clone(), dims.clone()])
            .to_owned();
        debug_assert_eq!(enc.nrows(), bc.rows);
        self.encoder_copies.push(EncoderCopy {
            ens,
            w_off: self.w.len(),
            neurons,
            dims,
        });
        self.matvec(
            &enc,
            error,
            format!("local error of the rule of connection {conn}"),
        )
    }

    pub(super) fn pes_rule(
        &mut self,
        index: usize,
        conn: usize,
        pes: &Pes,
        built: &[BuiltEnsemble],
        conns: &[BuiltConnection],
    ) -> Result<()> {
        let bc = &conns[conn];
        let acts = self.rule_pre_activities(conn)?;
        let n_pre = bc.cols;
        let pre = self.filtered_now(
            pes.pre_synapse,
            acts,
            n_pre,
            format!("PES pre_synapse of connection {conn}"),
        )?;
        let alpha = (-pes.learning_rate * self.net.dt / n_pre as f64) as f32;
        let err_rows = self.rule_row_errors(index, conn, built, conns)?;
        // One thread per segment of a row: every weight is still updated by exactly one thread.
        for r in 0..bc.rows {
            for first in (0..bc.cols).step_by(SEGMENT) {
                self.pes.push(PesRow {
                    w_off: (bc.w_off + r * bc.cols + first) as u32,
                    cols: SEGMENT.min(bc.cols - first) as u32,
                    err: err_rows + r as u32,
                    pre: pre + first as u32,
                    alpha,
                    _pad: [0; 3],
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::lower::nef::layout::PesRow;
    use crate::lower::nef::{build_nef, EncoderCopy, NefDispatch, NefPlan};
    use crate::model::nef::{Connection, Ensemble, NefNetwork, Pes};
    use ndarray::Array2;

    fn pes_rows(plan: &NefPlan) -> &[PesRow] {
        plan.dispatches
            .iter()
            .find_map(|d| match d {
                NefDispatch::Pes { rows } => Some(&rows[..]),
                _ => None,
            })
            .expect("a PES dispatch")
    }

    #[test]
    fn pes_on_a_decoded_connection_updates_row_segments_from_its_filtered_pre() {
        let mut net = NefNetwork::new().with_seed(5);
        let a = net.ensemble("a", Ensemble::new(300, 1)).unwrap();
        let b = net.ensemble("b", Ensemble::new(2, 1)).unwrap();
        let conn = net.connect(a, b, Connection::new()).unwrap();
        let rule = net.pes(conn, Pes::new(1e-4)).unwrap();
        net.connect(b, rule, Connection::new()).unwrap();
        let plan = build_nef(&net).unwrap();
        // a: outputs sig[901..1201]; b's signals end at sig[2116], where the rule's error is;
        // a -> b is w[302..602] and b -> rule adds sig[2117..2125]; the pre_synapse filters
        // a's outputs into sig[2125..2425].
        let c = &plan.built_connections[conn.index()];
        assert_eq!((c.w_off, c.rows, c.cols), (302, 1, 300));
        let alpha = (-1e-4 * net.dt() / 300.0) as f32;
        let row = |w_off, cols, pre| PesRow {
            w_off,
            cols,
            err: 2116,
            pre,
            alpha,
            _pad: [0; 3],
        };
        assert_eq!(pes_rows(&plan), [row(302, 256, 2125), row(558, 44, 2381)]);
        // The pre_synapse runs in the levels, so PES reads this step's filtered activities.
        let pre_filter = plan.dispatches.iter().find_map(|d| match d {
            NefDispatch::Filter { rows } if rows.len() == 300 => Some(rows),
            _ => None,
        });
        let pre_filter = pre_filter.expect("the pre_synapse's filter rows");
        assert_eq!((pre_filter[0].src, pre_filter[0].dst), (901, 2125));
        let kinds: Vec<_> = plan.dispatches.iter().map(NefDispatch::kernel).collect();
        assert_eq!(
            kinds[kinds.len() - 3..],
            ["nef_pes", "nef_filter", "nef_advance"]
        );
        assert!(plan.encoder_copies.is_empty());
    }

    #[test]
    fn pes_into_neurons_encodes_the_error_with_a_copy_of_the_post_encoders() {
        let mut net = NefNetwork::new().with_seed(6);
        let a = net.ensemble("a", Ensemble::new(3, 1)).unwrap();
        let b = net.ensemble("b", Ensemble::new(2, 1)).unwrap();
        let t = Array2::from_elem((2, 3), 0.25);
        let conn = net
            .connect(a.neurons(), b.neurons(), Connection::new().transform(t))
            .unwrap();
        let rule = net.pes(conn, Pes::new(1e-3)).unwrap();
        net.connect(b, rule, Connection::new()).unwrap();
        let plan = build_nef(&net).unwrap();
        // Encoders w[0..3] and w[3..5], a.neurons -> b.neurons w[5..11], b -> rule w[11..13],
        // then the copy of b's scaled encoders.
        assert_eq!(
            plan.encoder_copies,
            [EncoderCopy {
                ens: 1,
                w_off: 13,
                neurons: 0..2,
                dims: 0..1
            }]
        );
        let scaled: Vec<f32> = plan.built_ensembles[1]
            .scaled_encoders
            .iter()
            .map(|&x| x as f32)
            .collect();
        assert_eq!(plan.w[13..15], scaled[..]);
        let rows = pes_rows(&plan);
        assert_eq!(rows.len(), 2);
        // Row r reads the local error of post neuron r, where the copy's product goes.
        let local = rows[0].err;
        assert_eq!(rows[1].err, local + 1);
        let encodes_error = plan.dispatches.iter().any(|d| match d {
            NefDispatch::MatVec { rows } => rows.iter().any(|r| r.w_off == 13 && r.dst == local),
            _ => false,
        });
        assert!(encodes_error);
        assert_eq!((rows[0].w_off, rows[1].w_off, rows[0].cols), (5, 8, 3));
    }
}
