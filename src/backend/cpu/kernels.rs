//! Rust twins of the WGSL kernels, loop for loop and operation for operation (the same unfused
//! float operations in the same order, wrapping integer arithmetic where WGSL wraps), so both
//! backends produce the same bits. Each function carries its kernel's name.

// The twins are written as the WGSL is, operation for operation, not as idiomatic Rust would be.
#![allow(
    clippy::manual_div_ceil,
    clippy::implicit_saturating_sub,
    clippy::manual_is_multiple_of
)]

use super::CpuState;
use crate::build::layout::KIND_SPIKE_SOURCE;
use crate::build::poisson::draw_count;
use crate::build::Plan;
use crate::rng::hash3;

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

/// Twin of shaders/neuron_update.wgsl.
pub(crate) fn neuron_update(plan: &Plan, st: &mut CpuState) {
    let g = &plan.globals;
    let step = st.step;
    for pop in &plan.pops {
        for local in 0..pop.count {
            let i = pop.start + local;
            let iu = i as usize;
            let spiked = if pop.kind == KIND_SPIKE_SOURCE {
                let ptr = (pop.aux + local) as usize;
                let sched = &plan.aux[plan.aux[ptr] as usize..plan.aux[ptr + 1] as usize];
                sched.binary_search(&step).is_ok()
            } else {
                let slot = ((step % g.ring_slots) * g.n_neurons + i) as usize;
                let mut in_ex = st.ring[slot * 2];
                let mut in_in = st.ring[slot * 2 + 1];
                st.ring[slot * 2] = 0;
                st.ring[slot * 2 + 1] = 0;
                let sources = &plan.poisson
                    [pop.poisson_start as usize..(pop.poisson_start + pop.poisson_count) as usize];
                for src in sources {
                    if i >= src.target_start && i - src.target_start < src.target_count {
                        let table = &plan.poisson_cdf
                            [src.cdf_start as usize..(src.cdf_start + src.cdf_len) as usize];
                        let k = src.k_min + draw_count(table, hash3(src.key, local, step));
                        let add = (k as i32).wrapping_mul(src.weight_q);
                        if src.channel == 0 {
                            in_ex = in_ex.wrapping_add(add);
                        } else {
                            in_in = in_in.wrapping_add(add);
                        }
                    }
                }
                let mut vm = st.v[iu];
                let mut cur = st.i_syn[iu];
                let mut r = st.refractory[iu];
                if r > 0 {
                    r -= 1;
                }
                // Rust never contracts a * b + c, so these are the unfused, individually rounded
                // operations that `rn` enforces in the kernel.
                if r == 0 {
                    let syn = pop.p21_ex * cur[0] + (pop.p21_in * cur[1] + plan.v_drive[iu]);
                    vm = pop.p22 * vm + syn;
                }
                cur[0] = flush(pop.p11_ex * cur[0] + in_ex as f32 * pop.inv_scale_ex);
                cur[1] = flush(pop.p11_in * cur[1] + in_in as f32 * pop.inv_scale_in);
                let mut spiked = false;
                if r == 0 && vm > pop.v_th {
                    spiked = true;
                    vm = pop.v_reset;
                    r = pop.n_ref;
                }
                st.v[iu] = vm;
                st.i_syn[iu] = cur;
                st.refractory[iu] = r;
                spiked
            };
            if spiked {
                st.spikes[st.spike_count as usize] = i;
                st.spike_count += 1;
                if i >= g.rec_start && i - g.rec_start < g.rec_count {
                    let bit = i - g.rec_start;
                    let row = (step - st.chunk_start) * g.rec_words;
                    st.spike_record[(row + bit / 32) as usize] |= 1 << (bit % 32);
                }
            }
        }
    }
}

/// Twin of shaders/prepare_spikes.wgsl (the indirect dispatch size has no CPU counterpart).
pub(crate) fn prepare_spikes(st: &mut CpuState) {
    st.prop_step = st.step;
    st.prop_count = st.spike_count;
    st.spike_count = 0;
    st.step += 1;
}

/// Twin of shaders/propagate.wgsl, over all synapses at once (the kernel's chunks only split
/// the same records across bindings).
pub(crate) fn propagate(plan: &Plan, st: &mut CpuState) {
    let g = &plan.globals;
    let step = st.prop_step;
    for s in 0..st.prop_count as usize {
        let pre = st.spikes[s] as usize;
        for j in plan.row_ptr[pre]..plan.row_ptr[pre + 1] {
            let (post, delay, w) = plan.syn_format.decode(&plan.syn_words, j as u64);
            let slot = ((step + delay) % g.ring_slots) * g.n_neurons + post;
            let at = (slot * 2 + u32::from(w < 0)) as usize;
            st.ring[at] = st.ring[at].wrapping_add(w);
        }
    }
}
/// Twin of `flush` in shaders/shared/rounding.wgsl.
fn flush(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}
