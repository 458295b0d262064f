//! The host API: build a network once, run it on a backend, read what the probes recorded.

use crate::error::{Error, Result};
use crate::exec::{self, BackendChoice, ChunkRecord, Executor};
use crate::lower::nef::{build_nef, NefPlan};
use crate::lower::{self, Plan, ProbeLayout, Program};
use crate::model::nef::{EnsembleId, NefNetwork};
use crate::model::{Network, PopulationId, SpikeProbe, StateProbe, StateVar};
use ndarray::Array2;
use std::sync::Arc;
use std::time::Instant;

/// Words of a spike record's row tested for spikes at once when it is decoded.
const SKIP_BLOCK_WORDS: usize = 16;

/// Spikes recorded by a probe, in (step, neuron) order. Neuron indices are local to the probed
/// slice, as in Brian2's `SpikeMonitor` on a subgroup.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpikeTrains {
    pub steps: Vec<u64>,
    pub times_s: Vec<f64>,
    pub neurons: Vec<u32>,
}

impl SpikeTrains {
    /// FNV-1a hash of the ordered (step, neuron) list: equal hashes mean (with overwhelming
    /// probability) identical spike trains.
    pub fn hash(&self) -> u64 {
        let mut h = crate::rng::KeyHasher::default();
        for (s, n) in self.steps.iter().zip(&self.neurons) {
            h = h.u64(*s).u64(*n as u64);
        }
        h.finish()
    }
}

#[derive(Default)]
struct StateData {
    steps: Vec<u64>,
    /// [sample][neuron][v, i_ex, i_in]
    values: Vec<f32>,
    neurons: usize,
}

/// A network built for one backend. Drop it and build another as often as needed.
///
/// # Example
///
/// Build, run, read the probes, and silence some neurons mid-run:
///
/// ```
/// use lamina::prelude::*;
///
/// let mut net = Network::new().with_seed(7);
/// let pop = net.population("pop", 20, LifCurrent::default())?;
/// net.current(pop, 500.0)?; // pA, above the 375 pA that makes a default neuron fire
/// let spikes = net.probe_spikes(pop)?;
///
/// let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
/// sim.run(0.1)?;
/// assert_eq!(sim.n_steps(), 1000); // 0.1 ms steps
/// let before = sim.spikes(&spikes)?.neurons.len();
/// assert!(before > 0);
///
/// sim.ablate(pop, &[0, 1, 2, 3, 4])?; // these five fire no more
/// sim.run(0.1)?;
/// let t = sim.spikes(&spikes)?;
/// let late = (before..t.neurons.len()).map(|k| t.neurons[k]);
/// assert!(late.clone().count() > 0 && late.into_iter().all(|n| n >= 5));
/// # Ok::<(), lamina::Error>(())
/// ```
pub struct Simulator {
    /// The program both parts run as one, and its executor.
    program: Arc<Program>,
    backend: Box<dyn Executor>,
    /// The backend chosen, resolved (`Auto` becomes what it opened), for reopening.
    choice: BackendChoice,
    /// Why `Auto` fell back to the CPU twin, when it did.
    auto_note: Option<String>,
    step: u64,
    build_s: f64,
    /// Whether each chunk is checked for NaN, infinity and fixed-point overflow.
    health_check: bool,
    /// Whether the next chunk is submitted before the last one's records are read
    /// ([`Simulator::set_pipelined`]).
    pipelined: bool,
    /// Which parts run: a spiking network, a NEF network, or both.
    parts: Parts,

    // The spiking part (an empty plan when there is none).
    plan: Arc<Plan>,
    spike_data: Vec<SpikeTrains>,
    state_data: Vec<StateData>,
    /// Records of synapses cut by `lesion`.
    cut_synapses: std::collections::BTreeSet<u64>,
    /// Plastic synapses cut by `lesion`, with the weight each gets back when restored.
    plastic_cut: std::collections::BTreeMap<usize, f32>,

    // The NEF part (an empty plan when there is none).
    /// The NEF plan running now: `nef_built` with the lesions applied.
    nef_plan: Arc<NefPlan>,
    /// The NEF plan as built.
    nef_built: Arc<NefPlan>,
    nef_net_id: u64,
    /// Every NEF probe sample so far, per probe, row after row.
    samples: Vec<Vec<f32>>,
    /// Connection lesions in force, one per lesioned connection.
    lesions: Vec<lesion::ConnLesion>,

    /// The other processes and the exchange with them, when the network runs on several
    /// ([`Simulator::distributed`]).
    dist: Option<Box<distributed::Distributed>>,
}

/// Which networks a simulator runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Parts {
    spiking: bool,
    nef: bool,
}

/// What a [`Simulator`] runs: a spiking network, a NEF network, or one of each stepped together
/// as one program (they must have the same `dt`).
#[derive(Clone, Copy)]
pub enum Model<'a> {
    Spiking(&'a Network),
    Nef(&'a NefNetwork),
    Both(&'a Network, &'a NefNetwork),
}

impl<'a> From<&'a Network> for Model<'a> {
    fn from(net: &'a Network) -> Model<'a> {
        Model::Spiking(net)
    }
}

impl<'a> From<&'a NefNetwork> for Model<'a> {
    fn from(net: &'a NefNetwork) -> Model<'a> {
        Model::Nef(net)
    }
}

impl<'a> From<(&'a Network, &'a NefNetwork)> for Model<'a> {
    fn from((spiking, nef): (&'a Network, &'a NefNetwork)) -> Model<'a> {
        Model::Both(spiking, nef)
    }
}

/// Neurons to ablate or restore: a spiking population's or a NEF ensemble's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeuronGroup {
    Population(PopulationId),
    Ensemble(EnsembleId),
}

impl From<PopulationId> for NeuronGroup {
    fn from(pop: PopulationId) -> NeuronGroup {
        NeuronGroup::Population(pop)
    }
}

impl From<EnsembleId> for NeuronGroup {
    fn from(ens: EnsembleId) -> NeuronGroup {
        NeuronGroup::Ensemble(ens)
    }
}

impl Simulator {
    /// Lowers the model (a [`Network`], a [`NefNetwork`], or `(&Network, &NefNetwork)` to
    /// step both as one program) and opens the backend (allocating and uploading buffers).
    pub fn new<'a>(model: impl Into<Model<'a>>, choice: BackendChoice) -> Result<Simulator> {
        let t0 = Instant::now();
        let model = model.into();
        let (choice, auto_note) = exec::resolve(&choice)?;
        let (spiking, nef) = match model {
            Model::Spiking(net) => (Some(net), None),
            Model::Nef(net) => (None, Some(net)),
            Model::Both(spiking, nef) => (Some(spiking), Some(nef)),
        };
        let plan = match spiking {
            Some(net) => Some(Arc::new(build_spiking(net, &choice, None)?)),
            None => None,
        };
        let nef = match nef {
            Some(net) => Some((Arc::new(build_nef(net)?), net.id)),
            None => None,
        };
        let mut sim = Simulator::open(plan, nef, choice)?;
        sim.auto_note = auto_note;
        sim.build_s = t0.elapsed().as_secs_f64();
        Ok(sim)
    }

    /// Opens a backend for a spiking plan already built (`lamina::lower::build`): build once,
    /// then open it on several backends, or on one after inspecting it. Nothing is copied; the
    /// simulators share the plan. `build_seconds` counts only the opening.
    pub fn from_plan(plan: Arc<Plan>, choice: BackendChoice) -> Result<Simulator> {
        let t0 = Instant::now();
        if let Some(part) = &plan.partition {
            return Err(Error::Validation(format!(
                "this plan is process {} of {}'s part of a network (lower::build_part), which \
                 runs only with the other parts: build it with Simulator::distributed",
                part.rank, part.ranks
            )));
        }
        let (choice, auto_note) = exec::resolve(&choice)?;
        let mut sim = Simulator::open(Some(plan), None, choice)?;
        sim.auto_note = auto_note;
        sim.build_s = t0.elapsed().as_secs_f64();
        Ok(sim)
    }

    /// The simulator of the lowered parts, on `choice` (resolved).
    fn open(
        plan: Option<Arc<Plan>>,
        nef: Option<(Arc<NefPlan>, u64)>,
        choice: BackendChoice,
    ) -> Result<Simulator> {
        let parts = Parts {
            spiking: plan.is_some(),
            nef: nef.is_some(),
        };
        let plan = match plan {
            Some(plan) => plan,
            None => Arc::new(Plan::none()),
        };
        let (nef_plan, nef_net_id) = match nef {
            Some(nef) => nef,
            None => (Arc::new(build_nef(&NefNetwork::new())?), u64::MAX),
        };
        let program = Arc::new(joint_program(parts, &plan, &nef_plan)?);
        let mut backend = exec::open(&program, &choice)?;
        let health_check = cfg!(debug_assertions);
        backend.set_health_check(health_check);
        let mut sim = Simulator {
            program,
            backend,
            choice,
            auto_note: None,
            step: 0,
            build_s: 0.0,
            health_check,
            pipelined: pipelining_from_env(),
            parts,
            samples: vec![Vec::new(); nef_plan.probes.len()],
            nef_built: Arc::clone(&nef_plan),
            nef_plan,
            nef_net_id,
            lesions: Vec::new(),
            plan,
            spike_data: Vec::new(),
            state_data: Vec::new(),
            cut_synapses: Default::default(),
            plastic_cut: Default::default(),
            dist: None,
        };
        sim.clear_records();
        Ok(sim)
    }

    /// Reopens the backend with NEF plan `nef_plan` in place of the one running (a lesion
    /// rewrote its tables); the spiking part's state and cut synapses carry over. The caller
    /// writes the NEF state (`sig`, `w`) afterwards.
    pub(super) fn reopen_nef(&mut self, nef_plan: Arc<NefPlan>) -> Result<()> {
        let program = Arc::new(joint_program(self.parts, &self.plan, &nef_plan)?);
        let mut backend = exec::open(&program, &self.choice)?;
        backend.set_health_check(self.health_check);
        if self.parts.spiking {
            checkpoint::RunState::read(self.backend.as_mut(), &self.plan)?
                .write(backend.as_mut(), &self.plan)?;
        }
        (self.program, self.backend, self.nef_plan) = (program, backend, nef_plan);
        let cut: Vec<u64> = self.cut_synapses.iter().copied().collect();
        self.write_records(&cut)
    }

    /// Turns the numerical health check on or off (on by default in debug builds, off in
    /// release builds; `lamina run --check`). While it is on, the neuron update (on the GPU, or
    /// its CPU twin) checks every voltage and current it computes for NaN and infinity, and
    /// every step's summed synaptic input for the fixed-point range the build sized it for; a
    /// run that trips it returns [`Error::Numerical`] naming the first step, population,
    /// neuron and what failed, instead of running on silently. The check costs a few compares
    /// per neuron and step, and one 48-byte readback per chunk of steps.
    pub fn set_health_check(&mut self, on: bool) {
        self.health_check = on;
        self.backend.set_health_check(on);
    }

    /// Whether the health check is on.
    pub fn health_check(&self) -> bool {
        self.health_check
    }

    fn clear_records(&mut self) {
        self.samples.iter_mut().for_each(Vec::clear);
        self.spike_data = vec![SpikeTrains::default(); self.plan.probes.len()];
        self.state_data = self
            .plan
            .probes
            .iter()
            .map(|p| StateData {
                steps: Vec::new(),
                values: Vec::new(),
                neurons: match p {
                    ProbeLayout::State { count, .. } => *count as usize,
                    ProbeLayout::Spikes { .. } => 0,
                },
            })
            .collect();
    }

    /// Runs for `duration_s` seconds of simulated time, rounded to whole steps. With a spiking
    /// network, a duration shorter than one step is an error; a NEF network alone rounds it to
    /// zero steps, as Nengo does.
    pub fn run(&mut self, duration_s: f64) -> Result<()> {
        if !(duration_s.is_finite() && duration_s >= 0.0) {
            return Err(Error::Simulation(format!(
                "run duration must be >= 0 s and finite, got {duration_s}"
            )));
        }
        let steps = (duration_s / self.program.dt).round() as u64;
        if steps == 0 && duration_s > 0.0 && self.parts.spiking {
            return Err(Error::Simulation(format!(
                "run duration {duration_s} s is shorter than one step (dt = {} ms)",
                self.program.dt * 1e3
            )));
        }
        self.run_steps(steps)
    }

    /// Runs `steps` steps, a chunk (one GPU submission, one readback) at a time. Pipelined (the
    /// default), up to the executor's `max_in_flight` chunks are submitted ahead: while the GPU
    /// runs one, the next is queued behind it and the records of the one before are read and
    /// filed. It returns once every chunk has run and been filed, so whatever reads state
    /// afterwards (a probe, a lesion, weights, a `run_with` callback) sees the last step.
    pub fn run_steps(&mut self, steps: u64) -> Result<()> {
        if self.step + steps > u32::MAX as u64 {
            return Err(Error::Simulation(format!(
                "running to step {} exceeds the 2^32 - 1 steps a simulator can count; reset() \
                 or use a larger dt",
                self.step + steps
            )));
        }
        if self.dist.is_some() {
            return self.run_distributed(steps);
        }
        let ahead = self.chunks_ahead();
        let (end, mut next) = (self.step + steps, self.step);
        while self.step < end {
            while self.backend.in_flight() < ahead && next < end {
                let n = (end - next).min(self.program.chunk_steps as u64) as u32;
                if let Err(e) = self.submit(next as u32, n) {
                    return self.drain_then(e);
                }
                next += n as u64;
            }
            let record = self.backend.collect_chunk()?;
            let n = record.steps;
            let first = self.step as u32;
            let first_sample = self.absorb_nef(&record, first, n);
            if self.parts.spiking {
                self.absorb(&record);
            }
            self.step += n as u64;
            let fault = record.fault;
            self.backend.recycle(record);
            if let Some(fault) = fault {
                // Chunks submitted after this one have run on; file them, then report.
                self.drain()?;
                return Err(self.describe_fault(fault));
            }
            if self.health_check && self.parts.nef {
                self.check_health(&first_sample)?;
            }
        }
        Ok(())
    }

    /// Chunks to keep in flight: one, unpipelined or when the NEF health check reads each
    /// chunk's state at its end.
    fn chunks_ahead(&self) -> usize {
        match self.pipelined && !(self.health_check && self.parts.nef) {
            true => self.backend.max_in_flight().max(1),
            false => 1,
        }
    }

    /// Submits `n` steps from step `first`, with their feed table.
    fn submit(&mut self, first: u32, n: u32) -> Result<()> {
        let feed = match self.parts.nef {
            true => self.nef_plan.feed_table(first, n)?,
            false => Vec::new(),
        };
        self.backend.submit_chunk(first, n, &feed)
    }

    /// Collects and files every chunk still in flight.
    fn drain(&mut self) -> Result<()> {
        while self.backend.in_flight() > 0 {
            let record = self.backend.collect_chunk()?;
            let (first, n) = (self.step as u32, record.steps);
            self.absorb_nef(&record, first, n);
            if self.parts.spiking {
                self.absorb(&record);
            }
            self.step += n as u64;
            self.backend.recycle(record);
        }
        Ok(())
    }

    /// Files the chunks in flight, then returns `error` (or the error collecting them gave).
    fn drain_then(&mut self, error: Error) -> Result<()> {
        self.drain()?;
        Err(error)
    }

    /// Turns pipelining on or off (on by default; `LAMINA_PIPELINE=off` in the environment
    /// turns it off for every simulator). Off, each chunk is submitted only once the one
    /// before it has been read back, as a debugging aid; the spikes, records and state are the
    /// same bits either way.
    pub fn set_pipelined(&mut self, on: bool) {
        self.pipelined = on;
    }

    /// Whether chunks are pipelined.
    pub fn pipelined(&self) -> bool {
        self.pipelined
    }

    /// The health check's finding as an error that says where, what, and what to do.
    fn describe_fault(&self, fault: exec::HealthFault) -> Error {
        use crate::lower::layout::{BAD_INPUT_EX, BAD_INPUT_IN, BAD_I_EX, BAD_I_IN, BAD_V};
        let pop = self.plan.population_of(fault.neuron);
        let name = &self.plan.pop_names[pop];
        let local = fault.neuron - self.plan.pops[pop].start;
        // A user-defined model reports any of its state variables as BAD_V.
        let model = self.plan.neuron_model(pop).map(|m| m.name());
        let bad_v = match model {
            Some(_) => "a state variable became NaN or infinite",
            None => "v became NaN or infinite",
        };
        let mut what = Vec::new();
        for (bit, text) in [
            (BAD_V, bad_v),
            (BAD_I_EX, "i_ex became NaN or infinite"),
            (BAD_I_IN, "i_in became NaN or infinite"),
            (
                BAD_INPUT_EX,
                "the excitatory input left the fixed-point range",
            ),
            (
                BAD_INPUT_IN,
                "the inhibitory input left the fixed-point range",
            ),
        ] {
            if fault.what & bit != 0 {
                what.push(text);
            }
        }
        if let (Some(model), true) = (model, fault.what & BAD_V != 0) {
            return Error::Numerical(format!(
                "at step {} (t = {} ms), population `{name}` neuron {local} (the lowest failing \
                 neuron at that step): {}. The run went on to step {}, the end of the chunks \
                 already submitted. Check neuron model `{model}`'s snippets and parameters \
                 (read its state with Simulator::neuron_state)",
                fault.step,
                fault.step as f64 * self.plan.dt_ms,
                what.join("; "),
                self.step
            ));
        }
        let advice = if fault.what & (BAD_V | BAD_I_EX | BAD_I_IN) != 0 {
            format!(
                "a value overflowed float32: check population `{name}`'s parameters (a tiny \
                 c_m_pf or tau, a huge i_e_pa or weight) and the network's drive"
            )
        } else {
            "the build sizes each channel's fixed-point scale so that one step's input stays \
             within 2^30 units (plus rounding), and this sum reached 1.5 x 2^30, on its way to \
             wrapping at 2^31: the synapse records or Poisson tables were changed after the \
             build; rebuild the network"
                .to_string()
        };
        Error::Numerical(format!(
            "at step {} (t = {} ms), population `{name}` neuron {local} (the lowest failing \
             neuron at that step): {}. The run went on to step {}, the end of the chunks already \
             submitted. {advice}",
            fault.step,
            fault.step as f64 * self.plan.dt_ms,
            what.join("; "),
            self.step
        ))
    }

    /// Files one chunk's records under their probes.
    fn absorb(&mut self, rec: &ChunkRecord) {
        let g = &self.plan.globals;
        let dt_s = self.plan.dt_ms * 1e-3;
        let words = g.rec_words as usize;
        for row in 0..rec.steps as usize {
            let step = self.step + row as u64;
            let row_words = &rec.words(0)[row * words..(row + 1) * words];
            // Spikes are sparse: most blocks of words are empty, and an OR over a block (which
            // vectorises) passes them by without looking at a word at a time.
            let blocks = row_words.chunks(SKIP_BLOCK_WORDS).enumerate();
            let full = blocks.filter(|(_, block)| block.iter().fold(0, |a, &w| a | w) != 0);
            let nonzero = full.flat_map(|(k, block)| {
                (block.iter().enumerate()).map(move |(i, &word)| (k * SKIP_BLOCK_WORDS + i, word))
            });
            for (w, word) in nonzero {
                let mut bits = word;
                while bits != 0 {
                    let b = bits.trailing_zeros();
                    bits &= bits - 1;
                    let neuron = g.rec_start + w as u32 * 32 + b;
                    for (p, layout) in self.plan.probes.iter().enumerate() {
                        if let ProbeLayout::Spikes { start, count } = layout {
                            if neuron >= *start && neuron - start < *count {
                                let t = &mut self.spike_data[p];
                                t.steps.push(step);
                                t.times_s.push(step as f64 * dt_s);
                                t.neurons.push(neuron - start);
                            }
                        }
                    }
                }
            }
        }
        for (p, layout) in self.plan.probes.iter().enumerate() {
            let ProbeLayout::State {
                first_entry,
                count,
                every_steps,
            } = layout
            else {
                continue;
            };
            let every = *every_steps as u64;
            let first_sample = self.step.div_ceil(every);
            let end = self.step + rec.steps as u64;
            let data = &mut self.state_data[p];
            let mut k = 0usize;
            while (first_sample + k as u64) * every < end {
                data.steps.push((first_sample + k as u64) * every);
                for e in 0..*count as usize {
                    let base =
                        self.plan.state_entries[*first_entry as usize + e].base as usize + 3 * k;
                    data.values
                        .extend_from_slice(&rec.floats(1)[base..base + 3]);
                }
                k += 1;
            }
        }
    }

    /// Back to time zero and the initial state, as built: no ablations, no cut synapses or
    /// connection lesions, the weights, biases and encoders as built; recorded data is
    /// discarded.
    pub fn reset(&mut self) -> Result<()> {
        let cut: Vec<u64> = std::mem::take(&mut self.cut_synapses).into_iter().collect();
        self.write_records(&cut)?;
        self.restore_plastic()?;
        if !self.lesions.is_empty() {
            // The tables as built, rather than lifting the lesions one by one.
            self.lesions.clear();
            self.reopen_nef(Arc::clone(&self.nef_built))?;
        }
        self.backend.reset()?;
        self.step = 0;
        self.clear_records();
        if let Some(d) = &mut self.dist {
            d.pending.clear();
        }
        Ok(())
    }

    /// Silences neurons of a population (local indices) from the next step on: they are held as
    /// if refractory (their voltage stays, their synaptic currents run on) and never spike; a
    /// spike source drops its scheduled spikes. [`Simulator::restore`] undoes it; `reset` too.
    ///
    /// A NEF ensemble's neurons (`EnsembleId`) are silenced through their live mask instead:
    /// they output nothing, as if their gain were zero, and keep their state.
    pub fn ablate(&mut self, group: impl Into<NeuronGroup>, neurons: &[usize]) -> Result<()> {
        match group.into() {
            NeuronGroup::Population(pop) => self.set_ablated(pop, neurons, true),
            NeuronGroup::Ensemble(ens) => self.set_alive(ens, neurons, 0.0),
        }
    }

    /// Undoes [`Simulator::ablate`] for these neurons.
    pub fn restore(&mut self, group: impl Into<NeuronGroup>, neurons: &[usize]) -> Result<()> {
        match group.into() {
            NeuronGroup::Population(pop) => self.set_ablated(pop, neurons, false),
            NeuronGroup::Ensemble(ens) => self.set_alive(ens, neurons, 1.0),
        }
    }

    fn set_ablated(&mut self, pop: PopulationId, neurons: &[usize], ablated: bool) -> Result<()> {
        let neurons_of_pop = self.global(&pop.into())?;
        let mut mask = vec![false; neurons_of_pop.len()];
        for &i in neurons {
            if i >= mask.len() {
                return Err(Error::Simulation(format!(
                    "population `{}` has {} neurons; neuron {i} does not exist",
                    self.plan.pop_names[pop.index],
                    mask.len()
                )));
            }
            mask[i] = true;
        }
        if mask.is_empty() {
            return Ok(());
        }
        // A read-modify-write of the refractory counters between steps: the `ABLATED` bit
        // holds the neuron, the counters themselves run on.
        use crate::lower::layout::ABLATED;
        let first = neurons_of_pop.start as usize;
        let mut counters = self.backend.read_words("refractory", first, mask.len())?;
        for (r, _) in counters.iter_mut().zip(&mask).filter(|(_, &m)| m) {
            *r = if ablated { *r | ABLATED } else { *r & !ABLATED };
        }
        self.backend.write_words("refractory", first, &counters)
    }

    /// Biological time, seconds.
    pub fn time(&self) -> f64 {
        self.step as f64 * self.program.dt
    }

    /// Steps run since the start or the last reset.
    pub fn n_steps(&self) -> u64 {
        self.step
    }

    fn check_probe(&self, net: u64, index: usize, want_state: bool) -> Result<()> {
        if net != self.plan.net_id {
            return Err(Error::Simulation(
                "this probe belongs to another network; read probes on the simulator built from their network".into(),
            ));
        }
        match (self.plan.probes.get(index), want_state) {
            (Some(ProbeLayout::Spikes { .. }), false) | (Some(ProbeLayout::State { .. }), true) => {
                Ok(())
            }
            _ => Err(Error::Simulation(format!(
                "probe #{index} was never declared on this network"
            ))),
        }
    }

    /// Spikes recorded so far by a spike probe.
    pub fn spikes(&self, probe: &SpikeProbe) -> Result<&SpikeTrains> {
        self.check_probe(probe.net, probe.index, false)?;
        Ok(&self.spike_data[probe.index])
    }

    /// Hands over the spikes a probe recorded so far and forgets them, so a long run's memory
    /// stays flat (write them out, then go on). Later calls return only newer spikes; a
    /// checkpoint holds what has not been taken.
    pub fn take_spikes(&mut self, probe: &SpikeProbe) -> Result<SpikeTrains> {
        self.check_probe(probe.net, probe.index, false)?;
        Ok(std::mem::take(&mut self.spike_data[probe.index]))
    }

    /// One variable recorded by a state probe: samples x neurons.
    pub fn state(&self, probe: &StateProbe, var: StateVar) -> Result<Array2<f32>> {
        self.check_probe(probe.net, probe.index, true)?;
        if let (ProbeLayout::State { first_entry, .. }, false) =
            (&self.plan.probes[probe.index], var == StateVar::V)
        {
            let neuron = self.plan.state_entries[*first_entry as usize].neuron;
            let pop = self.plan.population_of(neuron);
            if let Some(model) = self.plan.neuron_model(pop) {
                return Err(Error::Simulation(format!(
                    "population `{}` is of neuron model `{}`, which has no {var:?}: its state \
                     probes record the model's first state variable as StateVar::V; read any \
                     variable between steps with Simulator::neuron_state",
                    self.plan.pop_names[pop],
                    model.name()
                )));
            }
        }
        let d = &self.state_data[probe.index];
        let c = var.column();
        let values: Vec<f32> = d.values.iter().skip(c).step_by(3).copied().collect();
        Array2::from_shape_vec((d.steps.len(), d.neurons), values)
            .map_err(|e| Error::Simulation(format!("state record has an unexpected shape: {e}")))
    }

    /// Times (s) of the samples of a state probe.
    pub fn state_times(&self, probe: &StateProbe) -> Result<Vec<f64>> {
        self.check_probe(probe.net, probe.index, true)?;
        let dt_s = self.plan.dt_ms * 1e-3;
        Ok(self.state_data[probe.index]
            .steps
            .iter()
            .map(|&s| s as f64 * dt_s)
            .collect())
    }

    /// The lowered spiking network (empty when the simulator runs a NEF network only).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// "cpu (reference)" or the adapter's name, API and kind; with `BackendChoice::Auto`, why
    /// it fell back to the CPU twin when it did.
    pub fn backend_description(&self) -> String {
        describe_backend(self.backend.as_ref(), self.auto_note.as_deref())
    }

    /// "gpu" or "cpu": which backend actually runs (`BackendChoice::Auto` may fall back).
    pub fn backend_kind(&self) -> &'static str {
        self.backend.kind()
    }

    pub fn dispatches_per_step(&self) -> u32 {
        self.backend.dispatches_per_step()
    }

    pub fn device_bytes(&self) -> u64 {
        self.backend.device_bytes()
    }

    /// Seconds spent lowering the model (decoders included) and opening the backend.
    pub fn build_seconds(&self) -> f64 {
        self.build_s
    }

    /// The program the backend runs.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Writes the run's state to `path` (see the spiking and NEF formats in
    /// `sim::checkpoint` and `sim::nef_io`), whole or not at all. A simulator of both kinds
    /// of network has no checkpoint format yet, and says so.
    pub fn checkpoint(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        match self.only_part("checkpoint")? {
            Part::Spiking => self.spiking_checkpoint(path),
            Part::Nef => self.nef_checkpoint(path),
        }
    }

    /// Replaces this simulator's state with the checkpoint at `path` (written by
    /// [`Simulator::checkpoint`] from the same network, on either backend). The whole file is
    /// read and checked first; nothing changes unless it is right.
    pub fn load_checkpoint(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        match self.only_part("load a checkpoint")? {
            Part::Spiking => self.spiking_load_checkpoint(path),
            Part::Nef => self.nef_load_checkpoint(path),
        }
    }

    /// The one kind of network this simulator runs, or an error saying `what` needs one.
    fn only_part(&self, what: &str) -> Result<Part> {
        match self.parts {
            Parts {
                spiking: true,
                nef: false,
            } => Ok(Part::Spiking),
            Parts {
                spiking: false,
                nef: true,
            } => Ok(Part::Nef),
            _ => Err(Error::Simulation(format!(
                "cannot {what} of a simulator that runs a spiking and a NEF network together: \
                 the checkpoint formats cover one kind each. Run the two in separate simulators \
                 to checkpoint them"
            ))),
        }
    }
}

/// One kind of network.
enum Part {
    Spiking,
    Nef,
}

/// Lowers a spiking network for `choice`: a network too large for the adapter is refused
/// before it is built. Looking at the adapter costs an instance and an enumeration of
/// adapters, so only a network that might not fit is looked at.
fn build_spiking(
    network: &Network,
    choice: &BackendChoice,
    part: Option<lower::part::PartBuild>,
) -> Result<Plan> {
    use lower::estimate::{min_ring_bytes, GUARANTEED_BINDING_BYTES};
    let device = match choice {
        BackendChoice::Gpu(opts)
            if min_ring_bytes(network.neuron_count()) > GUARANTEED_BINDING_BYTES =>
        {
            Some(exec::gpu::context::binding_limit(opts)?)
        }
        _ => None,
    };
    lower::build_part(network, device, part)
}

/// The program of the parts that run: the spiking plan's, the NEF plan's, or both joined.
fn joint_program(parts: Parts, plan: &Plan, nef: &NefPlan) -> Result<Program> {
    match (parts.spiking, parts.nef) {
        (true, true) => plan.program().join(nef.program()),
        (false, true) => Ok(nef.program()),
        _ => Ok(plan.program()),
    }
}

/// Whether `LAMINA_PIPELINE` leaves pipelining on: anything but `off`, `0`, `false` or `no`.
fn pipelining_from_env() -> bool {
    let value = std::env::var("LAMINA_PIPELINE").unwrap_or_default();
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "off" | "0" | "false" | "no"
    )
}

/// An executor's description, with why `Auto` chose the CPU twin when it did.
fn describe_backend(exec: &dyn Executor, auto_note: Option<&str>) -> String {
    match auto_note {
        Some(why) => format!("{} (auto: {why})", exec.description()),
        None => exec.description(),
    }
}

mod checkpoint;
pub mod distributed;
mod lesion;
pub mod nef;
mod nef_health;
mod nef_io;
mod nef_rules;
mod neuron_models;
mod plasticity;
mod synapse_lesion;
pub use lesion::Lesion;
pub use nef::NefSimulator;
// `Model` and `NeuronGroup` are defined above, with `Simulator`.
pub use synapse_lesion::SynapseView;
