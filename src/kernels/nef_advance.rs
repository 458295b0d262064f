//! Twin of shaders/nef_advance.wgsl.

use crate::lower::nef::layout::NefControl;

pub fn nef_advance(control: &mut NefControl) {
    control.step += 1;
}
