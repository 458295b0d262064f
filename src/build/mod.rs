//! Lowering: `Network` -> `Plan`. Emits data, never GPU calls, so the same Plan drives the GPU
//! backend and its CPU twin.

mod csr;
pub mod fixed_point;
pub mod layout;
pub mod packing;
mod plan;
pub mod poisson;
pub mod propagators;
mod synapses;

pub use plan::{Dispatch, Plan, ProbeLayout};

use crate::error::{Error, Result};
use crate::model::{Network, NeuronKind, ProbeTarget};
use crate::rng::{mix64, stream, KeyHasher};
use fixed_point::ChannelScale;
use layout::*;
use packing::SynapseFormat;
use propagators::Propagators;
use std::collections::HashMap;

/// Steps per chunk unless the records would grow past `RECORD_BYTES_PER_CHUNK`.
pub const DEFAULT_CHUNK_STEPS: u32 = 1000;
const RECORD_BYTES_PER_CHUNK: u64 = 32 << 20;

/// A Poisson input resolved to global indices, with its tabulated count distribution.
struct PoissonSource {
    pop: usize,
    start: u32,
    count: u32,
    key: u32,
    table: poisson::CdfTable,
    weight_pa: f64,
}

/// Lowers a network. Deterministic: the same network and seed give the same Plan.
pub fn build(net: &Network) -> Result<Plan> {
    if !(net.dt_ms.is_finite() && net.dt_ms > 0.0) {
        return Err(Error::Validation(format!(
            "dt must be a positive number of ms, got {}",
            net.dt_ms
        )));
    }
    if net.populations.is_empty() {
        return Err(Error::Validation(
            "the network has no populations; add one before simulating".into(),
        ));
    }
    let n_total = net.neuron_count();
    if n_total >= u32::MAX as u64 / 2 {
        return Err(Error::Build(format!(
            "{n_total} neurons exceed the 2^31 neurons a plan can index"
        )));
    }
    let n = n_total as u32;
    let mut starts = Vec::with_capacity(net.populations.len());
    let mut acc = 0u32;
    for p in &net.populations {
        starts.push(acc);
        acc += p.size;
    }

    // Synapses, drawn in parallel in canonical order (blocks by key), so the plan does not
    // depend on how blocks were grouped, the order of building, or the thread count.
    let buckets = synapses::Buckets::for_neurons(n);
    let drawn = synapses::draw_all(net, &starts, &buckets)?;
    let pop_index: Vec<u32> = (0..net.populations.len() as u32)
        .flat_map(|p| std::iter::repeat_n(p, net.populations[p as usize].size as usize))
        .collect();

    // Poisson inputs: grouped by target population, keyed by content for order independence.
    let mut poisson_order: Vec<usize> = (0..net.poisson.len()).collect();
    poisson_order.sort_by_key(|&k| net.poisson[k].0.pop.index);
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut poisson_tables = Vec::new();
    for &k in &poisson_order {
        let (slice, input) = &net.poisson[k];
        let range = net.resolve(slice)?;
        let content = KeyHasher::default()
            .str("poisson")
            .str(&net.populations[slice.pop.index].name)
            .u64(range.start as u64)
            .u64(range.end as u64)
            .u64(input.in_degree as u64)
            .f64(input.rate_hz)
            .f64(input.weight_pa)
            .finish();
        let occurrence = seen.entry(content).or_insert(0);
        let key =
            mix64(net.seed ^ KeyHasher::default().u64(content).u64(*occurrence).finish()) as u32;
        *occurrence += 1;
        let table = poisson::binomial_table(input.in_degree, input.rate_hz * net.dt_ms * 1e-3)?;
        poisson_tables.push(PoissonSource {
            pop: slice.pop.index,
            start: starts[slice.pop.index] + range.start,
            count: range.len() as u32,
            key,
            table,
            weight_pa: input.weight_pa,
        });
    }

    // One pass over the synapses: row lengths, and per target neuron and channel the worst-case
    // input in one step, for the fixed-point scales.
    let csr::Census {
        row_ptr,
        mut bound,
        mut typical,
        largest,
        max_delay,
    } = csr::census(&drawn, &buckets, &pop_index, net.populations.len())?;
    let n_synapses = *row_ptr.last().unwrap_or(&0) as u64;
    let channel = csr::channel;
    for src in &poisson_tables {
        let c = channel(src.weight_pa);
        for b in &mut bound[src.start as usize..(src.start + src.count) as usize] {
            b[c] += src.table.k_max() as f64 * src.weight_pa.abs();
        }
        let t = &mut typical[src.pop][c];
        t.0 += src.weight_pa.abs();
        t.1 += 1;
    }
    let format = SynapseFormat::for_model(n, max_delay)?;
    let mut scales = Vec::with_capacity(net.populations.len());
    for (p, pop) in net.populations.iter().enumerate() {
        let range = starts[p] as usize..(starts[p] + pop.size) as usize;
        let per_channel = |c: usize| {
            let worst = bound[range.clone()]
                .iter()
                .map(|b| b[c])
                .fold(0.0, f64::max);
            let (sum, cnt) = typical[p][c];
            let mean = if cnt > 0 { sum / cnt as f64 } else { 0.0 };
            ChannelScale::for_bound(worst, mean, largest[p][c], format.max_weight_q())
        };
        scales.push([per_channel(0), per_channel(1)]);
    }
    drop(bound);

    // Pack: each synapse's record goes to the next free slot of its pre neuron's row; units are
    // in canonical order, so rows are too.
    let quantise = |s: &synapses::Synapse| -> Result<i32> {
        let w = s.weight_pa as f64;
        let p = pop_index[s.post as usize] as usize;
        let scale = &scales[p][channel(w)];
        let q = scale.quantise(w);
        if q == 0 && w != 0.0 {
            return Err(Error::Build(format!(
                "a synapse onto neuron {} of weight {w} pA is below the quantisation step {} pA of its target population `{}`, whose inputs reach {} pA per step; rescale the weights into that population",
                s.post,
                scale.step_pa(),
                net.populations[p].name,
                scale.bound_pa
            )));
        }
        Ok(q)
    };
    let syn_words = csr::pack(drawn, &buckets, &row_ptr, &format, quantise)?;
    drop(pop_index);

    // Poisson records and their tables.
    let mut poisson_recs = Vec::new();
    let mut poisson_cdf = Vec::new();
    for src in &poisson_tables {
        let c = channel(src.weight_pa);
        poisson_recs.push(PoissonRecord {
            target_start: src.start,
            target_count: src.count,
            key: src.key,
            cdf_start: poisson_cdf.len() as u32,
            cdf_len: src.table.thresholds.len() as u32,
            k_min: src.table.k_min,
            weight_q: scales[src.pop][c].quantise(src.weight_pa),
            channel: c as u32,
        });
        poisson_cdf.extend_from_slice(&src.table.thresholds);
    }
    if poisson_cdf.is_empty() {
        poisson_cdf.push(u32::MAX);
    }

    // Populations, per-neuron initial state and drive, spike-source schedules.
    let mut pops = Vec::new();
    let mut v_init = vec![0.0f32; n as usize];
    let mut v_drive = vec![0.0f32; n as usize];
    let mut aux: Vec<u32> = Vec::new();
    let mut extra_current = vec![0.0f64; n as usize];
    for c in &net.currents {
        let r = net.resolve(&c.target)?;
        let s = starts[c.target.pop.index];
        for x in &mut extra_current[(s + r.start) as usize..(s + r.end) as usize] {
            *x += c.amplitude_pa;
        }
    }
    for (p, pop) in net.populations.iter().enumerate() {
        let start = starts[p];
        // Sources are sorted by population, so each population's are contiguous.
        let p_start = poisson_tables.iter().position(|t| t.pop == p).unwrap_or(0) as u32;
        let p_count = poisson_tables.iter().filter(|t| t.pop == p).count() as u32;
        let [ex, inh] = scales[p];
        let mut rec = PopRecord {
            start,
            count: pop.size,
            poisson_start: p_start,
            poisson_count: p_count,
            inv_scale_ex: ex.inverse_f32(),
            inv_scale_in: inh.inverse_f32(),
            ..Default::default()
        };
        match &pop.kind {
            NeuronKind::Lif(lif) => {
                let pr = Propagators::new(lif, net.dt_ms);
                rec.kind = KIND_LIF;
                rec.n_ref = (lif.t_ref_ms / net.dt_ms).round() as u32;
                rec.p22 = pr.p22 as f32;
                rec.p21_ex = pr.p21_ex as f32;
                rec.p21_in = pr.p21_in as f32;
                rec.p11_ex = pr.p11_ex as f32;
                rec.p11_in = pr.p11_in as f32;
                rec.v_th = lif.v_th_mv as f32;
                rec.v_reset = lif.v_reset_mv as f32;
                let key = KeyHasher::default().str("v_init").str(&pop.name).finish();
                for i in 0..pop.size {
                    let g = (start + i) as usize;
                    let v0 = lif.v_init_mv.sample(&mut stream(net.seed, key, i as u64));
                    v_init[g] = v0 as f32;
                    v_drive[g] = pr.v_drive(lif, lif.i_e_pa + extra_current[g]) as f32;
                }
            }
            NeuronKind::SpikeSource(times) => {
                rec.kind = KIND_SPIKE_SOURCE;
                rec.aux = aux.len() as u32;
                let ptr_base = aux.len();
                aux.resize(ptr_base + pop.size as usize + 1, 0);
                let mut steps_all = Vec::new();
                for (i, t) in times.iter().enumerate() {
                    let mut steps: Vec<u32> =
                        t.iter().map(|t| (t / net.dt_ms).round() as u32).collect();
                    steps.sort_unstable();
                    steps.dedup();
                    aux[ptr_base + i] = (ptr_base + pop.size as usize + 1 + steps_all.len()) as u32;
                    steps_all.extend(steps);
                }
                aux[ptr_base + pop.size as usize] =
                    (ptr_base + pop.size as usize + 1 + steps_all.len()) as u32;
                aux.extend(steps_all);
            }
        }
        pops.push(rec);
    }
    if aux.is_empty() {
        aux.push(0);
    }

    // Probes: the recorded spike range is the hull of all spike probes.
    let mut probes = Vec::new();
    let mut state_entries = Vec::new();
    let (mut rec_lo, mut rec_hi) = (u32::MAX, 0u32);
    let mut every_of_entries = Vec::new();
    for probe in &net.probes {
        match probe {
            ProbeTarget::Spikes(slice) => {
                let r = net.resolve(slice)?;
                let s = starts[slice.pop.index] + r.start;
                rec_lo = rec_lo.min(s);
                rec_hi = rec_hi.max(s + r.len() as u32);
                probes.push(ProbeLayout::Spikes {
                    start: s,
                    count: r.len() as u32,
                });
            }
            ProbeTarget::State {
                target,
                every_steps,
            } => {
                let r = net.resolve(target)?;
                let s = starts[target.pop.index] + r.start;
                probes.push(ProbeLayout::State {
                    first_entry: state_entries.len() as u32,
                    count: r.len() as u32,
                    every_steps: *every_steps,
                });
                for g in s..s + r.len() as u32 {
                    state_entries.push(StateEntry {
                        neuron: g,
                        every_steps: *every_steps,
                        base: 0,
                        _pad: 0,
                    });
                    every_of_entries.push(*every_steps);
                }
            }
        }
    }
    let (rec_start, rec_count) = if rec_lo < rec_hi {
        (rec_lo, rec_hi - rec_lo)
    } else {
        (0, 0)
    };
    let rec_words = rec_count.div_ceil(32);

    // Chunk length: as long as the per-chunk records stay small.
    let mut chunk_steps = DEFAULT_CHUNK_STEPS;
    let state_floats_for = |steps: u32| -> u64 {
        every_of_entries
            .iter()
            .map(|&e| 3 * steps.div_ceil(e) as u64)
            .sum()
    };
    while chunk_steps > 1
        && ((rec_words as u64 * 4 * chunk_steps as u64) > RECORD_BYTES_PER_CHUNK
            || state_floats_for(chunk_steps) * 4 > RECORD_BYTES_PER_CHUNK)
    {
        chunk_steps /= 2;
    }
    let mut base = 0u32;
    for e in &mut state_entries {
        e.base = base;
        base += 3 * chunk_steps.div_ceil(e.every_steps);
    }

    let grid = |threads: u32| -> [u32; 2] {
        let groups = threads.div_ceil(WORKGROUP_SIZE).max(1);
        let x = groups.min(MAX_GROUPS_PER_DIM);
        [x, groups.div_ceil(x)]
    };
    let update_groups = grid(n);
    let state_groups = grid(state_entries.len() as u32);
    let mut dispatches = Vec::new();
    if !state_entries.is_empty() {
        dispatches.push(Dispatch::RecordState {
            groups: state_groups,
        });
    }
    dispatches.push(Dispatch::NeuronUpdate {
        groups: update_groups,
    });
    dispatches.push(Dispatch::PrepareSpikes);
    dispatches.push(Dispatch::Propagate);

    let globals = Globals {
        n_neurons: n,
        n_pops: pops.len() as u32,
        ring_slots: max_delay + 1,
        record_bits: format.record_bits,
        target_bits: format.target_bits,
        delay_bits: format.delay_bits,
        weight_bits: format.weight_bits,
        rec_start,
        rec_count,
        rec_words,
        n_state_entries: state_entries.len() as u32,
        update_groups_x: update_groups[0],
        state_groups_x: state_groups[0],
        zero: 0,
        _pad: [0; 2],
    };
    Ok(Plan {
        net_id: net.id,
        dt_ms: net.dt_ms,
        globals,
        pops,
        pop_names: net.populations.iter().map(|p| p.name.clone()).collect(),
        v_init,
        v_drive,
        row_ptr,
        syn_words,
        syn_format: format,
        n_synapses,
        poisson: poisson_recs,
        poisson_cdf,
        aux,
        state_entries,
        probes,
        chunk_steps,
        state_floats: base,
        scales,
        dispatches,
    })
}
