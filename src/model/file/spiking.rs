//! Spiking model files: populations, projections, inputs and probes, built into a [`Network`].

use super::values::{parse_slice, DistSpec, ValuesSpec};
use super::{at_entry, ModelFile, RunSpec};
use crate::error::{Error, Result};
use crate::model::{
    Connectivity, LifCurrent, Network, NeuronSlice, PoissonInput, PopulationId, SpikeProbe,
    StateProbe, StateVar,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `[[population]]`: LIF neurons (`neuron = "lif"`, the default, with `LifCurrent`'s
/// parameters, each optional) or a spike source (`neuron = "spike_source"`, `times_ms` one
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
    /// Membrane time constant, ms.
    pub tau_m_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Membrane capacitance, pF.
    pub c_m_pf: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Resting potential, mV.
    pub e_l_mv: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Reset potential, mV.
    pub v_reset_mv: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Threshold, mV.
    pub v_th_mv: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Refractory period, ms.
    pub t_ref_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Excitatory synaptic time constant, ms.
    pub tau_syn_ex_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Inhibitory synaptic time constant, ms.
    pub tau_syn_in_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Constant input current, pA.
    pub i_e_pa: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Initial membrane potential, mV: a number or a distribution.
    pub v_init_mv: Option<DistSpec>,
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
    /// Amplitude, pA.
    pub amplitude_pa: f64,
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
}

/// Populations by name, with their sizes as built and as written (before scaling), for
/// resolving `name` and `name[a:b]`.
struct Names(HashMap<String, (PopulationId, u32, u32)>);

impl Names {
    fn slice(&self, text: &str) -> std::result::Result<(NeuronSlice, u32), String> {
        let (name, range) = parse_slice(text)?;
        let Some(&(pop, size, _)) = self.0.get(&name) else {
            let mut known: Vec<&String> = self.0.keys().collect();
            known.sort();
            return Err(format!(
                "no population named `{name}` (there are {known:?})"
            ));
        };
        Ok(match range {
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
        })
    }
}

pub(super) fn build(file: &ModelFile, run: RunSpec) -> Result<SpikingModel> {
    file.refuse_foreign(&[
        ("ensemble", file.ensembles.len()),
        ("node", file.nodes.len()),
        ("connection", file.connections.len()),
        ("pes", file.pes.len()),
    ])?;
    let scale = file.network.scale;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::Validation(format!(
            "{}: network.scale: must be a positive number, got {scale}",
            file.path().display()
        )));
    }
    let mut net = Network::new()
        .with_seed(file.network.seed)
        .with_dt_ms(file.network.dt_ms.unwrap_or(0.1));
    let names = add_populations(file, &mut net, scale)?;
    add_projections(file, &mut net, &names)?;
    add_inputs(file, &mut net, &names)?;
    let (mut spike_probes, state_probes) = add_probes(file, &mut net, &names)?;
    if spike_probes.is_empty() {
        spike_probes = probe_every_population(file, &mut net, &names)?;
    }
    if let Some((_, rates)) = &run.reference_rates {
        if rates.len() != spike_probes.len() {
            return Err(Error::Validation(format!(
                "{}: run.reference_rates: {} rates for {} spike probes",
                file.path().display(),
                rates.len(),
                spike_probes.len()
            )));
        }
    }
    Ok(SpikingModel {
        network: net,
        spike_probes,
        state_probes,
        run,
    })
}

fn add_populations(file: &ModelFile, net: &mut Network, scale: f64) -> Result<Names> {
    let mut names = Names(HashMap::new());
    for (k, entry) in file.populations.iter().enumerate() {
        let p = entry.get_ref();
        let err = |key: &str, what: String| file.entry_error("population", k, entry, key, what);
        let (pop, size, full) = match p.neuron.as_str() {
            "lif" => add_lif_population(file, net, scale, k, entry)?,
            "spike_source" => {
                let times = p
                    .times_ms
                    .clone()
                    .ok_or_else(|| err("times_ms", "a spike source needs times_ms".into()))?;
                let size = times.len() as u32;
                let pop = net.spike_source(&p.name, times).map_err(at_entry(
                    file,
                    "population",
                    k,
                    entry,
                ))?;
                (pop, size, size)
            }
            other => {
                return Err(err(
                    "neuron",
                    format!("`{other}` is not a neuron kind; use \"lif\" or \"spike_source\""),
                ))
            }
        };
        names.0.insert(p.name.clone(), (pop, size, full));
    }
    Ok(names)
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
    let neuron = lif_neuron(p).map_err(|e| err("v_init_mv", e))?;
    let pop =
        net.population(&p.name, size, neuron)
            .map_err(at_entry(file, "population", k, entry))?;
    Ok((pop, size, full))
}

/// Adds the `[[projection]]` entries, then the rows of each `[[projection_table]]`.
fn add_projections(file: &ModelFile, net: &mut Network, names: &Names) -> Result<()> {
    for (k, entry) in file.projections.iter().enumerate() {
        connect(file, net, names, "projection", k, entry)?;
    }
    for (k, table) in file.projection_tables.iter().enumerate() {
        for (row, entry) in table.get_ref().rows(file, k, table)? {
            let entry = toml::Spanned::new(table.span(), entry);
            connect(file, net, names, "projection_table", k, &entry).map_err(|e| {
                // The inner message, not its display: that starts with the variant's prefix,
                // which the new error adds again.
                let what = match e {
                    Error::Validation(m) | Error::Build(m) => m,
                    other => other.to_string(),
                };
                Error::Validation(format!("{what} (row {row} of {})", table.get_ref().file))
            })?;
        }
    }
    Ok(())
}

/// Adds the `[[poisson]]` entries, then the `[[current]]` entries.
fn add_inputs(file: &ModelFile, net: &mut Network, names: &Names) -> Result<()> {
    for (k, entry) in file.poisson.iter().enumerate() {
        let p = entry.get_ref();
        let (target, _) = names
            .slice(&p.target)
            .map_err(|e| file.entry_error("poisson", k, entry, "target", e))?;
        let input = PoissonInput {
            in_degree: p.in_degree,
            rate_hz: p.rate_hz,
            weight_pa: p.weight_pa,
        };
        net.poisson(target, input)
            .map_err(at_entry(file, "poisson", k, entry))?;
    }
    for (k, entry) in file.currents.iter().enumerate() {
        let c = entry.get_ref();
        let (target, _) = names
            .slice(&c.target)
            .map_err(|e| file.entry_error("current", k, entry, "target", e))?;
        net.current(target, c.amplitude_pa)
            .map_err(at_entry(file, "current", k, entry))?;
    }
    Ok(())
}

/// The `[[probe]]` entries: spike probes and state probes.
fn add_probes(
    file: &ModelFile,
    net: &mut Network,
    names: &Names,
) -> Result<(Vec<NamedSpikeProbe>, Vec<NamedStateProbe>)> {
    let mut spike_probes = Vec::new();
    let mut state_probes = Vec::new();
    for (k, entry) in file.probes.iter().enumerate() {
        let p = entry.get_ref();
        let err = |key: &str, what: String| file.entry_error("probe", k, entry, key, what);
        let (target, size) = names.slice(&p.target).map_err(|e| err("target", e))?;
        let name = p.name.clone().unwrap_or_else(|| p.target.clone());
        if p.synapse.is_some() {
            return Err(err("synapse", "is for NEF probes".into()));
        }
        match p.kind.as_deref().unwrap_or("spikes") {
            "spikes" => {
                if p.sample_every_ms.is_some() {
                    return Err(err("sample_every_ms", "is for state probes".into()));
                }
                let probe = net
                    .probe_spikes(target)
                    .map_err(at_entry(file, "probe", k, entry))?;
                spike_probes.push(NamedSpikeProbe { name, probe, size });
            }
            "state" => {
                let every = p.sample_every_ms.unwrap_or(net.dt_ms());
                let probe = net
                    .probe_state(target, every)
                    .map_err(at_entry(file, "probe", k, entry))?;
                state_probes.push(NamedStateProbe {
                    name,
                    probe,
                    vars: vec![StateVar::V, StateVar::ISynEx, StateVar::ISynIn],
                });
            }
            other => {
                return Err(err(
                    "kind",
                    format!("`{other}` is not a spiking probe; use \"spikes\" or \"state\""),
                ))
            }
        }
    }
    Ok((spike_probes, state_probes))
}

/// A spike probe on every population, named as the population, for a file that declares no
/// spike probe: a run then still reports rates.
fn probe_every_population(
    file: &ModelFile,
    net: &mut Network,
    names: &Names,
) -> Result<Vec<NamedSpikeProbe>> {
    let mut spike_probes = Vec::new();
    for entry in &file.populations {
        let name = &entry.get_ref().name;
        let (pop, size, _) = names.0[name];
        let probe = net.probe_spikes(pop)?;
        spike_probes.push(NamedSpikeProbe {
            name: name.clone(),
            probe,
            size,
        });
    }
    Ok(spike_probes)
}

fn lif_neuron(p: &PopulationSpec) -> std::result::Result<LifCurrent, String> {
    let d = LifCurrent::default();
    Ok(LifCurrent {
        tau_m_ms: p.tau_m_ms.unwrap_or(d.tau_m_ms),
        c_m_pf: p.c_m_pf.unwrap_or(d.c_m_pf),
        e_l_mv: p.e_l_mv.unwrap_or(d.e_l_mv),
        v_reset_mv: p.v_reset_mv.unwrap_or(d.v_reset_mv),
        v_th_mv: p.v_th_mv.unwrap_or(d.v_th_mv),
        t_ref_ms: p.t_ref_ms.unwrap_or(d.t_ref_ms),
        tau_syn_ex_ms: p.tau_syn_ex_ms.unwrap_or(d.tau_syn_ex_ms),
        tau_syn_in_ms: p.tau_syn_in_ms.unwrap_or(d.tau_syn_in_ms),
        i_e_pa: p.i_e_pa.unwrap_or(d.i_e_pa),
        v_init_mv: match &p.v_init_mv {
            Some(spec) => spec.dist()?,
            None => d.v_init_mv,
        },
    })
}

/// Adds one projection; `array[k]` names it in errors.
fn connect(
    file: &ModelFile,
    net: &mut Network,
    names: &Names,
    array: &str,
    k: usize,
    entry: &toml::Spanned<ProjectionSpec>,
) -> Result<()> {
    let p = entry.get_ref();
    let err = |key: &str, what: String| file.entry_error(array, k, entry, key, what);
    let (source, _) = names.slice(&p.source).map_err(|e| err("source", e))?;
    let (target, _) = names.slice(&p.target).map_err(|e| err("target", e))?;
    let rule = match &p.rule {
        RuleSpec::FixedProbability(q) => Connectivity::FixedProbability(*q),
        // Scaled with the target population as built, so the in-degree is kept.
        RuleSpec::FixedTotalNumber(n) => {
            let (name, _) = parse_slice(&p.target).map_err(|e| err("target", e))?;
            let (_, size, full) = names.0[&name];
            Connectivity::FixedTotalNumber((*n as f64 * size as f64 / full as f64).round() as u64)
        }
        RuleSpec::FixedInDegree(k) => Connectivity::FixedInDegree(*k),
        RuleSpec::AllToAll => Connectivity::AllToAll,
        RuleSpec::OneToOne => Connectivity::OneToOne,
        RuleSpec::Pairs(pairs) => {
            Connectivity::Explicit(pairs.iter().map(|&[i, j]| (i, j)).collect())
        }
    };
    if matches!(rule, Connectivity::FixedTotalNumber(0)) {
        return Ok(());
    }
    let weight = p.weight.values().map_err(|e| err("weight", e))?;
    let delay = p.delay.values().map_err(|e| err("delay", e))?;
    net.connect(source, target, rule, weight, delay)
        .map(|_| ())
        .map_err(at_entry(file, array, k, entry))
}
