//! Twin of shaders/plastic_prepare.wgsl (the indirect dispatch size has no CPU counterpart).

use crate::lower::layout::Control;
use crate::lower::plastic::PlasticGlobals;

pub(crate) fn plastic_prepare(
    g: &PlasticGlobals,
    control: &Control,
    hist_count: &mut [u32],
    hist_start: &mut [u32],
) {
    let h = g.hist_slots;
    hist_count[(control.prop_step % h) as usize] = control.prop_count();
    let now = control.prop_step.wrapping_add(1);
    let mut total = 0u32;
    hist_start[0] = 0;
    for d in 1..=h {
        total = total.wrapping_add(hist_count[((now % h + h - d) % h) as usize]);
        hist_start[d as usize] = total;
    }
}
