//! Twin of shaders/plastic_prepare.wgsl (the indirect dispatch size has no CPU counterpart).

use crate::lower::layout::Control;
use crate::lower::plastic::PlasticGlobals;

pub(crate) fn plastic_prepare(g: &PlasticGlobals, control: &Control, hist_count: &mut [u32]) {
    hist_count[(control.prop_step % g.hist_slots) as usize] = control.prop_count;
}
