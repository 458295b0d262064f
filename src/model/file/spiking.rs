//! Spiking model files: populations, projections, inputs and probes, built into a [`Network`].

use super::arrays::{InitialValues, NeuronValues};
use super::values::{parse_slice, ValuesSpec};
use super::{at_entry, ModelFile, RunSpec};
use crate::error::{Error, Result};
use crate::model::{
    Connectivity, LifCurrent, Network, NeuronSlice, PoissonInput, PopulationId, ProjectionId,
    SpikeProbe, StateProbe, StateVar, Stdp,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// `[[population]]`: LIF neurons (`neuron = "lif"`, the default, with `LifCurrent`'s
/// parameters, each optional, each a number or one value per neuron: a list, or a `.npy` file
/// or a CSV column, see [`NeuronValues`]) or a spike source (`neuron = "spike_source"`, `times_ms` one
/// list per neuron).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    /// The name it is known by in the file (and in the recordings).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Number of neurons (before `scale`).
    pub size: Option<u32>,
    #[serde(default = "lif", skip_serializing_if = "is_lif")]
    /// The neuron model.
    pub neuron: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Membrane time constant, ms: a number, or one per neuron (see [`NeuronValues`]).
    pub tau_m_ms: Option<NeuronValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Membrane capacitance, pF: a number, or one per neuron (see [`NeuronValues`]).
    pub c_m_pf: Option<NeuronValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Resting potential, mV: a number, or one per neuron (see [`NeuronValues`]).
    pub e_l_mv: Option<NeuronValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Reset potential, mV: a number, or one per neuron (see [`NeuronValues`]).
    pub v_reset_mv: Option<NeuronValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Threshold, mV: a number, or one per neuron (see [`NeuronValues`]).
    pub v_th_mv: Option<NeuronValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Refractory period, ms: a number, or one per neuron (see [`NeuronValues`]).
    pub t_ref_ms: Option<NeuronValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Excitatory synaptic time constant, ms: a number, or one per neuron (see [`NeuronValues`]).
    pub tau_syn_ex_ms: Option<NeuronValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Inhibitory synaptic time constant, ms: a number, or one per neuron (see [`NeuronValues`]).
    pub tau_syn_in_ms: Option<NeuronValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Constant input current, pA: a number, or one per neuron (see [`NeuronValues`]).
    pub i_e_pa: Option<NeuronValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Initial membrane potential, mV: a number or a distribution, or one per neuron.
    pub v_init_mv: Option<InitialValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Spike times of a spike source, ms: one list per neuron.
    pub times_ms: Option<Vec<Vec<f64>>>,
}

fn lif() -> String {
    "lif".into()
}
fn is_lif(s: &str) -> bool {
    s == "lif"
}

/// `[[projection]]`: synapses from `source` to `target` (population names or slices).
/// `rule` is one of `{ fixed_probability = p }`, `{ fixed_total_number = n }`,
/// `{ fixed_in_degree = k }`, `"all_to_all"`, `"one_to_one"`, `{ pairs = [[i, j], ...] }`.
/// `weight` (pA; negative is inhibitory) and `delay` (ms) are numbers, distributions, or with
/// `pairs` one value per synapse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpec {
    /// Presynaptic population or slice.
    pub source: String,
    /// What it applies to: a population or ensemble name, or a slice such as `"exc[0:100]"`.
    pub target: String,
    /// How pairs are connected.
    pub rule: RuleSpec,
    /// Weight, pA (negative: inhibitory).
    pub weight: ValuesSpec,
    /// Delay, ms (rounded to whole steps, at least one).
    pub delay: ValuesSpec,
    /// Pair-based STDP of its synapses (`Network::stdp`), e.g. `stdp = { tau_pre_ms = 20,
    /// tau_post_ms = 20, a_plus_pa = 1, a_minus_pa = -1.05, w_min_pa = 0, w_max_pa = 100 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdp: Option<StdpSpec>,
}

/// The STDP rule of a projection, as [`crate::model::Stdp`]: traces decaying with
/// `tau_pre_ms` and `tau_post_ms`, `a_plus_pa` added to the pre trace per arriving spike,
/// `a_minus_pa` to the post trace per post spike, weights kept in `[w_min_pa, w_max_pa]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdpSpec {
    /// Decay of the pre trace, ms.
    pub tau_pre_ms: f64,
    /// Decay of the post trace, ms.
    pub tau_post_ms: f64,
    /// Added to the pre trace per arriving spike, pA (potentiation).
    pub a_plus_pa: f64,
    /// Added to the post trace per post spike, pA (depression: usually negative).
    pub a_minus_pa: f64,
    /// Lower bound of the weights, pA (at least 0).
    pub w_min_pa: f64,
    /// Upper bound of the weights, pA.
    pub w_max_pa: f64,
}

impl From<&StdpSpec> for Stdp {
    fn from(s: &StdpSpec) -> Stdp {
        Stdp {
            tau_pre_ms: s.tau_pre_ms,
            tau_post_ms: s.tau_post_ms,
            a_plus_pa: s.a_plus_pa,
            a_minus_pa: s.a_minus_pa,
            w_min_pa: s.w_min_pa,
            w_max_pa: s.w_max_pa,
        }
    }
}

/// A connectivity rule as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleSpec {
    /// Each pair with this probability.
    FixedProbability(f64),
    /// This many synapses, pairs drawn with replacement (scaled with the target).
    FixedTotalNumber(u64),
    /// This many inputs per target neuron.
    FixedInDegree(u32),
    /// Every pair.
    AllToAll,
    /// Neuron i to neuron i.
    OneToOne,
    /// Exactly these `[pre, post]` pairs, local indices.
    Pairs(Vec<[u32; 2]>),
}

/// `[[poisson]]`: Poisson input, `in_degree` sources at `rate_hz` each, `weight_pa` each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoissonSpec {
    /// What it applies to: a population or ensemble name, or a slice such as `"exc[0:100]"`.
    pub target: String,
    /// Poisson sources per target neuron.
    pub in_degree: u32,
    /// Rate of each source, Hz.
    pub rate_hz: f64,
    /// Weight of each source, pA.
    pub weight_pa: f64,
}

/// `[[current]]`: a constant current into every neuron of `target`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentSpec {
    /// What it applies to: a population or ensemble name, or a slice such as `"exc[0:100]"`.
    pub target: String,
    /// Amplitude, pA: a number, or one per neuron of the target (see [`NeuronValues`]).
    pub amplitude_pa: NeuronValues,
}

/// A spike probe and what it records.
#[derive(Clone, Debug)]
pub struct NamedSpikeProbe {
    /// The name it is known by in the file (and in the recordings).
    pub name: String,
    /// The probe to read from the simulator.
    pub probe: SpikeProbe,
    /// Neurons recorded.
    pub size: u32,
}

/// A state probe (v, i_ex and i_in).
#[derive(Clone, Debug)]
pub struct NamedStateProbe {
    /// The name it is known by in the file (and in the recordings).
    pub name: String,
    /// The probe to read from the simulator.
    pub probe: StateProbe,
    /// The variables recorded.
    pub vars: Vec<StateVar>,
}

/// A built spiking model file.
pub struct SpikingModel {
    /// The network, ready for a simulator.
    pub network: Network,
    /// When the file declares no spike probe, one per population, named as the population.
    pub spike_probes: Vec<NamedSpikeProbe>,
    /// State probes, with names.
    pub state_probes: Vec<NamedStateProbe>,
    /// The `[run]` table.
    pub run: RunSpec,
    /// How many synapses the projections describe, known without drawing them: exact unless
    /// a fixed probability leaves the number to chance, then its expected value.
    pub synapses: SynapseCount,
    /// The projection of each `[[projection]]` entry, in file order (`None` for an entry that
    /// describes no synapses): to read the weights an STDP projection learned.
    pub projections: Vec<Option<ProjectionId>>,
}

/// A number of synapses known from the rules alone.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SynapseCount {
    /// The number, or its expected value when `exact` is false.
    pub count: f64,
    /// Whether no fixed probability leaves the number to chance.
    pub exact: bool,
}

impl std::fmt::Display for SynapseCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.exact {
            write!(f, "{} synapses", self.count)
        } else {
            write!(f, "about {} synapses", self.count.round())
        }
    }
}

/// Populations by name, with their sizes as built and as written (before scaling), for
/// resolving `name` and `name[a:b]`; and the names of populations that could not be made,
/// whose problem is already reported, so that what refers to them adds no second one.
struct Names {
    built: HashMap<String, (PopulationId, u32, u32)>,
    failed: HashSet<String>,
}

impl Names {
    /// The slice `text` names and its size; `None` for a population that could not be made.
    fn slice(&self, text: &str) -> std::result::Result<Option<(NeuronSlice, u32)>, String> {
        let (name, range) = parse_slice(text)?;
        let Some(&(pop, size, _)) = self.built.get(&name) else {
            if self.failed.contains(&name) {
                return Ok(None);
            }
            let mut known: Vec<&String> = self.built.keys().collect();
            known.sort();
            // A file of thousands of populations would otherwise fill the screen.
            let more = known.len().saturating_sub(20);
            known.truncate(20);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            return Err(format!(
                "no population named `{name}` (there are {known:?}{more})"
            ));
        };
        Ok(Some(match range {
            None => (pop.into(), size),
            Some(r) if r.end <= size as usize => {
                (pop.slice(r.start as u32..r.end as u32), r.len() as u32)
            }
            Some(r) => {
                return Err(format!(
                    "`{text}`: the slice ends at {} but `{name}` has {size} neurons",
                    r.end
                ))
            }
        }))
    }
}

/// Builds the network, pushing every problem found onto `problems` and going on past it.
pub(super) fn build(
    file: &ModelFile,
    run: RunSpec,
    problems: &mut Vec<Error>,
) -> Option<SpikingModel> {
    file.refuse_foreign(
        &[
            ("ensemble", file.ensembles.len()),
            ("node", file.nodes.len()),
            ("connection", file.connections.len()),
            ("pes", file.pes.len()),
        ],
        problems,
    );
    let mut scale = file.network.scale;
    if !(scale.is_finite() && scale > 0.0) {
        problems.push(Error::Validation(format!(
            "{}: network.scale: must be a positive number, got {scale}",
            file.source.key("network.scale")
        )));
        // The sizes as written, to find the problems of the rest.
        scale = 1.0;
    }
    let mut dt = file.network.dt_ms.unwrap_or(0.1);
    if !(dt.is_finite() && dt > 0.0) {
        problems.push(Error::Validation(format!(
            "{}: network.dt_ms = {dt}: the time step must be a positive number of milliseconds; write e.g. dt_ms = 0.1 (Brian2's and NEST's default)",
            file.source.key("network.dt_ms")
        )));
        dt = 0.1;
    }
    let mut net = Network::new().with_seed(file.network.seed).with_dt_ms(dt);
    let names = add_populations(file, &mut net, scale, problems);
    if file.populations.is_empty() {
        problems.push(Error::Validation(format!(
            "{}: the model has no [[population]]; a spiking model needs at least one",
            file.source.at(0)
        )));
    }
    if net.neuron_count() >= u32::MAX as u64 / 2 {
        problems.push(Error::Validation(format!(
            "{}: the populations hold {} neurons, more than the 2^31 a network can index; lower network.scale",
            file.source.key("network.scale"),
            net.neuron_count()
        )));
    }
    let (synapses, projections) = add_projections(file, &mut net, &names, problems);
    add_inputs(file, &mut net, &names, problems);
    let (mut spike_probes, state_probes) = add_probes(file, &mut net, &names, problems);
    if spike_probes.is_empty() {
        spike_probes = probe_every_population(file, &mut net, &names, problems);
    }
    if let Some((_, rates)) = &run.reference_rates {
        if rates.len() != spike_probes.len() {
            problems.push(Error::Validation(format!(
                "{}: run.reference_rates: {} rates for {} spike probes",
                file.source.key("run.reference_rates"),
                rates.len(),
                spike_probes.len()
            )));
        }
    }
    problems.is_empty().then_some(SpikingModel {
        network: net,
        spike_probes,
        state_probes,
        run,
        synapses,
        projections,
    })
}

fn add_populations(
    file: &ModelFile,
    net: &mut Network,
    scale: f64,
    problems: &mut Vec<Error>,
) -> Names {
    let mut names = Names {
        built: HashMap::new(),
        failed: HashSet::new(),
    };
    for (k, entry) in file.populations.iter().enumerate() {
        let p = entry.get_ref();
        let err = |key: &str, what: String| file.entry_error("population", k, entry, key, what);
        let added = match p.neuron.as_str() {
            "lif" => add_lif_population(file, net, scale, k, entry),
            "spike_source" => match p.times_ms.clone() {
                None => Err(err("times_ms", "a spike source needs times_ms".into())),
                Some(times) => {
                    let size = times.len() as u32;
                    net.spike_source(&p.name, times)
                        .map(|pop| (pop, size, size))
                        .map_err(at_entry(file, "population", k, entry))
                }
            },
            other => Err(err(
                "neuron",
                format!("`{other}` is not a neuron kind; use \"lif\" or \"spike_source\""),
            )),
        };
        match added {
            Ok(added) => {
                names.built.insert(p.name.clone(), added);
            }
            Err(e) => {
                problems.push(e);
                if !names.built.contains_key(&p.name) {
                    names.failed.insert(p.name.clone());
                }
            }
        }
    }
    names
}

/// Adds `population[k]`, a LIF population, scaled; returns it with its sizes as built and as
/// written.
fn add_lif_population(
    file: &ModelFile,
    net: &mut Network,
    scale: f64,
    k: usize,
    entry: &toml::Spanned<PopulationSpec>,
) -> Result<(PopulationId, u32, u32)> {
    let p = entry.get_ref();
    let err = |key: &str, what: String| file.entry_error("population", k, entry, key, what);
    let full = p.size.ok_or_else(|| err("size", "missing".into()))?;
    let size = (full as f64 * scale).round() as u32;
    if size == 0 {
        return Err(err(
            "size",
            format!(
                "scale {scale} leaves `{}` with no neurons (size {full})",
                p.name
            ),
        ));
    }
    let dir = file.path().parent().unwrap_or(Path::new("."));
    let neurons = match size == full {
        true => format!("the {size} neurons of `{}`", p.name),
        false => format!(
            "the {size} neurons of `{}` (size {full} x network.scale {scale}: per-neuron \
             values are for the population as built)",
            p.name
        ),
    };
    // Each parameter's values, one for all or one per neuron.
    let mut each = Vec::new();
    let mut shared = Vec::new();
    for (name, values) in lif_parameters(p) {
        let Some(values) = values else { continue };
        match values.per_neuron(dir, size as usize, &neurons) {
            Ok(None) => shared.push((name, values.same().unwrap_or_default())),
            Ok(Some(v)) => {
                // The first neuron's value stands for the population's own.
                shared.push((name, v[0]));
                each.push((name, v));
            }
            Err(e) => return Err(err(name, e)),
        }
    }
    let (v_init, v_each) = match p.v_init_mv.as_ref().map(InitialValues::split) {
        None => (None, None),
        Some(Ok(dist)) => (Some(dist.dist().map_err(|e| err("v_init_mv", e))?), None),
        Some(Err(values)) => match values.per_neuron(dir, size as usize, &neurons) {
            Ok(v) => (None, v),
            Err(e) => return Err(err("v_init_mv", e)),
        },
    };
    let mut neuron = LifCurrent::default();
    for (name, x) in shared {
        if let Some(field) = neuron.field_mut(name) {
            *field = x;
        }
    }
    if let Some(dist) = v_init {
        neuron.v_init_mv = dist;
    }
    let pop =
        net.population(&p.name, size, neuron)
            .map_err(at_entry(file, "population", k, entry))?;
    for (name, values) in each {
        net.parameter_each(pop, name, &values)
            .map_err(|e| err(name, message(e)))?;
    }
    if let Some(values) = v_each {
        net.initial_state(pop, "v", &values)
            .map_err(|e| err("v_init_mv", message(e)))?;
    }
    Ok((pop, size, full))
}

/// Adds the `[[projection]]` entries, then the rows of each `[[projection_table]]`; returns
/// how many synapses they describe, and the projection of each entry.
fn add_projections(
    file: &ModelFile,
    net: &mut Network,
    names: &Names,
    problems: &mut Vec<Error>,
) -> (SynapseCount, Vec<Option<ProjectionId>>) {
    let mut total = SynapseCount {
        count: 0.0,
        exact: true,
    };
    let mut add = |n: Option<(SynapseCount, Option<ProjectionId>)>| {
        let (n, projection) = n?;
        total.count += n.count;
        total.exact &= n.exact;
        projection
    };
    let mut projections = Vec::new();
    for (k, entry) in file.projections.iter().enumerate() {
        match connect(file, net, names, "projection", k, entry) {
            Ok(n) => projections.push(add(n)),
            Err(e) => {
                projections.push(None);
                problems.push(e)
            }
        }
    }
    for (k, table) in file.projection_tables.iter().enumerate() {
        let rows = match table.get_ref().rows(file, k, table) {
            Ok(rows) => rows,
            Err(e) => {
                problems.extend(e);
                continue;
            }
        };
        for (row, entry) in rows {
            let entry = toml::Spanned::new(table.span(), entry);
            match connect(file, net, names, "projection_table", k, &entry) {
                Ok(n) => {
                    add(n);
                }
                Err(e) => {
                    // The inner message, not its display: that starts with the variant's
                    // prefix, which the new error adds again.
                    let what = match e {
                        Error::Validation(m) | Error::Build(m) => m,
                        other => other.to_string(),
                    };
                    problems.push(Error::Validation(format!(
                        "{what} (row {row} of {})",
                        table.get_ref().file
                    )));
                }
            }
        }
    }
    (total, projections)
}

/// Adds the `[[poisson]]` entries, then the `[[current]]` entries.
fn add_inputs(file: &ModelFile, net: &mut Network, names: &Names, problems: &mut Vec<Error>) {
    for (k, entry) in file.poisson.iter().enumerate() {
        let p = entry.get_ref();
        let target = match names.slice(&p.target) {
            Ok(Some((target, _))) => target,
            Ok(None) => continue,
            Err(e) => {
                problems.push(file.entry_error("poisson", k, entry, "target", e));
                continue;
            }
        };
        let input = PoissonInput {
            in_degree: p.in_degree,
            rate_hz: p.rate_hz,
            weight_pa: p.weight_pa,
        };
        // The count table is what lowering makes of the input; made here too, a file whose
        // table cannot be made is refused before a run.
        let checked = net.poisson(target, input).and_then(|()| {
            crate::lower::poisson::binomial_table(p.in_degree, p.rate_hz * net.dt_ms() * 1e-3)
                .map(|_| ())
        });
        if let Err(e) = checked {
            problems.push(at_entry(file, "poisson", k, entry)(e));
        }
    }
    let dir = file.path().parent().unwrap_or(Path::new("."));
    for (k, entry) in file.currents.iter().enumerate() {
        let c = entry.get_ref();
        let err = |key: &str, what: String| file.entry_error("current", k, entry, key, what);
        let (target, size) = match names.slice(&c.target) {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            Err(e) => {
                problems.push(err("target", e));
                continue;
            }
        };
        let neurons = format!("the {size} neurons of `{}`", c.target);
        let added = match c.amplitude_pa.per_neuron(dir, size as usize, &neurons) {
            Ok(None) => net.current(target, c.amplitude_pa.same().unwrap_or_default()),
            Ok(Some(values)) => net.current_each(target, &values),
            Err(e) => {
                problems.push(err("amplitude_pa", e));
                continue;
            }
        };
        if let Err(e) = added {
            problems.push(at_entry(file, "current", k, entry)(e));
        }
    }
}

/// The `[[probe]]` entries: spike probes and state probes.
fn add_probes(
    file: &ModelFile,
    net: &mut Network,
    names: &Names,
    problems: &mut Vec<Error>,
) -> (Vec<NamedSpikeProbe>, Vec<NamedStateProbe>) {
    let mut spike_probes = Vec::new();
    let mut state_probes = Vec::new();
    for (k, entry) in file.probes.iter().enumerate() {
        let p = entry.get_ref();
        let err = |key: &str, what: String| file.entry_error("probe", k, entry, key, what);
        let (target, size) = match names.slice(&p.target) {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            Err(e) => {
                problems.push(err("target", e));
                continue;
            }
        };
        let name = p.name.clone().unwrap_or_else(|| p.target.clone());
        if p.synapse.is_some() {
            problems.push(err("synapse", "is for NEF probes".into()));
            continue;
        }
        match p.kind.as_deref().unwrap_or("spikes") {
            "spikes" if p.sample_every_ms.is_some() => {
                problems.push(err("sample_every_ms", "is for state probes".into()));
            }
            "spikes" => match net.probe_spikes(target) {
                Ok(probe) => spike_probes.push(NamedSpikeProbe { name, probe, size }),
                Err(e) => problems.push(at_entry(file, "probe", k, entry)(e)),
            },
            "state" => {
                let every = p.sample_every_ms.unwrap_or(net.dt_ms());
                match net.probe_state(target, every) {
                    Ok(probe) => state_probes.push(NamedStateProbe {
                        name,
                        probe,
                        vars: vec![StateVar::V, StateVar::ISynEx, StateVar::ISynIn],
                    }),
                    Err(e) => problems.push(at_entry(file, "probe", k, entry)(e)),
                }
            }
            other => problems.push(err(
                "kind",
                format!("`{other}` is not a spiking probe; use \"spikes\" or \"state\""),
            )),
        }
    }
    (spike_probes, state_probes)
}

/// A spike probe on every population, named as the population, for a file that declares no
/// spike probe: a run then still reports rates.
fn probe_every_population(
    file: &ModelFile,
    net: &mut Network,
    names: &Names,
    problems: &mut Vec<Error>,
) -> Vec<NamedSpikeProbe> {
    let mut spike_probes = Vec::new();
    for entry in &file.populations {
        let name = &entry.get_ref().name;
        let Some(&(pop, size, _)) = names.built.get(name) else {
            continue;
        };
        match net.probe_spikes(pop) {
            Ok(probe) => spike_probes.push(NamedSpikeProbe {
                name: name.clone(),
                probe,
                size,
            }),
            Err(e) => problems.push(e),
        }
    }
    spike_probes
}

/// The LIF parameters of a `[[population]]` entry, by name, as written.
fn lif_parameters(p: &PopulationSpec) -> [(&'static str, Option<&NeuronValues>); 9] {
    [
        ("tau_m_ms", p.tau_m_ms.as_ref()),
        ("c_m_pf", p.c_m_pf.as_ref()),
        ("e_l_mv", p.e_l_mv.as_ref()),
        ("v_reset_mv", p.v_reset_mv.as_ref()),
        ("v_th_mv", p.v_th_mv.as_ref()),
        ("t_ref_ms", p.t_ref_ms.as_ref()),
        ("tau_syn_ex_ms", p.tau_syn_ex_ms.as_ref()),
        ("tau_syn_in_ms", p.tau_syn_in_ms.as_ref()),
        ("i_e_pa", p.i_e_pa.as_ref()),
    ]
}

/// An error's message without its variant's prefix, to restate it at an entry.
fn message(e: Error) -> String {
    match e {
        Error::Validation(m) | Error::Build(m) => m,
        other => other.to_string(),
    }
}

/// Adds one projection; `array[k]` names it in errors. Returns how many synapses it
/// describes and the projection made (none for no synapses), or `None` when it refers to a
/// population whose problem is already reported.
fn connect(
    file: &ModelFile,
    net: &mut Network,
    names: &Names,
    array: &str,
    k: usize,
    entry: &toml::Spanned<ProjectionSpec>,
) -> Result<Option<(SynapseCount, Option<ProjectionId>)>> {
    let p = entry.get_ref();
    let err = |key: &str, what: String| file.entry_error(array, k, entry, key, what);
    let source = names.slice(&p.source).map_err(|e| err("source", e))?;
    let target = names.slice(&p.target).map_err(|e| err("target", e))?;
    let (Some((source, n_pre)), Some((target, n_post))) = (source, target) else {
        return Ok(None);
    };
    let (n_pre, n_post) = (n_pre as f64, n_post as f64);
    let rule = match &p.rule {
        RuleSpec::FixedProbability(q) => Connectivity::FixedProbability(*q),
        // Scaled with the target population as built, so the in-degree is kept.
        RuleSpec::FixedTotalNumber(n) => {
            let (name, _) = parse_slice(&p.target).map_err(|e| err("target", e))?;
            let (size, full) = names
                .built
                .get(&name)
                .map_or((1, 1), |&(_, size, full)| (size, full));
            Connectivity::FixedTotalNumber((*n as f64 * size as f64 / full as f64).round() as u64)
        }
        RuleSpec::FixedInDegree(k) => Connectivity::FixedInDegree(*k),
        RuleSpec::AllToAll => Connectivity::AllToAll,
        RuleSpec::OneToOne => Connectivity::OneToOne,
        RuleSpec::Pairs(pairs) => {
            Connectivity::Explicit(pairs.iter().map(|&[i, j]| (i, j)).collect())
        }
    };
    let count = |count: f64| SynapseCount { count, exact: true };
    let synapses = match &rule {
        Connectivity::FixedProbability(q) => SynapseCount {
            count: q * n_pre * n_post,
            exact: false,
        },
        Connectivity::FixedTotalNumber(n) => count(*n as f64),
        Connectivity::FixedInDegree(k) => count(*k as f64 * n_post),
        Connectivity::AllToAll => count(n_pre * n_post),
        Connectivity::OneToOne => count(n_pre),
        Connectivity::Explicit(pairs) => count(pairs.len() as f64),
    };
    if matches!(rule, Connectivity::FixedTotalNumber(0)) {
        return Ok(Some((synapses, None)));
    }
    let weight = p.weight.values().map_err(|e| err("weight", e))?;
    let delay = p.delay.values().map_err(|e| err("delay", e))?;
    let projection = net
        .connect(source, target, rule, weight, delay)
        .map_err(at_entry(file, array, k, entry))?;
    if let Some(stdp) = &p.stdp {
        net.stdp(projection, stdp.into())
            .map_err(|e| err("stdp", message(e)))?;
    }
    Ok(Some((synapses, Some(projection))))
}
