//! Twin of shaders/prepare_inbox.wgsl.

use crate::lower::layout::Control;

/// Twin of shaders/prepare_inbox.wgsl (the indirect dispatch size has no CPU counterpart).
pub(crate) fn prepare_inbox(control: &Control, inbox: &[u32], inbox_control: &mut Control) {
    let k = control.step.wrapping_sub(inbox[0]);
    let (first, count) = match k < inbox[1] {
        true => {
            let first = inbox[2 + k as usize];
            (first, inbox[3 + k as usize] - first)
        }
        false => (0, 0),
    };
    inbox_control.prop_step = control.step;
    inbox_control.prop_first = first;
    inbox_control.spike_count[(control.step % 2) as usize] = count;
}
