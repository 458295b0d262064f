//! Synaptic filters: their coefficients (one per distinct synapse) and their rows.

use super::{span, Lowering, Op, OpRows};
use crate::error::Result;
use crate::lower::nef::layout::{FilterCoef, FilterRow};
use crate::model::nef::Synapse;

impl Lowering<'_> {
    fn coef(&mut self, synapse: Synapse) -> Result<Option<u32>> {
        let Some(f) = synapse.discretize(self.net.dt)? else {
            return Ok(None);
        };
        if let Some(i) = self.coefs.iter().position(|(s, _)| *s == synapse) {
            return Ok(Some(i as u32));
        }
        let c = FilterCoef {
            order: f.order as u32,
            d: f.d as f32,
            _pad: [0; 2],
            a: [
                f.a[0][0] as f32,
                f.a[0][1] as f32,
                f.a[1][0] as f32,
                f.a[1][1] as f32,
            ],
            bc: [f.b[0] as f32, f.b[1] as f32, f.c[0] as f32, f.c[1] as f32],
        };
        self.coefs.push((synapse, c));
        Ok(Some(self.coefs.len() as u32 - 1))
    }

    /// Filters `sig[src .. src + n]` through `synapse`, advancing at the end of the step (Nengo's
    /// "update" mode: connection synapses and probes): returns where the filtered values are
    /// (the source itself for `Synapse::None`).
    pub(super) fn filtered(&mut self, synapse: Synapse, src: u32, n: usize) -> Result<u32> {
        let Some((dst, rows)) = self.filter_rows(synapse, src, n)? else {
            return Ok(src);
        };
        self.filters.extend(rows);
        Ok(dst)
    }

    /// Filters as `filtered`, but as a level operator right after its input is computed, so
    /// the output is read in the same step (Nengo's "set" mode: PES's pre_synapse).
    pub(super) fn filtered_now(
        &mut self,
        synapse: Synapse,
        src: u32,
        n: usize,
        what: String,
    ) -> Result<u32> {
        let Some((dst, rows)) = self.filter_rows(synapse, src, n)? else {
            return Ok(src);
        };
        self.ops.push(Op {
            rows: OpRows::Filter(rows),
            reads: vec![span(src, n as u32)],
            writes: vec![span(dst, n as u32)],
            what,
        });
        Ok(dst)
    }

    fn filter_rows(
        &mut self,
        synapse: Synapse,
        src: u32,
        n: usize,
    ) -> Result<Option<(u32, Vec<FilterRow>)>> {
        let Some(coef) = self.coef(synapse)? else {
            return Ok(None);
        };
        let dst = self.alloc(n, 0.0);
        let state = self.alloc(2 * n, 0.0);
        let rows = (0..n as u32)
            .map(|k| FilterRow {
                src: src + k,
                dst: dst + k,
                state: state + 2 * k,
                coef,
            })
            .collect();
        Ok(Some((dst, rows)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{span, Lowering, OpRows};
    use crate::lower::nef::layout::FilterRow;
    use crate::model::nef::{NefNetwork, Synapse};

    #[test]
    fn filters_get_outputs_and_two_states_per_value_and_share_coefficients() {
        let net = NefNetwork::new();
        let mut l = Lowering::new(&net);
        let src = l.alloc(3, 0.0);
        assert_eq!(l.filtered(Synapse::None, src, 3).unwrap(), src);
        assert_eq!((l.sig.len(), l.filters.len(), l.coefs.len()), (3, 0, 0));

        let lowpass = Synapse::lowpass(0.01);
        let dst = l.filtered(lowpass, src, 3).unwrap();
        assert_eq!((dst, l.sig.len()), (3, 12));
        let row = |src, dst, state, coef| FilterRow {
            src,
            dst,
            state,
            coef,
        };
        assert_eq!(
            l.filters,
            [row(0, 3, 6, 0), row(1, 4, 8, 0), row(2, 5, 10, 0)]
        );
        let f = lowpass.discretize(net.dt()).unwrap().unwrap();
        let c = &l.coefs[0].1;
        assert_eq!((c.order, c.d), (f.order as u32, f.d as f32));
        assert_eq!(c.bc, [f.b[0], f.b[1], f.c[0], f.c[1]].map(|x| x as f32));

        // In the step ("set" mode): an operator of the levels, not an end-of-step row.
        let now = l.filtered_now(lowpass, dst, 1, "now".into()).unwrap();
        assert_eq!((now, l.sig.len(), l.filters.len()), (12, 15, 3));
        let op = &l.ops[0];
        assert_eq!(
            (&op.reads[..], &op.writes[..]),
            (&[span(3, 1)][..], &[span(12, 1)][..])
        );
        let OpRows::Filter(rows) = &op.rows else {
            panic!("a filter operator")
        };
        assert_eq!(rows[..], [row(3, 12, 13, 0)]);

        l.filtered(Synapse::alpha(0.005), src, 1).unwrap();
        assert_eq!((l.coefs.len(), l.filters[3].coef), (2, 1));
    }
}
