//! The `Network` builder: owns everything added to it and hands out typed handles.

use super::connectivity::{Block, Connectivity, Values};
use super::input::{CurrentInput, InitialState, ParameterEach, PerNeuron, PoissonInput};
use super::neuron::{LifCurrent, NeuronKind};
use super::neuron_model::NeuronModel;
use super::probe::{ProbeTarget, SpikeProbe, StateProbe};
use crate::error::{invalid, Result};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

/// Gives every network an identity, so handles from one network are refused by another.
static NEXT_NETWORK_ID: AtomicU64 = AtomicU64::new(1);

/// Handle to a population.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PopulationId {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

/// Handle to a projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProjectionId {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

/// A contiguous range of neurons of one population (`pop.slice(a..b)`, or a whole population).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NeuronSlice {
    pub(crate) pop: PopulationId,
    /// `None` is the whole population; resolved against its size when the network checks it.
    pub(crate) range: Option<Range<u32>>,
}

impl PopulationId {
    /// Neurons `range` of this population (local indices).
    pub fn slice(self, range: Range<u32>) -> NeuronSlice {
        NeuronSlice {
            pop: self,
            range: Some(range),
        }
    }
}

impl From<PopulationId> for NeuronSlice {
    fn from(pop: PopulationId) -> NeuronSlice {
        NeuronSlice { pop, range: None }
    }
}

impl From<&NeuronSlice> for NeuronSlice {
    fn from(s: &NeuronSlice) -> NeuronSlice {
        s.clone()
    }
}

/// A named group of neurons of one kind.
#[derive(Clone, Debug)]
pub struct Population {
    pub name: String,
    pub size: u32,
    pub kind: NeuronKind,
}

/// A projection: one or more blocks of synapses, added and addressed as one object.
#[derive(Clone, Debug)]
pub struct Projection {
    pub blocks: Vec<Block>,
    /// Spike-timing-dependent plasticity of its synapses (`Network::stdp`), if any.
    pub stdp: Option<crate::model::Stdp>,
    /// A user-defined synapse model of its synapses (`Network::synapse_model`), if any.
    pub model: Option<SpikingSynapseModel>,
}

/// A user-defined synapse model on a spiking projection, and the largest weight magnitude it
/// may deliver (pA): the fixed-point scale of the post neurons' input is sized for it, and a
/// weight beyond it is delivered clamped to it.
#[derive(Clone, Debug)]
pub struct SpikingSynapseModel {
    pub model: crate::model::plasticity::SynapseModel,
    pub max_weight_pa: f64,
}

/// A spiking network described on the host. Pure data: building and running happen in
/// `Simulator::new`. Everything added is part of every run; nothing is silently dropped.
///
/// # Example
///
/// 100 LIF neurons with sparse recurrent excitation, driven by Poisson input:
///
/// ```
/// use lamina::prelude::*;
///
/// let mut net = Network::new().with_seed(1); // dt 0.1 ms
/// let pop = net.population("exc", 100, LifCurrent::default())?;
/// // 10% of all pairs, 50 pA each, delays of 1.5 ms.
/// net.connect(pop, pop, Connectivity::FixedProbability(0.1), 50.0, 1.5)?;
/// let input = PoissonInput { in_degree: 200, rate_hz: 10.0, weight_pa: 80.0 };
/// net.poisson(pop, input)?;
/// let spikes = net.probe_spikes(pop)?;
/// assert_eq!(net.neuron_count(), 100);
///
/// let mut sim = Simulator::new(&net, BackendChoice::Cpu)?; // or BackendChoice::Auto
/// sim.run(0.1)?;
/// assert!(!sim.spikes(&spikes)?.neurons.is_empty());
/// # Ok::<(), lamina::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Network {
    pub(crate) id: u64,
    pub(crate) dt_ms: f64,
    pub(crate) seed: u64,
    pub(crate) populations: Vec<Population>,
    /// The populations' names, for refusing a duplicate in constant time (a model file may
    /// declare tens of thousands).
    population_names: std::collections::HashSet<String>,
    pub(crate) projections: Vec<Projection>,
    pub(crate) currents: Vec<CurrentInput>,
    pub(crate) poisson: Vec<(NeuronSlice, PoissonInput)>,
    pub(crate) probes: Vec<ProbeTarget>,
    pub(crate) initial: Vec<InitialState>,
    pub(crate) parameters: Vec<ParameterEach>,
}

impl Default for Network {
    fn default() -> Self {
        Network::new()
    }
}

impl Network {
    /// An empty network with dt = 0.1 ms and seed 0.
    pub fn new() -> Network {
        Network {
            id: NEXT_NETWORK_ID.fetch_add(1, Ordering::Relaxed),
            dt_ms: 0.1,
            seed: 0,
            populations: Vec::new(),
            population_names: Default::default(),
            projections: Vec::new(),
            currents: Vec::new(),
            poisson: Vec::new(),
            probes: Vec::new(),
            initial: Vec::new(),
            parameters: Vec::new(),
        }
    }

    /// Sets the time step. Delays, refractory periods, spike times and state-probe intervals
    /// are rounded to whole steps of it. Set it before adding projections and Poisson inputs:
    /// they are checked against the dt in force, and again when the network is built.
    pub fn with_dt_ms(mut self, dt_ms: f64) -> Network {
        self.dt_ms = dt_ms;
        self
    }

    /// Sets the seed of every random draw (connectivity, weights, delays, initial state, Poisson).
    pub fn with_seed(mut self, seed: u64) -> Network {
        self.seed = seed;
        self
    }

    pub fn dt_ms(&self) -> f64 {
        self.dt_ms
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn populations(&self) -> &[Population] {
        &self.populations
    }

    /// The population behind a handle.
    pub fn population_info(&self, pop: PopulationId) -> Result<&Population> {
        self.check_pop(pop)?;
        Ok(&self.populations[pop.index])
    }

    /// Total number of neurons.
    pub fn neuron_count(&self) -> u64 {
        self.populations.iter().map(|p| p.size as u64).sum()
    }

    /// Adds a population of `LifCurrent` neurons. Names are unique: they key the random streams,
    /// so the network does not depend on the order in which populations are added.
    pub fn population(
        &mut self,
        name: &str,
        size: u32,
        neuron: LifCurrent,
    ) -> Result<PopulationId> {
        neuron.validate(name)?;
        self.add_population(name, size, NeuronKind::Lif(neuron))
    }

    /// Adds a population of neurons of a user-defined model (see `model::neuron_model`). The
    /// model is checked here, snippets included (naga, no GPU needed); it runs in the same
    /// dispatch as every other population, and takes the same inputs, probes and ablations.
    pub fn neurons(&mut self, name: &str, size: u32, model: NeuronModel) -> Result<PopulationId> {
        model.check()?;
        self.add_population(name, size, NeuronKind::Custom(Box::new(model)))
    }

    /// Adds a population of spike generators: `times_ms[i]` are the spike times of neuron `i`.
    pub fn spike_source(&mut self, name: &str, times_ms: Vec<Vec<f64>>) -> Result<PopulationId> {
        let size = u32::try_from(times_ms.len())
            .map_err(|_| invalid!("spike source `{name}`: more than 2^32 - 1 neurons"))?;
        for (i, times) in times_ms.iter().enumerate() {
            if let Some(t) = times.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
                return Err(invalid!(
                    "spike source `{name}`: neuron {i} has spike time {t} ms; times must be finite and >= 0"
                ));
            }
        }
        self.add_population(name, size, NeuronKind::SpikeSource(times_ms))
    }

    fn add_population(&mut self, name: &str, size: u32, kind: NeuronKind) -> Result<PopulationId> {
        if size == 0 {
            return Err(invalid!(
                "population `{name}` has no neurons; give it a size of at least 1"
            ));
        }
        if name.is_empty() {
            return Err(invalid!("a population needs a non-empty name"));
        }
        if !self.population_names.insert(name.to_string()) {
            return Err(invalid!(
                "a population named `{name}` already exists; names must be unique"
            ));
        }
        self.populations.push(Population {
            name: name.to_string(),
            size,
            kind,
        });
        Ok(PopulationId {
            net: self.id,
            index: self.populations.len() - 1,
        })
    }

    /// Connects `source` to `target` with one block of synapses.
    pub fn connect(
        &mut self,
        source: impl Into<NeuronSlice>,
        target: impl Into<NeuronSlice>,
        rule: Connectivity,
        weight_pa: impl Into<Values>,
        delay_ms: impl Into<Values>,
    ) -> Result<ProjectionId> {
        self.connect_blocks(vec![Block::new(source, target, rule, weight_pa, delay_ms)])
    }

    /// Adds a projection made of several blocks. The synapses drawn for a block do not depend on
    /// which projection holds it: one projection of four blocks equals four projections.
    pub fn connect_blocks(&mut self, blocks: Vec<Block>) -> Result<ProjectionId> {
        if blocks.is_empty() {
            return Err(invalid!("a projection needs at least one block"));
        }
        for (b, block) in blocks.iter().enumerate() {
            self.check_block(block).map_err(|e| match e {
                crate::Error::Validation(m) if blocks.len() > 1 => {
                    crate::Error::Validation(format!("block {b}: {m}"))
                }
                other => other,
            })?;
        }
        self.projections.push(Projection {
            blocks,
            stdp: None,
            model: None,
        });
        Ok(ProjectionId {
            net: self.id,
            index: self.projections.len() - 1,
        })
    }

    /// Makes the synapses of `projection` plastic under pair-based STDP (see [`crate::model::Stdp`]):
    /// each keeps its own weight, which the rule changes as spikes arrive (after the
    /// synapse's delay) and as its post neuron fires. Its weights must start within the rule's
    /// bounds, which the build checks synapse by synapse.
    pub fn stdp(&mut self, projection: ProjectionId, rule: crate::model::Stdp) -> Result<()> {
        if projection.net != self.id || projection.index >= self.projections.len() {
            return Err(invalid!(
                "projection #{} is not a projection of this network",
                projection.index
            ));
        }
        rule.check()?;
        let proj = &mut self.projections[projection.index];
        if proj.model.is_some() {
            return Err(invalid!(
                "projection #{} already has a synapse model; a projection learns by one rule",
                projection.index
            ));
        }
        proj.stdp = Some(rule);
        Ok(())
    }

    /// Makes the synapses of `projection` plastic under a user-defined synapse model (see
    /// [`crate::model::plasticity`]): its WGSL snippets run per synapse, `on_pre` when a spike
    /// arrives at the synapse (after its delay; the weight is delivered first) and `on_post`
    /// when the post neuron fires; pre traces count arrivals, post traces post spikes. `pre`
    /// and `post` are the synapse's neurons within their populations. A weight is delivered
    /// into the post neuron's channel of its sign (as a static synapse's: excitatory when
    /// positive, inhibitory when negative), clamped to `±max_weight_pa`, the magnitude the
    /// fixed-point input scales of both channels are sized for. The snippets are checked now, with errors on
    /// the snippet's own line; models with a `per_step` snippet or reading `error` (there is
    /// no error signal on a spiking projection) are refused.
    pub fn synapse_model(
        &mut self,
        projection: ProjectionId,
        model: crate::model::plasticity::SynapseModel,
        max_weight_pa: f64,
    ) -> Result<()> {
        if projection.net != self.id || projection.index >= self.projections.len() {
            return Err(invalid!(
                "projection #{} is not a projection of this network",
                projection.index
            ));
        }
        if !(max_weight_pa.is_finite() && max_weight_pa > 0.0 && (max_weight_pa as f32).is_finite())
        {
            return Err(invalid!(
                "synapse model `{}`: max_weight_pa is {max_weight_pa}; give the largest weight \
                 magnitude (pA) the model reaches, finite and > 0",
                model.name()
            ));
        }
        crate::model::plasticity::spiking::check(&model)?;
        let proj = &mut self.projections[projection.index];
        if proj.stdp.is_some() {
            return Err(invalid!(
                "projection #{} already has STDP; a projection learns by one rule",
                projection.index
            ));
        }
        proj.model = Some(SpikingSynapseModel {
            model,
            max_weight_pa,
        });
        Ok(())
    }

    /// Adds a constant current (pA) into each neuron of `target`.
    pub fn current(&mut self, target: impl Into<NeuronSlice>, amplitude_pa: f64) -> Result<()> {
        let target = target.into();
        self.resolve(&target)?;
        self.require_integrating(&target, "a current input")?;
        if !amplitude_pa.is_finite() {
            return Err(invalid!(
                "current input: amplitude {amplitude_pa} pA is not finite"
            ));
        }
        self.currents.push(CurrentInput {
            target,
            amplitude_pa: PerNeuron::Same(amplitude_pa),
        });
        Ok(())
    }

    /// Adds a constant current (pA) into each neuron of `target`, one value per neuron in
    /// order (the per-neuron `I_e` of NEST, a per-neuron constant of Brian2).
    pub fn current_each(
        &mut self,
        target: impl Into<NeuronSlice>,
        amplitudes_pa: &[f64],
    ) -> Result<()> {
        let target = target.into();
        self.require_integrating(&target, "a current input")?;
        self.check_per_neuron(&target, "current_each", "amplitudes", amplitudes_pa)?;
        self.currents.push(CurrentInput {
            target,
            amplitude_pa: PerNeuron::Each(amplitudes_pa.to_vec()),
        });
        Ok(())
    }

    /// Sets the initial value of state variable `var` for each neuron of `target`, one value
    /// per neuron in order, in place of what the neuron kind's distribution draws: `v` (mV)
    /// for a LIF neuron, or any state variable of a user-defined model (its first is its
    /// potential). Later calls win where they overlap. `reset` goes back to these values.
    pub fn initial_state(
        &mut self,
        target: impl Into<NeuronSlice>,
        var: &str,
        values: &[f64],
    ) -> Result<()> {
        let target = target.into();
        self.check_per_neuron(&target, "initial_state", "values", values)?;
        let pop = &self.populations[target.pop.index];
        let known: Vec<&str> = match &pop.kind {
            NeuronKind::Lif(_) => vec!["v"],
            NeuronKind::Custom(model) => model.state_names().collect(),
            NeuronKind::SpikeSource(_) => Vec::new(),
        };
        if !known.contains(&var) {
            return Err(invalid!(
                "initial_state: population `{}` has no state variable `{var}`; its state \
                 variables are {known:?}",
                pop.name
            ));
        }
        self.initial.push(InitialState {
            target,
            var: var.to_string(),
            values: values.to_vec(),
        });
        Ok(())
    }

    /// Sets parameter `name` of each neuron of `target`, one value per neuron in order, in
    /// place of the population's value (NEST's per-neuron `SetStatus`, a per-neuron parameter
    /// of Brian2). For a `LifCurrent` population `name` is one of its fields
    /// ([`LifCurrent::PARAMETERS`]: `v_th_mv`, `tau_m_ms`, `t_ref_ms`, ...); for a
    /// user-defined model, one of its parameters. Later calls win where they overlap. A
    /// neuron runs exactly as it would alone in a population with its own parameters.
    ///
    /// ```
    /// use lamina::prelude::*;
    ///
    /// let mut net = Network::new();
    /// let pop = net.population("pop", 3, LifCurrent::default())?;
    /// net.parameter_each(pop, "v_th_mv", &[-55.0, -52.0, -50.0])?;
    /// net.parameter_each(pop.slice(1..3), "tau_m_ms", &[20.0, 30.0])?;
    /// let err = net.parameter_each(pop, "v_thresh", &[-50.0; 3]).unwrap_err();
    /// assert!(err.to_string().contains("v_th_mv"), "{err}"); // the known names are listed
    /// # Ok::<(), lamina::Error>(())
    /// ```
    pub fn parameter_each(
        &mut self,
        target: impl Into<NeuronSlice>,
        name: &str,
        values: &[f64],
    ) -> Result<()> {
        let target = target.into();
        self.check_per_neuron(&target, "parameter_each", name, values)?;
        let pop = &self.populations[target.pop.index];
        let range = self.resolve(&target)?;
        let unknown = |known: Vec<&str>| {
            invalid!(
                "parameter_each: population `{}` has no parameter `{name}`; its parameters \
                 are {known:?}",
                pop.name
            )
        };
        match &pop.kind {
            NeuronKind::Lif(_) => {
                if !LifCurrent::PARAMETERS.contains(&name) {
                    return Err(unknown(LifCurrent::PARAMETERS.to_vec()));
                }
                for (k, &x) in values.iter().enumerate() {
                    LifCurrent::check_value(name, x).map_err(|why| {
                        invalid!(
                            "parameter_each: neuron {} of `{}`: {why}",
                            range.start as usize + k,
                            pop.name
                        )
                    })?;
                }
            }
            NeuronKind::Custom(model) => {
                if !model.param_names().any(|n| n == name) {
                    return Err(unknown(model.param_names().collect()));
                }
                if let Some(k) = values.iter().position(|&x| !crate::model::nef::fits_f32(x)) {
                    return Err(invalid!(
                        "parameter_each: {name}[{k}] is {} (neuron {} of `{}`); a parameter \
                         must be finite in float32",
                        values[k],
                        range.start as usize + k,
                        pop.name
                    ));
                }
            }
            NeuronKind::SpikeSource(_) => {
                return Err(invalid!(
                    "parameter_each: `{}` is a spike source, which has no parameters",
                    pop.name
                ))
            }
        }
        self.parameters.push(ParameterEach {
            target,
            name: name.to_string(),
            values: values.to_vec(),
        });
        Ok(())
    }

    /// The per-neuron parameters of population `p` (`parameter_each`), each over the whole
    /// population in neuron order (the population's own value where no call set one), in
    /// the order first set. Empty for a population without any.
    pub(crate) fn parameter_arrays(&self, p: usize) -> Result<Vec<(String, Vec<f64>)>> {
        let pop = &self.populations[p];
        let mut arrays: Vec<(String, Vec<f64>)> = Vec::new();
        for set in self.parameters.iter().filter(|s| s.target.pop.index == p) {
            let range = self.resolve(&set.target)?;
            let k = match arrays.iter().position(|(n, _)| *n == set.name) {
                Some(k) => k,
                None => {
                    let shared = match &pop.kind {
                        NeuronKind::Lif(lif) => lif.parameter(&set.name),
                        NeuronKind::Custom(model) => model
                            .params
                            .iter()
                            .find(|(n, _)| *n == set.name)
                            .map(|(_, x)| *x),
                        NeuronKind::SpikeSource(_) => None,
                    }
                    .unwrap_or_default();
                    arrays.push((set.name.clone(), vec![shared; pop.size as usize]));
                    arrays.len() - 1
                }
            };
            arrays[k].1[range.start as usize..range.end as usize].copy_from_slice(&set.values);
        }
        Ok(arrays)
    }

    /// Refuses per-neuron parameters that are each valid but not together (a reset at or
    /// above a threshold), or that dt turns into more refractory steps than the kernel holds.
    /// Called when the network is built, once every call has been made.
    pub(crate) fn check_parameters(&self) -> Result<()> {
        for (p, pop) in self.populations.iter().enumerate() {
            let NeuronKind::Lif(lif) = &pop.kind else {
                continue;
            };
            let arrays = self.parameter_arrays(p)?;
            if arrays.is_empty() {
                continue;
            }
            for i in 0..pop.size as usize {
                let own = neuron_parameters(lif, &arrays, i);
                own.validate(&pop.name).map_err(|e| match e {
                    crate::Error::Validation(m) => invalid!(
                        "{m} (neuron {i}, with its per-neuron parameters from \
                             parameter_each)"
                    ),
                    other => other,
                })?;
                // Rows hold the refractory steps as a float, exact below 2^24.
                if (own.t_ref_ms / self.dt_ms).round() >= (1u32 << 24) as f64 {
                    return Err(invalid!(
                        "population `{}`: neuron {i}'s t_ref_ms of {} is 2^24 steps of dt = {} \
                         ms or more; per-neuron refractory periods must be shorter",
                        pop.name,
                        own.t_ref_ms,
                        self.dt_ms
                    ));
                }
            }
        }
        Ok(())
    }

    /// Refuses per-neuron `values` that are not one finite number per neuron of `target`.
    fn check_per_neuron(
        &self,
        target: &NeuronSlice,
        call: &str,
        what: &str,
        values: &[f64],
    ) -> Result<()> {
        let range = self.resolve(target)?;
        let name = &self.populations[target.pop.index].name;
        if values.len() != range.len() {
            return Err(invalid!(
                "{call}: {} {what} for {} neurons of `{name}`; give one per neuron",
                values.len(),
                range.len()
            ));
        }
        if let Some(k) = values.iter().position(|x| !x.is_finite()) {
            return Err(invalid!(
                "{call}: {what}[{k}] is {} (neuron {} of `{name}`); values must be finite",
                values[k],
                range.start as usize + k
            ));
        }
        Ok(())
    }

    /// Adds Poisson background input to each neuron of `target`.
    pub fn poisson(&mut self, target: impl Into<NeuronSlice>, input: PoissonInput) -> Result<()> {
        let target = target.into();
        self.resolve(&target)?;
        self.require_integrating(&target, "a Poisson input")?;
        self.check_poisson(&input)?;
        self.poisson.push((target, input));
        Ok(())
    }

    fn check_poisson(&self, input: &PoissonInput) -> Result<()> {
        let p = input.rate_hz * self.dt_ms * 1e-3;
        if !(input.rate_hz.is_finite() && input.rate_hz >= 0.0) {
            return Err(invalid!(
                "Poisson input: rate {} Hz must be finite and >= 0",
                input.rate_hz
            ));
        }
        if p > 1.0 {
            return Err(invalid!(
                "Poisson input: rate {} Hz gives {p} spikes per source per step; it must be at most one (raise in_degree instead)",
                input.rate_hz
            ));
        }
        if !input.weight_pa.is_finite() {
            return Err(invalid!(
                "Poisson input: weight {} pA is not finite",
                input.weight_pa
            ));
        }
        Ok(())
    }

    /// Checks again what depends on dt (delays of at least one step, at most one Poisson spike
    /// per source per step) against the dt in force now: `with_dt_ms` may have changed it after
    /// projections and inputs were checked against the old one. Called when the network is built.
    pub(crate) fn check_against_dt(&self) -> Result<()> {
        let changed = |m: String| {
            invalid!(
                "{m}; dt is now {} ms but was different when this was added: call with_dt_ms before adding projections and Poisson inputs",
                self.dt_ms
            )
        };
        for (p, projection) in self.projections.iter().enumerate() {
            for (b, block) in projection.blocks.iter().enumerate() {
                self.check_block(block).map_err(|e| match e {
                    crate::Error::Validation(m) => {
                        changed(format!("projection {p}, block {b}: {m}"))
                    }
                    other => other,
                })?;
            }
        }
        for (slice, input) in &self.poisson {
            self.check_poisson(input).map_err(|e| match e {
                crate::Error::Validation(m) => changed(format!(
                    "{m} (into `{}`)",
                    self.populations[slice.pop.index].name
                )),
                other => other,
            })?;
        }
        Ok(())
    }

    /// Records the spikes of `target`.
    pub fn probe_spikes(&mut self, target: impl Into<NeuronSlice>) -> Result<SpikeProbe> {
        let target = target.into();
        self.resolve(&target)?;
        self.probes.push(ProbeTarget::Spikes(target));
        Ok(SpikeProbe {
            net: self.id,
            index: self.probes.len() - 1,
        })
    }

    /// Records v, i_ex and i_in of each neuron of `target` every `sample_every_ms` (rounded to
    /// whole steps, at least one).
    pub fn probe_state(
        &mut self,
        target: impl Into<NeuronSlice>,
        sample_every_ms: f64,
    ) -> Result<StateProbe> {
        let target = target.into();
        self.resolve(&target)?;
        self.require_integrating(&target, "a state probe")?;
        if !(sample_every_ms.is_finite() && sample_every_ms > 0.0) {
            return Err(invalid!(
                "state probe: sample_every_ms must be > 0, got {sample_every_ms}"
            ));
        }
        self.probes.push(ProbeTarget::State {
            target,
            sample_every_ms,
        });
        Ok(StateProbe {
            net: self.id,
            index: self.probes.len() - 1,
        })
    }

    /// Checks that a handle belongs to this network.
    pub(crate) fn check_pop(&self, pop: PopulationId) -> Result<()> {
        if pop.net != self.id {
            return Err(invalid!(
                "population handle #{} belongs to another network; use handles returned by this network",
                pop.index
            ));
        }
        Ok(())
    }

    /// The local index range of a slice, checked against its population.
    pub(crate) fn resolve(&self, slice: &NeuronSlice) -> Result<Range<u32>> {
        self.check_pop(slice.pop)?;
        let pop = &self.populations[slice.pop.index];
        match &slice.range {
            None => Ok(0..pop.size),
            Some(r) if r.start >= r.end => Err(invalid!(
                "slice {}..{} of population `{}` is empty; a slice needs at least one neuron",
                r.start,
                r.end,
                pop.name
            )),
            Some(r) if r.end > pop.size => Err(invalid!(
                "slice {}..{} is out of range for population `{}` of {} neurons",
                r.start,
                r.end,
                pop.name,
                pop.size
            )),
            Some(r) => Ok(r.clone()),
        }
    }

    fn require_integrating(&self, slice: &NeuronSlice, what: &str) -> Result<()> {
        let pop = &self.populations[slice.pop.index];
        match pop.kind {
            NeuronKind::Lif(_) | NeuronKind::Custom(_) => Ok(()),
            NeuronKind::SpikeSource(_) => Err(invalid!(
                "{what} needs integrating neurons, but `{}` is a spike source",
                pop.name
            )),
        }
    }

    fn check_block(&self, block: &Block) -> Result<()> {
        let src = self.resolve(&block.source)?;
        let tgt = self.resolve(&block.target)?;
        self.require_integrating(&block.target, "a projection target")?;
        let (n_pre, n_post) = (src.len() as u64, tgt.len() as u64);
        let explicit_len = match &block.rule {
            Connectivity::Explicit(pairs) => {
                if let Some((k, &(i, j))) = pairs
                    .iter()
                    .enumerate()
                    .find(|(_, (i, j))| *i as u64 >= n_pre || *j as u64 >= n_post)
                {
                    return Err(invalid!(
                        "synapse {k} connects ({i}, {j}), out of range for {n_pre} source and {n_post} target neurons (indices are local to the slices)"
                    ));
                }
                Some(pairs.len())
            }
            Connectivity::FixedProbability(p) if !(0.0..=1.0).contains(p) => {
                return Err(invalid!("connection probability {p} is not in [0, 1]"));
            }
            Connectivity::OneToOne if n_pre != n_post => {
                return Err(invalid!(
                    "one-to-one needs equal sizes, got {n_pre} source and {n_post} target neurons"
                ));
            }
            _ => None,
        };
        check_values(&block.weight_pa, "weight_pa", explicit_len)?;
        check_values(&block.delay_ms, "delay_ms", explicit_len)?;
        let min_delay = match &block.delay_ms {
            Values::Dist(d) => d.support().0,
            Values::Each(v) => v.iter().copied().fold(f64::INFINITY, f64::min),
        };
        if min_delay < 0.0 {
            return Err(invalid!(
                "delays must be >= 0 ms, but these can be {min_delay} ms; clip drawn delays at dt, e.g. Dist::normal(m, sd).clipped(dt, f64::INFINITY)"
            ));
        }
        if (min_delay / self.dt_ms).round() < 1.0 && explicit_len != Some(0) {
            return Err(invalid!(
                "delay {min_delay} ms rounds to zero steps of dt = {} ms; delays must be at least one step (clip drawn delays at dt)",
                self.dt_ms
            ));
        }
        Ok(())
    }
}

/// Neuron `i` of a LIF population: the population's parameters with its per-neuron ones
/// (`Network::parameter_arrays`) in their place.
pub(crate) fn neuron_parameters(
    lif: &LifCurrent,
    arrays: &[(String, Vec<f64>)],
    i: usize,
) -> LifCurrent {
    let mut own = lif.clone();
    for (name, values) in arrays {
        if let Some(x) = own.field_mut(name) {
            *x = values[i];
        }
    }
    own
}

fn check_values(values: &Values, what: &str, explicit_len: Option<usize>) -> Result<()> {
    match values {
        Values::Dist(d) => d.validate(what),
        Values::Each(v) => {
            let Some(n) = explicit_len else {
                return Err(invalid!(
                    "{what}: per-synapse values need explicit (pre, post) pairs; use a distribution with this rule"
                ));
            };
            if v.len() != n {
                return Err(invalid!(
                    "{what}: {} values given for {n} synapses",
                    v.len()
                ));
            }
            if let Some((k, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(invalid!(
                    "{what}: synapse {k} has the value {x}, which is not finite"
                ));
            }
            Ok(())
        }
    }
}
