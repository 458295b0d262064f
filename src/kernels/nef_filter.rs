//! Twin of shaders/nef_filter.wgsl.

use super::rounding::flush;
use crate::lower::nef::layout::*;

/// One step of a state-space filter: x <- A x + B u, y = C x + D u (see `DiscreteFilter::step`).
pub fn nef_filter(sig: &mut [f32], coefs: &[FilterCoef], rows: &[FilterRow]) {
    for r in rows {
        let c = &coefs[r.coef as usize];
        let u = sig[r.src as usize];
        let s = r.state as usize;
        let (x0, x1) = (sig[s], sig[s + 1]);
        let y = if c.order == 1 {
            let n0 = flush(c.a[0] * x0 + c.bc[0] * u);
            sig[s] = n0;
            c.bc[2] * n0 + c.d * u
        } else {
            let n0 = flush(c.a[0] * x0 + c.a[1] * x1 + c.bc[0] * u);
            let n1 = flush(c.a[2] * x0 + c.a[3] * x1 + c.bc[1] * u);
            sig[s] = n0;
            sig[s + 1] = n1;
            c.bc[2] * n0 + c.bc[3] * n1 + c.d * u
        };
        sig[r.dst as usize] = flush(y);
    }
}
