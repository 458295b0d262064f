//! Twin of shaders/nef_sum.wgsl.

use crate::lower::nef::layout::*;

pub fn nef_sum(sig: &mut [f32], rows: &[SumRow], entries: &[SumEntry]) {
    for r in rows {
        let mut acc = 0f32;
        for e in &entries[r.first as usize..(r.first + r.count) as usize] {
            acc += e.scale * sig[e.src as usize];
        }
        sig[r.dst as usize] = acc;
    }
}
