//! Lowering: `Network` -> `Plan`. Emits data, never GPU calls, so the same Plan drives the GPU
//! backend and its CPU twin.

mod csr;
pub mod estimate;
pub mod fixed_point;
pub mod layout;
pub mod nef;
pub mod packing;
pub mod part;
mod plan;
pub mod plastic;
pub mod poisson;
mod populations;
mod probes;
pub mod program;
pub mod propagators;
mod synapses;

pub use plan::{Dispatch, Plan, ProbeLayout};
pub use populations::NeuronArray;
pub use program::Program;

use crate::error::{Error, Result};
use crate::model::neuron_model::{self, NeuronModel};
use crate::model::Network;
use crate::rng::{mix64, KeyHasher};
use fixed_point::ChannelScale;
use layout::*;
use packing::SynapseFormat;
use std::collections::HashMap;

pub use probes::DEFAULT_CHUNK_STEPS;

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
    build_for(net, None)
}

/// [`build`] for a device whose buffer bindings hold at most `device.0` bytes: a network that
/// cannot fit it is refused before anything is built.
pub fn build_for(net: &Network, device: Option<estimate::BindingLimit>) -> Result<Plan> {
    build_part(net, device, None)
}

/// [`build_for`] of one process's part when the network runs on several ([`part`]): the
/// synapses onto its neurons, its neurons' updates, and every neuron's spikes recorded (the
/// exchange reads them). Every process draws every synapse, for the whole network's census,
/// and keeps its own.
pub fn build_part(
    net: &Network,
    device: Option<estimate::BindingLimit>,
    part: Option<part::PartBuild>,
) -> Result<Plan> {
    let n = check_network(net, device)?;
    let starts: Vec<u32> = net
        .populations
        .iter()
        .scan(0u32, |acc, p| {
            let start = *acc;
            *acc += p.size;
            Some(start)
        })
        .collect();

    // Synapses in canonical order (blocks by key), so the plan does not depend on how blocks
    // were grouped, the order of building, or the thread count. Most are generated row by row
    // on demand, in the census and again in the packing, rather than stored in between.
    // Plastic projections (STDP, synapse models) are lowered apart from the packed records
    // (`plastic.rs`).
    let is_static = |k: usize| !plastic::is_plastic(net, k);
    let buckets = synapses::Buckets::for_neurons(n);
    let synapses = synapses::Synapses::keyed(net, &starts, buckets, is_static)?;
    let pop_index: Vec<u32> = (0..net.populations.len() as u32)
        .flat_map(|p| std::iter::repeat_n(p, net.populations[p as usize].size as usize))
        .collect();
    let sources = poisson_sources(net, &starts)?;

    // One pass over the synapses: row lengths, and per target neuron and channel the worst-case
    // input in one step, for the fixed-point scales.
    // On several processes, the split comes first, from the rules' in-degrees, so that a
    // process draws only the blocks onto populations it has neurons of, the census counts only
    // its rows, and the build draws those synapses twice, as in one process.
    let mut partition = match &part {
        Some(part) => Some(part::Partition::split(
            part.of,
            &synapses.expected_in_degree(),
        )?),
        None => None,
    };
    let counted = (|| -> Result<(synapses::Synapses, csr::Census)> {
        let synapses = synapses.draw(partition.as_ref().map(|p| p.owned()))?;
        let census = csr::census(
            &synapses,
            &pop_index,
            net.populations.len(),
            partition.as_ref(),
        )?;
        Ok((synapses, census))
    })();
    let (synapses, mut census) = match (&mut partition, &part) {
        (Some(p), Some(part)) => {
            // Each process saw the delays onto its own neurons only: the interval is the
            // shortest over all of them, which every process must use.
            let mine = match &counted {
                Ok((_, census)) => Ok(census.shortest_between),
                Err(e) => Err(Error::Simulation(e.to_string())),
            };
            let agreed = (part.agree)(mine);
            let (synapses, mut census) = counted?;
            p.interval = agreed?.min(probes::DEFAULT_CHUNK_STEPS);
            let drawn: u64 = census.onto[p.rank as usize];
            p.synapses[p.rank as usize] = drawn;
            census.onto.clear();
            (synapses, census)
        }
        _ => counted?,
    };
    let mut plastic = plastic::lower(net, &starts, n)?;
    if let Some(plastic) = &mut plastic {
        // Every plastic synapse sizes the scales, as in one process; a process keeps those
        // onto its own neurons.
        plastic.add_to_census(&mut census, &pop_index, net);
        if let Some(p) = &mut partition {
            p.interval = p.interval.min(plastic_interval(plastic, p, net.dt_ms)?);
            plastic.keep_onto(p.owned());
        }
    }
    let format = SynapseFormat::for_model(n, census.max_delay)?;
    let max_delay = census.max_delay;
    let (row_ptr, scales) = channel_scales(net, &starts, census, &sources, &format);
    let keep = partition.as_ref().map(|p| csr::Keep {
        owned: p.owned(),
        interval: p.interval,
    });
    let n_synapses = *row_ptr.last().unwrap_or(&0) as u64;

    // Pack: each synapse's record goes to the next free slot of its pre neuron's row; units are
    // in canonical order, so rows are too.
    let quantise = |post: u32, weight_pa: f32| -> Result<i32> {
        let p = pop_index[post as usize] as usize;
        quantise_synapse(net, &scales[p], post, p, weight_pa as f64)
    };
    let syn_words = csr::pack(&synapses, &row_ptr, &format, keep.as_ref(), quantise)?;
    let plastic = plastic
        .map(|p| p.finish(net, &scales, &pop_index, &starts))
        .transpose()?;
    drop(synapses);
    drop(pop_index);

    let (poisson, poisson_cdf) = poisson_records(net, &sources, &scales)?;
    let populations::Populations {
        pops,
        v_init,
        v_drive,
        neuron_models,
        aux,
        arrays: neuron_arrays,
    } = populations::lower(net, &starts, &scales, &poisson_ranges(net, &sources))?;
    // The neuron update with the user-defined models spliced in (each was checked when its
    // population was added; the pipeline validates the whole again).
    let neuron_kernel = (!neuron_models.is_empty()).then(|| {
        let models: Vec<&NeuronModel> = neuron_models.iter().collect();
        neuron_model::kernel::generate(&models, net.dt_ms).text
    });
    let records = probes::lower(net, &starts, partition.as_ref().map(|p| (n, p.interval)))?;
    let plasticity = match &plastic {
        None => Plasticity::None,
        Some(p) if p.models.is_empty() => Plasticity::Stdp,
        Some(_) => Plasticity::WithModels,
    };
    let own = partition.as_ref().map_or(0..n, |p| p.owned());
    let (dispatches, update_groups, state_groups) = step_dispatches(
        own.len() as u32,
        records.state_entries.len() as u32,
        plasticity,
    );

    let globals = Globals {
        n_neurons: n,
        n_pops: pops.len() as u32,
        ring_slots: max_delay + 1,
        record_bits: format.record_bits,
        target_bits: format.target_bits,
        delay_bits: format.delay_bits,
        weight_bits: format.weight_bits,
        rec_start: records.rec_start,
        rec_count: records.rec_count,
        rec_words: records.rec_words,
        n_state_entries: records.state_entries.len() as u32,
        update_groups_x: update_groups[0],
        state_groups_x: state_groups[0],
        zero: 0,
        own_start: own.start,
        own_count: own.len() as u32,
    };
    Ok(Plan {
        net_id: net.id,
        seed: net.seed,
        dt_ms: net.dt_ms,
        globals,
        pops,
        pop_names: net.populations.iter().map(|p| p.name.clone()).collect(),
        v_init,
        v_drive,
        neuron_models,
        neuron_kernel,
        row_ptr,
        syn_words: std::sync::Arc::new(syn_words),
        syn_format: format,
        n_synapses,
        poisson,
        poisson_cdf,
        aux,
        state_entries: records.state_entries,
        probes: records.probes,
        chunk_steps: records.chunk_steps,
        state_floats: records.state_floats,
        scales,
        dispatches,
        plastic,
        neuron_arrays,
        partition,
    })
}

/// The longest exchange interval the plastic synapses allow: a spike another process fired
/// must be in this process's spike history the step before it arrives at a plastic synapse
/// (`plastic_pre` handles an arrival one step ahead, so that its weight is in the ring in
/// time), so the interval is one step shorter than the shortest plastic delay between
/// processes. Refused when that delay is a single step.
fn plastic_interval(
    plastic: &plastic::PlasticDraw,
    p: &part::Partition,
    dt_ms: f64,
) -> Result<u32> {
    match plastic.shortest_between(|i| p.owner_of(i)) {
        None => Ok(u32::MAX),
        Some(d) if d >= 2 => Ok(d - 1),
        Some(_) => Err(Error::Validation(format!(
            "a plastic synapse between neurons of two of the {} processes has a delay of one \
             step; on several processes plastic synapses between processes need delays of at \
             least two steps ({} ms here), since a spike from another process reaches this \
             one a step later than in one process. Give them longer delays, or run in one \
             process",
            p.ranks,
            2.0 * dt_ms
        ))),
    }
}

/// Refuses a network that cannot be lowered (a bad dt, no populations, more neurons than a
/// plan indexes) and returns its neuron count.
fn check_network(net: &Network, device: Option<estimate::BindingLimit>) -> Result<u32> {
    if !(net.dt_ms.is_finite() && net.dt_ms > 0.0) {
        return Err(Error::Validation(format!(
            "dt = {} ms: the time step must be a positive number of milliseconds; use e.g. \
             Network::with_dt_ms(0.1) (Brian2's and NEST's default)",
            net.dt_ms
        )));
    }
    if net.populations.is_empty() {
        return Err(Error::Validation(
            "the network has no populations; add one before simulating".into(),
        ));
    }
    net.check_against_dt()?;
    net.check_parameters()?;
    let estimate = estimate::Estimate::of(net)?;
    estimate.check(estimate::host_available_bytes())?;
    if let Some(device) = &device {
        estimate.check_device(device)?;
    }
    let n_total = net.neuron_count();
    if n_total >= u32::MAX as u64 / 2 {
        return Err(Error::Build(format!(
            "{n_total} neurons exceed the 2^31 neurons a plan can index"
        )));
    }
    Ok(n_total as u32)
}

/// The Poisson inputs with their count tables, grouped by target population and keyed by
/// content, so the draws do not depend on the order the inputs were added in.
fn poisson_sources(net: &Network, starts: &[u32]) -> Result<Vec<PoissonSource>> {
    let mut order: Vec<usize> = (0..net.poisson.len()).collect();
    order.sort_by_key(|&k| net.poisson[k].0.pop.index);
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut sources = Vec::new();
    for &k in &order {
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
        sources.push(PoissonSource {
            pop: slice.pop.index,
            start: starts[slice.pop.index] + range.start,
            count: range.len() as u32,
            key,
            table,
            weight_pa: input.weight_pa,
        });
    }
    Ok(sources)
}

/// The row pointers, and each population's fixed-point scale per channel, sized from the
/// worst-case input of one step (synapses and Poisson counts) onto its neurons.
fn channel_scales(
    net: &Network,
    starts: &[u32],
    census: csr::Census,
    sources: &[PoissonSource],
    format: &SynapseFormat,
) -> (Vec<u32>, Vec<[ChannelScale; 2]>) {
    let csr::Census {
        row_ptr,
        mut bound,
        mut typical,
        largest,
        ..
    } = census;
    for src in sources {
        let c = csr::channel(src.weight_pa);
        for b in &mut bound[src.start as usize..(src.start + src.count) as usize] {
            b[c] += src.table.k_max() as f64 * src.weight_pa.abs();
        }
        let t = &mut typical[src.pop][c];
        t.0 += src.weight_pa.abs();
        t.1 += 1;
    }
    let scales = net
        .populations
        .iter()
        .enumerate()
        .map(|(p, pop)| {
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
            [per_channel(0), per_channel(1)]
        })
        .collect();
    (row_ptr, scales)
}

/// A synapse's weight onto neuron `post` of population `p` in that population's fixed-point
/// units, refusing one that would round to zero.
fn quantise_synapse(
    net: &Network,
    scales: &[ChannelScale; 2],
    post: u32,
    p: usize,
    w: f64,
) -> Result<i32> {
    let scale = &scales[csr::channel(w)];
    let q = scale.quantise(w);
    if q == 0 && w != 0.0 {
        return Err(Error::Build(format!(
            "a synapse onto neuron {} of weight {w} pA is below the quantisation step {} pA of its target population `{}`, whose inputs reach {} pA per step; rescale the weights into that population",
            post,
            scale.step_pa(),
            net.populations[p].name,
            scale.bound_pa
        )));
    }
    Ok(q)
}

/// The Poisson records and their concatenated count tables (one `u32::MAX` when there are
/// none: wgpu refuses empty bindings).
fn poisson_records(
    net: &Network,
    sources: &[PoissonSource],
    scales: &[[ChannelScale; 2]],
) -> Result<(Vec<PoissonRecord>, Vec<u32>)> {
    let mut records = Vec::new();
    let mut cdf = Vec::new();
    for src in sources {
        let c = csr::channel(src.weight_pa);
        let weight_q = scales[src.pop][c].quantise(src.weight_pa);
        if weight_q == 0 && src.weight_pa != 0.0 {
            return Err(Error::Build(format!(
                "a Poisson input of weight {} pA into `{}` is below the quantisation step {} pA of that population; rescale the weights into it",
                src.weight_pa,
                net.populations[src.pop].name,
                scales[src.pop][c].step_pa()
            )));
        }
        records.push(PoissonRecord {
            target_start: src.start,
            target_count: src.count,
            key: src.key,
            cdf_start: cdf.len() as u32,
            cdf_len: src.table.thresholds.len() as u32,
            k_min: src.table.k_min,
            weight_q,
            channel: c as u32,
        });
        cdf.extend_from_slice(&src.table.thresholds);
    }
    if cdf.is_empty() {
        cdf.push(u32::MAX);
    }
    Ok((records, cdf))
}

/// Per population, its first Poisson source and how many it has (sources are sorted by
/// population, so each population's are contiguous).
fn poisson_ranges(net: &Network, sources: &[PoissonSource]) -> Vec<(u32, u32)> {
    (0..net.populations.len())
        .map(|p| {
            let first = sources.iter().position(|t| t.pop == p).unwrap_or(0) as u32;
            (first, sources.iter().filter(|t| t.pop == p).count() as u32)
        })
        .collect()
}

/// Which plastic kernels a step runs.
#[derive(Clone, Copy, PartialEq)]
enum Plasticity {
    None,
    Stdp,
    /// STDP's kernels (which keep the spike history) and the user-defined models'.
    WithModels,
}

/// The launches of one step for `n` neurons and `state_entries` state-probe entries, and the
/// neuron update's and state recording's workgroup grids.
fn step_dispatches(
    n: u32,
    state_entries: u32,
    plasticity: Plasticity,
) -> (Vec<Dispatch>, [u32; 2], [u32; 2]) {
    let grid = |threads: u32| -> [u32; 2] {
        let groups = threads.div_ceil(WORKGROUP_SIZE).max(1);
        let x = groups.min(MAX_GROUPS_PER_DIM);
        [x, groups.div_ceil(x)]
    };
    let update_groups = grid(n);
    let state_groups = grid(state_entries);
    let mut dispatches = Vec::new();
    if state_entries > 0 {
        dispatches.push(Dispatch::RecordState {
            groups: state_groups,
        });
    }
    dispatches.push(Dispatch::NeuronUpdate {
        groups: update_groups,
    });
    dispatches.push(Dispatch::Propagate);
    match plasticity {
        Plasticity::None => {}
        Plasticity::Stdp => dispatches.extend([
            Dispatch::PlasticPost,
            Dispatch::PlasticPrepare,
            Dispatch::PlasticPre,
        ]),
        Plasticity::WithModels => dispatches.extend([
            Dispatch::PlasticPost,
            Dispatch::PlasticModelPost,
            Dispatch::PlasticPrepare,
            Dispatch::PlasticPre,
            Dispatch::PlasticModelPre,
        ]),
    }
    (dispatches, update_groups, state_groups)
}

#[cfg(test)]
mod tests {
    use super::layout::{KIND_CUSTOM, KIND_LIF, KIND_SPIKE_SOURCE};
    use super::{build, Dispatch};
    use crate::model::neuron_model::izhikevich;
    use crate::model::{Connectivity, Dist, LifCurrent, Network, PoissonInput};

    fn lif() -> LifCurrent {
        LifCurrent {
            v_init_mv: Dist::Const(-60.0),
            ..LifCurrent::default()
        }
    }

    #[test]
    fn a_lif_population_becomes_one_record_with_its_propagators_and_initial_state() {
        let mut net = Network::new().with_seed(1);
        net.population("a", 10, lif()).unwrap();
        let b = net.population("b", 5, lif()).unwrap();
        net.current(b, 100.0).unwrap();
        let plan = build(&net).unwrap();
        assert_eq!(plan.pops.len(), 2);
        let (ra, rb) = (&plan.pops[0], &plan.pops[1]);
        assert_eq!((ra.start, ra.count, ra.kind), (0, 10, KIND_LIF));
        assert_eq!((rb.start, rb.count, rb.kind), (10, 5, KIND_LIF));
        let p = LifCurrent::default();
        assert_eq!(ra.n_ref, (p.t_ref_ms / net.dt_ms).round() as u32);
        assert_eq!(
            (ra.v_th, ra.v_reset),
            (p.v_th_mv as f32, p.v_reset_mv as f32)
        );
        assert!(
            ra.p22 > 0.0 && ra.p22 < 1.0,
            "membrane decay per step {}",
            ra.p22
        );
        assert_eq!(plan.v_init, vec![-60.0; 15]);
        // The current moves b's constant drive, not a's.
        assert_eq!(plan.v_drive[0], plan.v_drive[9]);
        assert!(plan.v_drive[10] > plan.v_drive[0], "{:?}", plan.v_drive);
        assert_eq!(plan.pop_names, ["a", "b"]);
    }

    #[test]
    fn a_spike_source_becomes_per_neuron_pointers_and_sorted_steps() {
        let mut net = Network::new();
        net.spike_source("s", vec![vec![0.3, 0.1, 0.3], vec![], vec![1.0]])
            .unwrap();
        let plan = build(&net).unwrap();
        let rec = &plan.pops[0];
        assert_eq!(rec.kind, KIND_SPIKE_SOURCE);
        // Pointers for 3 neurons and the end, then the steps (0.1 ms each), sorted and
        // deduplicated per neuron.
        let base = rec.aux as usize;
        assert_eq!(&plan.aux[base..base + 4], &[4, 6, 6, 7]);
        assert_eq!(&plan.aux[4..7], &[1, 3, 10]);
    }

    #[test]
    fn a_user_defined_model_gets_a_kind_and_its_parameters_and_state_after_the_potentials() {
        let mut net = Network::new();
        net.population("lif", 3, lif()).unwrap();
        let model = izhikevich(Default::default());
        let (n_params, n_state) = (model.param_names().count(), model.state_names().count());
        net.neurons("izh", 4, model).unwrap();
        let plan = build(&net).unwrap();
        let rec = &plan.pops[1];
        assert_eq!(rec.kind, KIND_CUSTOM);
        assert_eq!(plan.neuron_models.len(), 1);
        // v: 7 potentials, then the model's parameters, then its other state, neuron-major.
        assert_eq!(rec.params, 7);
        assert_eq!(rec.aux as usize, 7 + n_params);
        assert_eq!(plan.v_init.len(), 7 + n_params + 4 * (n_state - 1));
        assert!(plan.neuron_kernel.as_deref().unwrap().contains("nm_run_0"));
    }

    #[test]
    fn a_projection_becomes_csr_rows_of_packed_records_with_delays_in_steps() {
        let mut net = Network::new().with_seed(5);
        let a = net.population("a", 4, lif()).unwrap();
        let b = net.population("b", 3, lif()).unwrap();
        net.connect(a, b, Connectivity::AllToAll, 20.0, 1.5)
            .unwrap();
        net.connect(b, a, Connectivity::OneToOne, -10.0, 0.1)
            .map(|_| ())
            .unwrap_err(); // sizes differ: refused when added
        net.connect(b, a.slice(0..3), Connectivity::OneToOne, -10.0, 0.1)
            .unwrap();
        let plan = build(&net).unwrap();
        assert_eq!(plan.synapse_count(), 12 + 3);
        assert_eq!(plan.row_ptr, [0, 3, 6, 9, 12, 13, 14, 15]);
        // Every synapse of pre 0 goes to b (global 4..7), 15 steps later, excitatory.
        let ex_scale = plan.scales[1][0].scale();
        for j in 0..3 {
            let (post, delay, w) = plan.syn_format.decode(&plan.syn_words, j);
            assert_eq!((post, delay), (4 + j as u32, 15));
            assert_eq!(w as f64, (20.0 * ex_scale).round(), "weight in b's units");
        }
        // b's neuron k inhibits a's neuron k one step later.
        let (post, delay, w) = plan.syn_format.decode(&plan.syn_words, 13);
        assert_eq!((post, delay), (1, 1));
        assert!(w < 0);
        assert_eq!(plan.globals.ring_slots, 16);
    }

    #[test]
    fn poisson_inputs_become_records_grouped_by_population() {
        let mut net = Network::new().with_seed(2);
        let a = net.population("a", 5, lif()).unwrap();
        let b = net.population("b", 6, lif()).unwrap();
        let input = |w| PoissonInput {
            in_degree: 100,
            rate_hz: 8.0,
            weight_pa: w,
        };
        net.poisson(b, input(5.0)).unwrap();
        net.poisson(a.slice(1..3), input(-2.0)).unwrap();
        let plan = build(&net).unwrap();
        assert_eq!(plan.poisson.len(), 2);
        // Sorted by target population: a's first, whatever the order they were added in.
        let (pa, pb) = (&plan.poisson[0], &plan.poisson[1]);
        assert_eq!((pa.target_start, pa.target_count, pa.channel), (1, 2, 1));
        assert_eq!((pb.target_start, pb.target_count, pb.channel), (5, 6, 0));
        assert_eq!(
            (plan.pops[0].poisson_start, plan.pops[0].poisson_count),
            (0, 1)
        );
        assert_eq!(
            (plan.pops[1].poisson_start, plan.pops[1].poisson_count),
            (1, 1)
        );
        assert_eq!(pb.cdf_start, pa.cdf_len);
    }

    #[test]
    fn twenty_populations_still_step_in_two_dispatches() {
        let mut net = Network::new();
        for k in 0..20 {
            net.population(&format!("p{k}"), 10, lif()).unwrap();
        }
        let plan = build(&net).unwrap();
        assert!(matches!(
            plan.dispatches.as_slice(),
            [Dispatch::NeuronUpdate { .. }, Dispatch::Propagate]
        ));
    }
}
