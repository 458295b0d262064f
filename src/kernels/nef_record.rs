//! Twin of shaders/nef_record.wgsl.

use crate::lower::nef::layout::*;

pub fn nef_record(
    sig: &[f32],
    w: &[f32],
    rows: &[RecordRow],
    control: &NefControl,
    record: &mut [f32],
) {
    for r in rows {
        if let Some(row) = sample_row(control.step, control.chunk_start, r.every) {
            let v = if r.from_weights == 1 {
                w[r.src as usize]
            } else {
                sig[r.src as usize]
            };
            record[(r.rec_off + row * r.width + r.k) as usize] = v;
        }
    }
}
