//! Twin of shaders/nef_pes.wgsl.

use crate::lower::nef::layout::*;

pub fn nef_pes(sig: &[f32], w: &mut [f32], rows: &[PesRow]) {
    for r in rows {
        let scaled = r.alpha * sig[r.err as usize];
        for j in 0..r.cols as usize {
            let at = r.w_off as usize + j;
            w[at] += scaled * sig[r.pre as usize + j];
        }
    }
}
