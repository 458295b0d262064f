//! Twin of shaders/prepare_spikes.wgsl.

use crate::lower::layout::Control;

/// Twin of shaders/prepare_spikes.wgsl (the indirect dispatch size has no CPU counterpart).
pub(crate) fn prepare_spikes(st: &mut Control) {
    st.prop_step = st.step;
    st.prop_count = st.spike_count;
    st.spike_count = 0;
    st.step += 1;
}
