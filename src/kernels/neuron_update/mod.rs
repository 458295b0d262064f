//! Twin of shaders/neuron_update.wgsl. Each neuron runs the kernel's operations in the kernel's
//! order (the same unfused float operations, wrapping integer sums), so the bits are the
//! kernel's; only the loops differ: the population of each run of neurons is found once, not
//! per neuron, LIF neurons run in a branch-free loop the compiler can vectorise, Poisson drive
//! is drawn per source over its targets, and each block of neurons owns its ring entries.
// Written as the WGSL is, operation for operation, not as idiomatic Rust would be.
#![allow(
    clippy::manual_div_ceil,
    clippy::implicit_saturating_sub,
    clippy::manual_is_multiple_of
)]

use super::{NeuronState, NeuronTables};
use crate::lower::layout::{
    PopRecord, ABLATED, BAD_INPUT_EX, BAD_INPUT_IN, BAD_V, INPUT_BOUND, KIND_LIF, KIND_SPIKE_SOURCE,
};
use crate::model::neuron_model::{NeuronInputs, NeuronModel, MAX_STATE_VARS};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::AtomicI32;

mod lif;
mod poisson;
use lif::lif_run;
use poisson::add_poisson;

/// Neurons per task of the parallel neuron update.
const NEURONS_PER_TASK: usize = 8192;

/// A task of the neuron update: a run of neurons in neuron order, with its slices of the
/// state and of this step's ring entries. The ring slot is split among the blocks, so each
/// block reads and clears its own entries without atomics: propagation, the only other writer,
/// does not run during the update.
struct Block<'a> {
    /// Its first neuron.
    first: usize,
    v: &'a mut [f32],
    i_syn: &'a mut [[f32; 2]],
    refractory: &'a mut [u32],
    /// The user-defined models' state after their first variable, of this block's neurons.
    vars: &'a mut [f32],
    /// Index in `v` of `vars[0]`, less `CustomLayout::vars_start`.
    vars_base: usize,
    /// Two entries (excitatory, inhibitory) per neuron.
    ring: &'a mut [AtomicI32],
}

/// What a block found: its spikes in neuron order, and its lowest failing neuron with the
/// failures of all of them.
struct Outcome {
    spikes: Vec<u32>,
    bad: (u32, u32),
}

impl Outcome {
    fn report(&mut self, i: u32, what: u32) {
        if what != 0 {
            self.bad = (self.bad.0.min(i), self.bad.1 | what);
        }
    }
}

/// Twin of shaders/neuron_update.wgsl. Like the kernel's invocations, neurons are independent;
/// blocks of them run as parallel tasks and the spikes are appended in neuron order.
pub(crate) fn neuron_update(tables: &NeuronTables, st: NeuronState) {
    let g = &tables.globals;
    let c = st.control;
    let step = c.step;
    let n = g.n_neurons as usize;
    let slot = &mut st.ring[(step % g.ring_slots) as usize * n * 2..][..n * 2];
    let health = c.health != 0;
    // `v` is the neurons' potentials, then the models' parameters, then the rest of their
    // state, neuron-major in neuron order: a block of neurons owns one run of it.
    let layout = CustomLayout::new(tables);
    let (v, rest) = st.v.split_at_mut(n);
    let (params, vars) = rest.split_at_mut(layout.vars_start - n);
    let params: &[f32] = params;
    // Only this process's neurons (all of them in a single process), as the kernel's
    // invocations cover `own_start .. own_start + own_count`.
    let own = g.own_start as usize..(g.own_start + g.own_count) as usize;
    let mut taken = layout.before(tables, own.start as u32);
    let mut vars = &mut vars[taken..];
    let chunk = own.len().clamp(1, NEURONS_PER_TASK);
    let mut blocks_in: Vec<Block> = Vec::new();
    for (index, (((v, i_syn), refractory), ring)) in v[own.clone()]
        .chunks_mut(chunk)
        .zip(st.i_syn[own.clone()].chunks_mut(chunk))
        .zip(st.refractory[own.clone()].chunks_mut(chunk))
        .zip(slot[own.start * 2..own.end * 2].chunks_mut(chunk * 2))
        .enumerate()
    {
        let first = own.start + index * chunk;
        let end = layout.before(tables, (first + v.len()) as u32);
        let (mine, others) = std::mem::take(&mut vars).split_at_mut(end - taken);
        blocks_in.push(Block {
            first,
            v,
            i_syn,
            refractory,
            vars: mine,
            vars_base: taken,
            ring,
        });
        (vars, taken) = (others, end);
    }
    let run = |b: Block| update_block(tables, &layout, params, (step, health), b);
    // Small networks stay on this thread: a parallel region costs more than their whole step.
    let blocks: Vec<Outcome> = if blocks_in.len() <= 1 {
        blocks_in.into_iter().map(run).collect()
    } else {
        blocks_in.into_par_iter().map(run).collect()
    };
    // As `report` in the kernel: only the first failing step is kept.
    let (bad_neuron, bad_what) = blocks
        .iter()
        .fold((u32::MAX, 0), |(n, w), o| (n.min(o.bad.0), w | o.bad.1));
    if bad_what != 0 && c.bad_step >= step {
        c.bad_step = step;
        c.bad_neuron = c.bad_neuron.min(bad_neuron);
        c.bad_what |= bad_what;
    }
    // As the kernel's first invocation: the next step's count was last read by the previous
    // step's propagation (the workgroup counts have no CPU counterpart).
    let parity = (step % 2) as usize;
    c.spike_count[1 - parity] = 0;
    c.prop_step = step;
    for i in blocks.into_iter().flat_map(|o| o.spikes) {
        st.spikes[c.spike_count[parity] as usize] = i;
        c.spike_count[parity] += 1;
        if i >= g.rec_start && i - g.rec_start < g.rec_count {
            let bit = i - g.rec_start;
            let row = (step - c.chunk_start) * g.rec_words;
            st.spike_record[(row + bit / 32) as usize] |= 1 << (bit % 32);
        }
    }
}

/// One block: its neurons population by population, each run by its population's kind.
fn update_block(
    tables: &NeuronTables,
    layout: &CustomLayout,
    params: &[f32],
    (step, health): (u32, bool),
    mut b: Block,
) -> Outcome {
    let mut out = Outcome {
        spikes: Vec::new(),
        bad: (u32::MAX, 0),
    };
    let n = tables.globals.n_neurons;
    let end = (b.first + b.v.len()) as u32;
    let mut i = b.first as u32;
    while i < end {
        // The population holding `i` (the last one starting at or before it, as `find_pop`)
        // holds every neuron up to the next population's start.
        let p = tables.population_of(i);
        let next = tables.pops.get(p + 1).map_or(n, |q| q.start).min(end);
        let run = (i as usize - b.first)..(next as usize - b.first);
        let pop = &tables.pops[p];
        if pop.kind == KIND_SPIKE_SOURCE {
            spike_sources(tables, pop, step, &b, run, &mut out);
        } else {
            add_poisson(tables, pop, step, &mut b, run.clone());
            if pop.kind == KIND_LIF {
                lif_run(tables, pop, health, &mut b, run, &mut out);
            } else {
                let at = (step, health);
                custom_run(tables, layout, (p, params), at, &mut b, run, &mut out);
            }
        }
        i = next;
    }
    out
}

/// Spike sources `run` of the block: each fires when its sorted schedule holds `step` (they
/// read no input, as in the kernel).
fn spike_sources(
    tables: &NeuronTables,
    pop: &PopRecord,
    step: u32,
    b: &Block,
    run: Range<usize>,
    out: &mut Outcome,
) {
    for k in run {
        let i = (b.first + k) as u32;
        let ptr = (pop.aux + i - pop.start) as usize;
        let sched = &tables.aux[tables.aux[ptr] as usize..tables.aux[ptr + 1] as usize];
        if b.refractory[k] & ABLATED == 0 && sched.binary_search(&step).is_ok() {
            out.spikes.push(i);
        }
    }
}

/// Reads and clears a neuron's two ring entries (its whole synaptic and Poisson input).
#[inline]
fn take_input(ring: &mut [AtomicI32], k: usize) -> [i32; 2] {
    let ex = std::mem::take(ring[2 * k].get_mut());
    let inh = std::mem::take(ring[2 * k + 1].get_mut());
    [ex, inh]
}

/// The kernel's input check: `BAD_INPUT_*` for a channel out of the fixed-point range.
#[inline(always)]
fn input_faults([in_ex, in_in]: [i32; 2]) -> u32 {
    let out_of_range = |x: i32| !(-INPUT_BOUND < x && x < INPUT_BOUND);
    let mut bad = 0;
    if out_of_range(in_ex) {
        bad |= BAD_INPUT_EX;
    }
    if out_of_range(in_in) {
        bad |= BAD_INPUT_IN;
    }
    bad
}

/// User-defined model neurons `run` of the block (population `p`, whose parameters are in
/// `params`), one by one as in the kernel's `main`.
fn custom_run(
    tables: &NeuronTables,
    layout: &CustomLayout,
    (p, params): (usize, &[f32]),
    (step, health): (u32, bool),
    b: &mut Block,
    run: Range<usize>,
    out: &mut Outcome,
) {
    let pop = &tables.pops[p];
    let model = tables.neuron_model(p);
    for k in run {
        let i = (b.first + k) as u32;
        let local = i - pop.start;
        let input = take_input(b.ring, k);
        let ablated = b.refractory[k] & ABLATED;
        let mut r = b.refractory[k] & !ABLATED;
        if r > 0 {
            r -= 1;
        }
        let mut bad = if health { input_faults(input) } else { 0 };
        let mut spiked = false;
        if let (Some(model), 0) = (model, ablated) {
            let input = [
                input[0] as f32 * pop.inv_scale_ex,
                input[1] as f32 * pop.inv_scale_in,
            ];
            let n_params = model.params.len();
            let first =
                (pop.params + local * pop.each) as usize - tables.globals.n_neurons as usize;
            let own = layout.own(tables, p, i);
            let vars = &mut b.vars[own.start - b.vars_base..own.end - b.vars_base];
            let at = (step, i, local, health);
            let state = (&mut b.v[k], vars);
            let p = &params[first..][..n_params];
            let (fired, what) = custom_neuron(tables, model, at, p, state, input, r != 0);
            (spiked, bad) = (fired, bad | what);
        }
        if spiked {
            r = pop.n_ref;
            out.spikes.push(i);
        }
        b.refractory[k] = r | ablated;
        out.report(i, bad);
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
