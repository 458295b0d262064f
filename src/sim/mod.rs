//! The host API: build a network once, run it on a backend, read what the probes recorded.

use crate::error::{Error, Result};
use crate::exec::{self, BackendChoice, ChunkRecord, Executor};
use crate::lower::{self, Plan, ProbeLayout};
use crate::model::{Network, PopulationId, SpikeProbe, StateProbe, StateVar};
use ndarray::Array2;
use std::sync::Arc;
use std::time::Instant;

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
    plan: Arc<Plan>,
    backend: Box<dyn Executor>,
    /// Why `Auto` fell back to the CPU twin, when it did.
    auto_note: Option<String>,
    step: u64,
    build_s: f64,
    spike_data: Vec<SpikeTrains>,
    state_data: Vec<StateData>,
    /// Records of synapses cut by `lesion`.
    cut_synapses: std::collections::BTreeSet<u64>,
    /// Whether the neuron update checks the states it computes.
    health_check: bool,
}

impl Simulator {
    /// Builds the network into a Plan and opens the backend (allocating and uploading buffers).
    pub fn new(network: &Network, choice: BackendChoice) -> Result<Simulator> {
        let t0 = Instant::now();
        // The choice is decided first, so that a network too large for the adapter is
        // refused before it is built. Looking at the adapter costs an instance and an
        // enumeration of adapters, so only a network that might not fit is looked at.
        use lower::estimate::{min_ring_bytes, GUARANTEED_BINDING_BYTES};
        let (choice, auto_note) = exec::resolve(&choice)?;
        let device = match &choice {
            BackendChoice::Gpu(opts)
                if min_ring_bytes(network.neuron_count()) > GUARANTEED_BINDING_BYTES =>
            {
                Some(exec::gpu::context::binding_limit(opts)?)
            }
            _ => None,
        };
        let plan = Arc::new(lower::build_for(network, device)?);
        let mut sim = Simulator::from_plan(plan, choice)?;
        sim.auto_note = auto_note;
        sim.build_s = t0.elapsed().as_secs_f64();
        Ok(sim)
    }

    /// Opens a backend for a plan already built (`lamina::lower::build`): build once, then
    /// open it on several backends, or on one after inspecting it. Nothing is copied; the
    /// simulators share the plan. `build_seconds` counts only the opening.
    pub fn from_plan(plan: Arc<Plan>, choice: BackendChoice) -> Result<Simulator> {
        let t0 = Instant::now();
        let (choice, auto_note) = exec::resolve(&choice)?;
        let mut backend = exec::open(&Arc::new(plan.program()), &choice)?;
        let health_check = cfg!(debug_assertions);
        backend.set_health_check(health_check);
        let mut sim = Simulator {
            plan,
            backend,
            auto_note,
            step: 0,
            build_s: t0.elapsed().as_secs_f64(),
            spike_data: Vec::new(),
            state_data: Vec::new(),
            cut_synapses: Default::default(),
            health_check,
        };
        sim.clear_records();
        Ok(sim)
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

    /// Runs for `duration_s` seconds of biological time (rounded to whole steps).
    pub fn run(&mut self, duration_s: f64) -> Result<()> {
        if !(duration_s.is_finite() && duration_s >= 0.0) {
            return Err(Error::Simulation(format!(
                "run duration must be >= 0 s, got {duration_s}"
            )));
        }
        let steps = (duration_s * 1e3 / self.plan.dt_ms).round() as u64;
        if steps == 0 && duration_s > 0.0 {
            return Err(Error::Simulation(format!(
                "run duration {duration_s} s is shorter than one step (dt = {} ms)",
                self.plan.dt_ms
            )));
        }
        self.run_steps(steps)
    }

    /// Runs `steps` steps.
    pub fn run_steps(&mut self, steps: u64) -> Result<()> {
        if self.step + steps > u32::MAX as u64 {
            return Err(Error::Simulation(format!(
                "running to step {} exceeds the 2^32 - 1 steps a simulator can count; reset() or use a larger dt",
                self.step + steps
            )));
        }
        let mut left = steps;
        while left > 0 {
            let n = left.min(self.plan.chunk_steps as u64) as u32;
            let record = self.backend.run_chunk(self.step as u32, n, &[])?;
            self.absorb(&record);
            self.step += n as u64;
            left -= n as u64;
            if let Some(fault) = record.fault {
                return Err(self.describe_fault(fault));
            }
        }
        Ok(())
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
                 neuron at that step): {}. The run went on to step {}, the end of its chunk. \
                 Check neuron model `{model}`'s snippets and parameters (read its state with \
                 Simulator::neuron_state)",
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
             neuron at that step): {}. The run went on to step {}, the end of its chunk. {advice}",
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
            for (w, &word) in rec.words(0)[row * words..(row + 1) * words]
                .iter()
                .enumerate()
            {
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

    /// Back to time zero and the initial state, as built (no ablations, no cut synapses);
    /// recorded data is discarded.
    pub fn reset(&mut self) -> Result<()> {
        self.restore_synapses()?;
        self.backend.reset()?;
        self.step = 0;
        self.clear_records();
        Ok(())
    }

    /// Silences neurons of a population (local indices) from the next step on: they are held as
    /// if refractory (their voltage stays, their synaptic currents run on) and never spike; a
    /// spike source drops its scheduled spikes. [`Simulator::restore`] undoes it; `reset` too.
    pub fn ablate(&mut self, pop: PopulationId, neurons: &[usize]) -> Result<()> {
        self.set_ablated(pop, neurons, true)
    }

    /// Undoes [`Simulator::ablate`] for these neurons.
    pub fn restore(&mut self, pop: PopulationId, neurons: &[usize]) -> Result<()> {
        self.set_ablated(pop, neurons, false)
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
        self.step as f64 * self.plan.dt_ms * 1e-3
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

    /// The lowered model.
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

    /// Seconds spent building the Plan and opening the backend.
    pub fn build_seconds(&self) -> f64 {
        self.build_s
    }
}

/// An executor's description, with why `Auto` chose the CPU twin when it did.
fn describe_backend(exec: &dyn Executor, auto_note: Option<&str>) -> String {
    match auto_note {
        Some(why) => format!("{} (auto: {why})", exec.description()),
        None => exec.description(),
    }
}

mod checkpoint;
mod lesion;
pub mod nef;
mod nef_health;
mod nef_io;
mod nef_rules;
mod neuron_models;
mod synapse_lesion;
pub use lesion::Lesion;
pub use nef::NefSimulator;
pub use synapse_lesion::SynapseView;
