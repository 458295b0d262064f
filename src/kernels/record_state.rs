//! Twin of shaders/record_state.wgsl.
// Written as the WGSL is, operation for operation, not as idiomatic Rust would be.
#![allow(
    clippy::manual_div_ceil,
    clippy::implicit_saturating_sub,
    clippy::manual_is_multiple_of
)]

use super::CpuState;
use crate::lower::Plan;

/// Twin of shaders/record_state.wgsl.
pub(crate) fn record_state(plan: &Plan, st: &mut CpuState) {
    let step = st.step;
    for e in &plan.state_entries {
        if step % e.every_steps != 0 {
            continue;
        }
        let first_row = (st.chunk_start + e.every_steps - 1) / e.every_steps;
        let at = (e.base + (step / e.every_steps - first_row) * 3) as usize;
        let n = e.neuron as usize;
        st.state_record[at] = st.v[n];
        st.state_record[at + 1] = st.i_syn[n][0];
        st.state_record[at + 2] = st.i_syn[n][1];
    }
}
