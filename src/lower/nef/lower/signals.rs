//! Places in `sig` and `w`, and the matrix-vector operators that read them.

use super::{span, Lowering, Op, OpRows, SEGMENT};
use crate::error::{Error, Result};
use crate::lower::nef::layout::{MatVecRow, SumEntry};
use ndarray::Array2;

/// Matrices with fewer rows than this have their long rows split into segments; with more,
/// one thread per row already fills a GPU.
const SPLIT_BELOW_ROWS: usize = 1024;

impl Lowering<'_> {
    pub(super) fn alloc(&mut self, n: usize, value: f32) -> u32 {
        let at = self.sig.len() as u32;
        self.sig.resize(self.sig.len() + n, value);
        at
    }

    pub(super) fn alloc_values(&mut self, values: impl IntoIterator<Item = f64>) -> u32 {
        let at = self.sig.len() as u32;
        self.sig.extend(values.into_iter().map(|v| v as f32));
        at
    }

    /// Appends a matrix to `w`, row-major; returns its offset.
    fn push_matrix(&mut self, m: &Array2<f64>) -> Result<u32> {
        if m.iter().any(|x| !crate::model::nef::fits_f32(*x)) {
            return Err(Error::Build(
                "a weight matrix came out NaN or infinite in float32 (check the function, \
                 transform and gains)"
                    .into(),
            ));
        }
        let at = self.w.len() as u32;
        self.w.extend(m.iter().map(|&x| x as f32));
        Ok(at)
    }

    /// A level operator computing `dst[r] = M[r] . sig[x .. x + cols]`.
    pub(super) fn matvec(&mut self, m: &Array2<f64>, x: u32, what: String) -> Result<u32> {
        let (rows, cols) = m.dim();
        let w_off = self.push_matrix(m)?;
        let dst = self.alloc(rows, 0.0);
        if cols > 2 * SEGMENT && rows < SPLIT_BELOW_ROWS {
            self.segmented_matvec(w_off, (rows, cols), x, dst, what);
            return Ok(dst);
        }
        self.ops.push(Op {
            rows: OpRows::MatVec(
                (0..rows)
                    .map(|r| MatVecRow {
                        dst: dst + r as u32,
                        w_off: w_off + (r * cols) as u32,
                        x_off: x,
                        cols: cols as u32,
                    })
                    .collect(),
            ),
            reads: vec![span(x, cols as u32)],
            writes: vec![span(dst, rows as u32)],
            what,
        });
        Ok(dst)
    }

    /// A matrix of few long rows (decoders: dimensions x neurons) as partial products over
    /// segments of `SEGMENT` columns, one thread each, then a sum of the partials in order:
    /// the GPU gets rows x segments threads instead of a handful, and the order of the
    /// additions is still fixed.
    fn segmented_matvec(
        &mut self,
        w_off: u32,
        (rows, cols): (usize, usize),
        x: u32,
        dst: u32,
        what: String,
    ) {
        let segments = cols.div_ceil(SEGMENT);
        let partial = self.alloc(rows * segments, 0.0);
        let mut parts = Vec::with_capacity(rows * segments);
        let mut sums = Vec::with_capacity(rows);
        for r in 0..rows {
            let mut entries = Vec::with_capacity(segments);
            for s in 0..segments {
                let at = partial + (r * segments + s) as u32;
                let first = s * SEGMENT;
                parts.push(MatVecRow {
                    dst: at,
                    w_off: w_off + (r * cols + first) as u32,
                    x_off: x + first as u32,
                    cols: SEGMENT.min(cols - first) as u32,
                });
                entries.push(SumEntry {
                    src: at,
                    scale: 1.0,
                });
            }
            sums.push((dst + r as u32, entries));
        }
        let partials = span(partial, (rows * segments) as u32);
        self.ops.push(Op {
            rows: OpRows::MatVec(parts),
            reads: vec![span(x, cols as u32)],
            writes: vec![partials.clone()],
            what: format!("{what} (partial products)"),
        });
        self.ops.push(Op {
            rows: OpRows::Sum(sums),
            reads: vec![partials],
            writes: vec![span(dst, rows as u32)],
            what,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::{span, Lowering, OpRows, SEGMENT};
    use crate::model::nef::NefNetwork;
    use ndarray::Array2;

    #[test]
    fn few_long_rows_are_split_into_segments_and_summed_in_order() {
        let net = NefNetwork::new();
        let mut l = Lowering::new(&net);
        let x = l.alloc(600, 0.0);
        let m = Array2::from_elem((2, 600), 0.5);
        let dst = l.matvec(&m, x, "long".into()).unwrap();
        // Partials first (2 rows x 3 segments at sig[602..608]), then the sums into dst.
        assert_eq!((dst, l.sig.len(), l.w.len()), (600, 608, 1200));
        let OpRows::MatVec(parts) = &l.ops[0].rows else {
            panic!("partial products first")
        };
        let spans: Vec<_> = parts
            .iter()
            .map(|p| (p.dst, p.w_off, p.x_off, p.cols))
            .collect();
        assert_eq!(
            spans,
            [
                (602, 0, 0, 256),
                (603, 256, 256, 256),
                (604, 512, 512, 88),
                (605, 600, 0, 256),
                (606, 856, 256, 256),
                (607, 1112, 512, 88)
            ]
        );
        let OpRows::Sum(sums) = &l.ops[1].rows else {
            panic!("then their sums")
        };
        let srcs: Vec<(u32, Vec<u32>)> = sums
            .iter()
            .map(|(d, es)| (*d, es.iter().map(|e| e.src).collect()))
            .collect();
        assert_eq!(
            srcs,
            [(600, vec![602, 603, 604]), (601, vec![605, 606, 607])]
        );
        assert_eq!(l.ops[1].writes, [span(600, 2)]);

        // Short rows: one row per thread.
        let short = Array2::from_elem((3, 2 * SEGMENT), 1.0);
        l.matvec(&short, x, "short".into()).unwrap();
        assert!(matches!(&l.ops[2].rows, OpRows::MatVec(rows) if rows.len() == 3));
    }
}
