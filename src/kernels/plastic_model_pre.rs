//! Twin of shaders/plastic_model_pre.wgsl.

use super::plastic_model_post::{model_of, ModelTables};
use super::plastic_post::bound;
use crate::lower::layout::Control;
use crate::lower::plastic::PlasticState;
use std::sync::atomic::{AtomicI32, Ordering};

/// Twin of shaders/plastic_model_pre.wgsl: the kept spikes in the kernel's order (this step's
/// first, the oldest last), each spike's synapses of the delay that makes it arrive next step.
pub(crate) fn plastic_model_pre(
    t: &ModelTables,
    control: &Control,
    (spike_hist, hist_start, delay_ptr): (&[u32], &[u32], &[u32]),
    (state, model_vars): (&mut [PlasticState], &mut [f32]),
    ring: &[AtomicI32],
) {
    let g = t.plastic.globals;
    let (h, n) = (g.hist_slots, g.n_neurons);
    let now = control.prop_step.wrapping_add(1);
    let slot_now = (now % g.ring_slots) * n;
    for d in 1..=h {
        let slot = (now % h + h - d) % h;
        let count = hist_start[d as usize] - hist_start[d as usize - 1];
        for &pre in &spike_hist[(slot * n) as usize..][..count as usize] {
            let segment = (pre * h + d) as usize;
            for j in delay_ptr[segment - 1] as usize..delay_ptr[segment] as usize {
                let syn = t.plastic.syns[j];
                let Some(m) = model_of(syn.rule) else {
                    continue;
                };
                let b = t.models[m].max_weight;
                let (q, channel) = syn.fixed(bound(state[j].w, -b, b));
                if q != 0 {
                    let at = ((slot_now + syn.post) * 2) as usize + channel;
                    ring[at].fetch_add(q, Ordering::Relaxed);
                }
                t.event(m, j, now, false, (state, model_vars));
            }
        }
    }
}
