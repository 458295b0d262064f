//! Twin of shaders/plastic_inbox.wgsl.

use crate::lower::layout::Control;
use crate::lower::plastic::PlasticGlobals;

/// Twin of shaders/plastic_inbox.wgsl.
pub(crate) fn plastic_inbox(
    g: &PlasticGlobals,
    control: &Control,
    inbox: &[u32],
    (spike_hist, hist_count): (&mut [u32], &mut [u32]),
) {
    let step = control.step;
    let k = step.wrapping_sub(inbox[0]);
    if k >= inbox[1] {
        return;
    }
    let first = inbox[2 + k as usize] as usize;
    let count = inbox[3 + k as usize] as usize - first;
    let slot = (step.wrapping_sub(g.interval) % g.hist_slots) as usize;
    let base = hist_count[slot] as usize;
    let at = slot * g.n_neurons as usize + base;
    spike_hist[at..at + count].copy_from_slice(&inbox[first..first + count]);
    hist_count[slot] = (base + count) as u32;
}
