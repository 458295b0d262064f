//! Twin of shaders/plastic_post.wgsl, and of the helpers in shaders/shared/plastic_types.wgsl.

use super::rounding::flush;
use crate::lower::layout::Control;
use crate::lower::plastic::{PlasticGlobals, PlasticState, PlasticSyn, StdpRule, CUT, MODEL};

/// What the plastic kernels read and do not change.
pub(crate) struct PlasticTables<'a> {
    pub globals: &'a PlasticGlobals,
    pub syns: &'a [PlasticSyn],
    pub rules: &'a [StdpRule],
    pub decay: &'a [f32],
}

impl PlasticTables<'_> {
    /// Twin of `trace_decay`.
    pub fn trace_decay(&self, start: u32, len: u32, steps: u32) -> f32 {
        if steps >= len {
            return 0.0;
        }
        self.decay[(start + steps) as usize]
    }

    /// Twin of `bring`.
    pub fn bring(&self, s: PlasticState, rule: &StdpRule, now: u32) -> PlasticState {
        let steps = now.wrapping_sub(s.last);
        PlasticState {
            apre: flush(s.apre * self.trace_decay(rule.pre_decay, rule.pre_len, steps)),
            apost: flush(s.apost * self.trace_decay(rule.post_decay, rule.post_len, steps)),
            last: now,
            ..s
        }
    }
}

/// Twin of `bound`.
pub(crate) fn bound(w: f32, lo: f32, hi: f32) -> f32 {
    let below_hi = if w > hi { hi } else { w };
    if w < lo {
        lo
    } else {
        below_hi
    }
}

/// Twin of shaders/plastic_post.wgsl: the step's spikes, in order.
pub(crate) fn plastic_post(
    t: &PlasticTables,
    (control, spikes): (&Control, &[u32]),
    (post_ptr, by_post): (&[u32], &[u32]),
    state: &mut [PlasticState],
    spike_hist: &mut [u32],
) {
    let now = control.prop_step;
    let slot = (now % t.globals.hist_slots) as usize;
    let n = t.globals.n_neurons as usize;
    for (s, &post) in spikes[..control.prop_count() as usize].iter().enumerate() {
        spike_hist[slot * n + s] = post;
        for &k in &by_post[post_ptr[post as usize] as usize..post_ptr[post as usize + 1] as usize] {
            let syn = t.syns[k as usize];
            if syn.rule & (CUT | MODEL) != 0 {
                continue;
            }
            let rule = &t.rules[syn.rule as usize];
            let mut st = t.bring(state[k as usize], rule, now);
            st.apost = flush(st.apost + rule.a_minus);
            st.w = bound(flush(st.w + st.apre), rule.w_min, rule.w_max);
            state[k as usize] = st;
        }
    }
}
