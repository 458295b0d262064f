//! Twin of shaders/neuron_update.wgsl: every neuron of every population in one pass.
// Written as the WGSL is, operation for operation, not as idiomatic Rust would be.
#![allow(
    clippy::manual_div_ceil,
    clippy::implicit_saturating_sub,
    clippy::manual_is_multiple_of
)]

use super::rounding::flush;
use super::{NeuronState, NeuronTables};
use crate::lower::layout::{
    PopRecord, ABLATED, BAD_INPUT_EX, BAD_INPUT_IN, BAD_I_EX, BAD_I_IN, BAD_V, INPUT_BOUND,
    KIND_LIF, KIND_SPIKE_SOURCE, LIF_ROW,
};
use crate::lower::poisson::draw_count;
use crate::model::neuron_model::{NeuronInputs, NeuronModel, MAX_STATE_VARS};
use crate::rng::hash3;
use rayon::prelude::*;
use std::sync::atomic::{AtomicI32, Ordering};

/// Neurons per task of the parallel neuron update.
const NEURONS_PER_TASK: usize = 8192;

/// A task of the neuron update: block number, and its slices of v, i_syn, refractory and of
/// the user-defined models' state after their first variable.
type NeuronBlock<'a> = (
    usize,
    &'a mut [f32],
    &'a mut [[f32; 2]],
    &'a mut [u32],
    &'a mut [f32],
);

/// Twin of shaders/neuron_update.wgsl. Like the kernel's invocations, neurons are independent;
/// blocks of them run as parallel tasks and the spikes are appended in neuron order.
pub(crate) fn neuron_update(tables: &NeuronTables, st: NeuronState) {
    let g = &tables.globals;
    let c = st.control;
    let step = c.step;
    let n = g.n_neurons as usize;
    let slot = &st.ring[(step % g.ring_slots) as usize * n * 2..][..n * 2];
    let health = c.health != 0;
    // `v` is the neurons' potentials, then the models' parameters, then the rest of their
    // state, neuron-major in neuron order: a block of neurons owns one run of it.
    let layout = CustomLayout::new(tables);
    let (v, rest) = st.v.split_at_mut(n);
    let (params, mut vars) = rest.split_at_mut(layout.vars_start - n);
    let params: &[f32] = params;
    let chunk = n.clamp(1, NEURONS_PER_TASK);
    let mut blocks_in: Vec<NeuronBlock> = Vec::new();
    let mut taken = 0;
    for (index, ((v, i_syn), refractory)) in v
        .chunks_mut(chunk)
        .zip(st.i_syn.chunks_mut(chunk))
        .zip(st.refractory.chunks_mut(chunk))
        .enumerate()
    {
        let end = layout.before(tables, (index * chunk + v.len()) as u32);
        let (mine, others) = std::mem::take(&mut vars).split_at_mut(end - taken);
        (vars, taken) = (others, end);
        blocks_in.push((index, v, i_syn, refractory, mine));
    }
    // A block's spikes, and its lowest failing neuron with the failures of all of them.
    let block = |(index, v, i_syn, refractory, vars): NeuronBlock| {
        let first = index * chunk;
        let vars_base = layout.before(tables, first as u32);
        let (mut out, mut bad) = (Vec::new(), (u32::MAX, 0));
        for k in 0..v.len() {
            let i = (first + k) as u32;
            // Its population, found once (binary search, as `find_pop` in the kernel).
            let p = tables.population_of(i);
            let state = (&mut v[k], &mut i_syn[k], &mut refractory[k]);
            let own = layout.own(tables, p, i);
            let custom = (
                params,
                &mut vars[own.start - vars_base..own.end - vars_base],
            );
            let input = &slot[(first + k) * 2..][..2];
            let (spiked, what) =
                update_neuron(tables, (step, health), (p, i), state, custom, input);
            if spiked {
                out.push(i);
            }
            if what != 0 {
                bad = (bad.0.min(i), bad.1 | what);
            }
        }
        (out, bad)
    };
    // Small networks stay on this thread: a parallel region costs more than their whole step.
    let blocks: Vec<(Vec<u32>, (u32, u32))> = if blocks_in.len() <= 1 {
        blocks_in.into_iter().map(block).collect()
    } else {
        blocks_in.into_par_iter().map(block).collect()
    };
    // As `report` in the kernel: only the first failing step is kept.
    let (bad_neuron, bad_what) = blocks
        .iter()
        .fold((u32::MAX, 0), |(n, w), (_, (bn, bw))| (n.min(*bn), w | bw));
    if bad_what != 0 && c.bad_step >= step {
        c.bad_step = step;
        c.bad_neuron = c.bad_neuron.min(bad_neuron);
        c.bad_what |= bad_what;
    }
    for i in blocks.into_iter().flat_map(|(spikes, _)| spikes) {
        st.spikes[c.spike_count as usize] = i;
        c.spike_count += 1;
        if i >= g.rec_start && i - g.rec_start < g.rec_count {
            let bit = i - g.rec_start;
            let row = (step - c.chunk_start) * g.rec_words;
            st.spike_record[(row + bit / 32) as usize] |= 1 << (bit % 32);
        }
    }
}

/// Where the user-defined models' state after their first variable lies in `v`.
struct CustomLayout {
    /// Index in `v` of its first value (after the neurons and the models' parameters).
    vars_start: usize,
    /// Per population: its values' offset from `vars_start`, and values per neuron (0 for the
    /// built-in kinds).
    pops: Vec<(usize, usize)>,
}

impl CustomLayout {
    fn new(tables: &NeuronTables) -> CustomLayout {
        let n = tables.globals.n_neurons as usize;
        // A population's parameters: one set, or one per neuron (`PopRecord.each`).
        let params: usize = (0..tables.pops.len())
            .filter_map(|p| Some((tables.neuron_model(p)?, &tables.pops[p])))
            .map(|(model, rec)| match rec.each {
                0 => model.params.len(),
                each => rec.count as usize * each as usize,
            })
            .sum();
        let vars_start = n + params;
        let mut next = 0;
        let pops = (0..tables.pops.len())
            .map(|p| match tables.neuron_model(p) {
                Some(model) => {
                    let (rec, stride) = (&tables.pops[p], model.state.len() - 1);
                    next = rec.aux as usize - vars_start + rec.count as usize * stride;
                    (rec.aux as usize - vars_start, stride)
                }
                None => (next, 0),
            })
            .collect();
        CustomLayout { vars_start, pops }
    }

    /// How many values belong to neurons before neuron `i` (`i` may be the neuron count).
    fn before(&self, tables: &NeuronTables, i: u32) -> usize {
        if i >= tables.globals.n_neurons {
            return tables.v_len - self.vars_start;
        }
        self.own(tables, tables.population_of(i), i).start
    }

    /// The values of neuron `i`, of population `p` (empty for the built-in kinds).
    fn own(&self, tables: &NeuronTables, p: usize, i: u32) -> std::ops::Range<usize> {
        let (base, stride) = self.pops[p];
        let start = base + (i - tables.pops[p].start) as usize * stride;
        start..start + stride
    }
}

/// One invocation of the neuron update: neuron `i` of population `p`, its state, the user-defined models'
/// parameters and this neuron's state after its first variable (empty for other kinds), and
/// its two ring entries of this step (consumed and cleared). Returns whether it spiked, and
/// the `BAD_*` bits of the health check (0 when `health` is off).
fn update_neuron(
    tables: &NeuronTables,
    (step, health): (u32, bool),
    (p, i): (usize, u32),
    state: (&mut f32, &mut [f32; 2], &mut u32),
    (params, vars): (&[f32], &mut [f32]),
    input: &[AtomicI32],
) -> (bool, u32) {
    let local = i - tables.pops[p].start;
    let own;
    let pop = match &tables.pops[p] {
        shared if shared.each != 0 && shared.kind == KIND_LIF => {
            own = lif_row(tables, shared, local);
            &own
        }
        shared => shared,
    };
    let (v, i_syn, refractory) = state;
    let ablated = *refractory & ABLATED;
    if pop.kind == KIND_SPIKE_SOURCE {
        let ptr = (pop.aux + local) as usize;
        let sched = &tables.aux[tables.aux[ptr] as usize..tables.aux[ptr + 1] as usize];
        return (ablated == 0 && sched.binary_search(&step).is_ok(), 0);
    }
    let mut in_ex = input[0].swap(0, Ordering::Relaxed);
    let mut in_in = input[1].swap(0, Ordering::Relaxed);
    let sources = &tables.poisson
        [pop.poisson_start as usize..(pop.poisson_start + pop.poisson_count) as usize];
    for src in sources {
        if i >= src.target_start && i - src.target_start < src.target_count {
            let table =
                &tables.poisson_cdf[src.cdf_start as usize..(src.cdf_start + src.cdf_len) as usize];
            let k = src.k_min + draw_count(table, hash3(src.key, local, step));
            let add = (k as i32).wrapping_mul(src.weight_q);
            if src.channel == 0 {
                in_ex = in_ex.wrapping_add(add);
            } else {
                in_in = in_in.wrapping_add(add);
            }
        }
    }
    let mut r = *refractory & !ABLATED;
    if r > 0 {
        r -= 1;
    }
    let mut bad = 0;
    if health {
        let out_of_range = |x: i32| !(-INPUT_BOUND < x && x < INPUT_BOUND);
        for (fails, what) in [
            (out_of_range(in_ex), BAD_INPUT_EX),
            (out_of_range(in_in), BAD_INPUT_IN),
        ] {
            if fails {
                bad |= what;
            }
        }
    }
    let mut spiked = false;
    if pop.kind == KIND_LIF {
        let live = r == 0 && ablated == 0;
        let (fired, what) = lif(tables, pop, i, (v, i_syn), [in_ex, in_in], live, health);
        (spiked, bad) = (fired, bad | what);
    } else if let (Some(model), 0) = (tables.neuron_model(p), ablated) {
        let input = [
            in_ex as f32 * pop.inv_scale_ex,
            in_in as f32 * pop.inv_scale_in,
        ];
        let n_params = model.params.len();
        let first = (pop.params + local * pop.each) as usize - tables.globals.n_neurons as usize;
        let p = &params[first..][..n_params];
        let at = (step, i, local, health);
        let (fired, what) = custom_neuron(tables, model, at, p, (v, vars), input, r != 0);
        (spiked, bad) = (fired, bad | what);
    }
    if spiked {
        r = pop.n_ref;
    }
    *refractory = r | ablated;
    (spiked, bad)
}

/// Twin of `lif_row` in the kernel: neuron `local`'s own row in place of the population's.
fn lif_row(tables: &NeuronTables, shared: &PopRecord, local: u32) -> PopRecord {
    let row = &tables.v_drive[(shared.params + local * LIF_ROW) as usize..][..LIF_ROW as usize];
    PopRecord {
        p22: row[0],
        p21_ex: row[1],
        p21_in: row[2],
        p11_ex: row[3],
        p11_in: row[4],
        v_th: row[5],
        v_reset: row[6],
        n_ref: row[7] as u32,
        ..*shared
    }
}

/// Twin of `lif` in the kernel.
fn lif(
    tables: &NeuronTables,
    pop: &PopRecord,
    i: u32,
    (v, i_syn): (&mut f32, &mut [f32; 2]),
    [in_ex, in_in]: [i32; 2],
    live: bool,
    health: bool,
) -> (bool, u32) {
    let mut vm = *v;
    let mut cur = *i_syn;
    // Rust never contracts a * b + c, so these are the unfused, individually rounded
    // operations that `rn` enforces in the kernel.
    if live {
        let syn = pop.p21_ex * cur[0] + (pop.p21_in * cur[1] + tables.v_drive[i as usize]);
        vm = pop.p22 * vm + syn;
    }
    cur[0] = flush(pop.p11_ex * cur[0] + in_ex as f32 * pop.inv_scale_ex);
    cur[1] = flush(pop.p11_in * cur[1] + in_in as f32 * pop.inv_scale_in);
    let mut bad = 0;
    if health {
        // v as integrated, before a reset could hide an overflow.
        for (fails, what) in [
            (!vm.is_finite(), BAD_V),
            (!cur[0].is_finite(), BAD_I_EX),
            (!cur[1].is_finite(), BAD_I_IN),
        ] {
            if fails {
                bad |= what;
            }
        }
    }
    let mut spiked = false;
    if live && vm > pop.v_th {
        spiked = true;
        vm = pop.v_reset;
    }
    *v = vm;
    *i_syn = cur;
    (spiked, bad)
}

/// Twin of `nm_run_k` in the generated kernel (`model::neuron_model::kernel`): the model's
/// Rust twin on the neuron's state, `v` then `vars`.
fn custom_neuron(
    tables: &NeuronTables,
    model: &NeuronModel,
    (step, i, local, health): (u32, u32, u32, bool),
    params: &[f32],
    (v, vars): (&mut f32, &mut [f32]),
    [in_ex, in_in]: [f32; 2],
    refractory: bool,
) -> (bool, u32) {
    let twin = model
        .twin
        .as_ref()
        .expect("CpuExecutor::open refuses models without a twin");
    let mut s = [0.0f32; MAX_STATE_VARS];
    let s = &mut s[..1 + vars.len()];
    s[0] = *v;
    s[1..].copy_from_slice(vars);
    let dt = tables.dt_ms as f32;
    let inputs = NeuronInputs {
        params,
        in_ex,
        in_in,
        i_ext: tables.v_drive[i as usize],
        dt,
        t: step as f32 * dt,
        index: local,
        refractory,
    };
    let fired = twin(&inputs, s) && !refractory;
    let bad = if health && s.iter().any(|x| !x.is_finite()) {
        BAD_V
    } else {
        0
    };
    *v = s[0];
    vars.copy_from_slice(&s[1..]);
    (fired, bad)
}
