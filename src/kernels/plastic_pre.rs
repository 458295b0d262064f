//! Twin of shaders/plastic_pre.wgsl.

use super::plastic_post::{bound, PlasticTables};
use super::rounding::flush;
use crate::lower::layout::Control;
use crate::lower::plastic::{PlasticState, CUT, MODEL};
use std::sync::atomic::{AtomicI32, Ordering};

/// Twin of shaders/plastic_pre.wgsl: the kept spikes in the kernel's order (this step's first,
/// the oldest last), each spike's synapses of the delay that makes it arrive next step.
pub(crate) fn plastic_pre(
    t: &PlasticTables,
    control: &Control,
    (spike_hist, hist_start, delay_ptr): (&[u32], &[u32], &[u32]),
    state: &mut [PlasticState],
    ring: &[AtomicI32],
) {
    let g = t.globals;
    let (h, n) = (g.hist_slots, g.n_neurons);
    let now = control.prop_step.wrapping_add(1);
    let slot_now = (now % g.ring_slots) * n;
    for d in 1..=h {
        let slot = (now % h + h - d) % h;
        let count = hist_start[d as usize] - hist_start[d as usize - 1];
        for &pre in &spike_hist[(slot * n) as usize..][..count as usize] {
            let segment = (pre * h + d) as usize;
            #[allow(clippy::needless_range_loop)]
            // `j` indexes `t.syns` and `state` as in the kernel
            for j in delay_ptr[segment - 1] as usize..delay_ptr[segment] as usize {
                let syn = t.syns[j];
                if syn.rule & (CUT | MODEL) != 0 {
                    continue;
                }
                let rule = &t.rules[syn.rule as usize];
                let (q, channel) = syn.fixed(state[j].w);
                if q != 0 {
                    let at = ((slot_now + syn.post) * 2) as usize + channel;
                    ring[at].fetch_add(q, Ordering::Relaxed);
                }
                let mut st = t.bring(state[j], rule, now);
                st.apre = flush(st.apre + rule.a_plus);
                st.w = bound(flush(st.w + st.apost), rule.w_min, rule.w_max);
                state[j] = st;
            }
        }
    }
}
