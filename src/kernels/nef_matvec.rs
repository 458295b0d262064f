//! Twin of shaders/nef_matvec.wgsl.

use crate::lower::nef::layout::*;

pub fn nef_matvec(sig: &mut [f32], w: &[f32], rows: &[MatVecRow]) {
    for r in rows {
        let mut acc = 0f32;
        for j in 0..r.cols as usize {
            acc += w[r.w_off as usize + j] * sig[r.x_off as usize + j];
        }
        sig[r.dst as usize] = acc;
    }
}
