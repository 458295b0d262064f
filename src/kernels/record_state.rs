//! Twin of shaders/record_state.wgsl.
// Written as the WGSL is, operation for operation, not as idiomatic Rust would be.
#![allow(
    clippy::manual_div_ceil,
    clippy::implicit_saturating_sub,
    clippy::manual_is_multiple_of
)]

use crate::lower::layout::{Control, StateEntry};

/// Twin of shaders/record_state.wgsl.
pub(crate) fn record_state(
    entries: &[StateEntry],
    (v, i_syn): (&[f32], &[[f32; 2]]),
    control: &Control,
    state_record: &mut [f32],
) {
    let step = control.step;
    for e in entries {
        if step % e.every_steps != 0 {
            continue;
        }
        let first_row = (control.chunk_start + e.every_steps - 1) / e.every_steps;
        let at = (e.base + (step / e.every_steps - first_row) * 3) as usize;
        let n = e.neuron as usize;
        state_record[at] = v[n];
        state_record[at + 1] = i_syn[n][0];
        state_record[at + 2] = i_syn[n][1];
    }
}
