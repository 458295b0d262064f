//! Backends run a Plan: `gpu` through wgpu and WGSL kernels, `cpu` as the loop-for-loop reference
//! twin of every kernel. Both implement [`Backend`]; the simulator does not know which it drives.

pub mod cpu;
pub mod gpu;

use crate::error::Result;
use crate::lower::Plan;
use std::sync::Arc;

/// Which backend a simulator runs on.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum BackendChoice {
    /// The CPU reference twin.
    Cpu,
    /// A GPU adapter chosen by `GpuOptions`.
    Gpu(GpuOptions),
    /// The GPU if any adapter is found, else the CPU twin (`Simulator::backend_kind` says which).
    #[default]
    Auto,
}

impl BackendChoice {
    /// A GPU with options from the environment (`LAMINA_BACKEND`, `LAMINA_ADAPTER`).
    pub fn gpu() -> BackendChoice {
        BackendChoice::Gpu(GpuOptions::from_env())
    }

    /// The caller's own device and queue (see [`SharedDevice`]).
    pub fn shared(device: SharedDevice) -> BackendChoice {
        BackendChoice::Gpu(GpuOptions {
            device: Some(Box::new(device)),
            ..GpuOptions::default()
        })
    }
}

/// How to pick and configure the GPU adapter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GpuOptions {
    /// `vulkan`, `gl`, `metal` or `dx12`; `None` tries all.
    pub api: Option<String>,
    /// A case-insensitive substring of the adapter's name; `None` takes the first suitable one
    /// (hardware before software).
    pub adapter: Option<String>,
    /// Caps the bytes of one synapse array chunk below the adapter's binding limit, forcing the
    /// arrays into several chunks (tests use it to exercise chunking on small models).
    pub synapse_chunk_bytes: Option<u64>,
    /// A device the caller already owns, used instead of opening one (`api` and `adapter` are
    /// then ignored). See [`BackendChoice::shared`].
    pub device: Option<Box<SharedDevice>>,
}

/// A wgpu device and queue that the caller already owns (a visualisation app, a game engine),
/// handed to lamina so that its buffers live next to the caller's: lamina then opens no
/// device of its own. lamina installs nothing on it (no error handler, no device-lost
/// callback); it catches its own errors with error scopes around each of its operations.
/// The device needs `max_storage_buffers_per_shader_stage` of at least 12 (request it with
/// the adapter's limits); a device that has less is refused with that message.
///
/// ```no_run
/// use lamina::prelude::*;
/// # fn main() -> lamina::Result<()> {
/// let instance = wgpu::Instance::default();
/// let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
///     .expect("an adapter");
/// let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
///     required_limits: adapter.limits(),
///     ..Default::default()
/// }))
/// .expect("a device");
/// let shared = SharedDevice::new(&adapter, device, queue);
/// # let net = Network::new();
/// let sim = Simulator::new(&net, BackendChoice::shared(shared))?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SharedDevice {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// Reported as the backend's description.
    pub info: wgpu::AdapterInfo,
}

impl SharedDevice {
    /// The device and queue the caller requested from `adapter`.
    pub fn new(adapter: &wgpu::Adapter, device: wgpu::Device, queue: wgpu::Queue) -> SharedDevice {
        SharedDevice {
            device,
            queue,
            info: adapter.get_info(),
        }
    }
}

impl GpuOptions {
    /// Reads `LAMINA_BACKEND` (vulkan|gl|metal|dx12) and `LAMINA_ADAPTER` (name substring).
    pub fn from_env() -> GpuOptions {
        let get = |k: &str| std::env::var(k).ok().filter(|s| !s.trim().is_empty());
        GpuOptions {
            api: get("LAMINA_BACKEND"),
            adapter: get("LAMINA_ADAPTER"),
            synapse_chunk_bytes: None,
            device: None,
        }
    }
}

/// What one chunk of steps recorded.
#[derive(Clone, Debug, Default)]
pub struct ChunkRecord {
    pub steps: u32,
    /// `steps` rows of `plan.globals.rec_words` words: bit b of a row is recorded neuron
    /// `rec_start + b`.
    pub spike_words: Vec<u32>,
    /// The state record laid out by `plan.state_entries`.
    pub state: Vec<f32>,
    /// What the health check found, if it was on and something failed.
    pub fault: Option<HealthFault>,
}

/// The first failure of the health check in a chunk: the step, the lowest neuron (global
/// index) failing at that step, and the `lower::layout::BAD_*` bits of every failure at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthFault {
    pub step: u32,
    pub neuron: u32,
    pub what: u32,
}

impl HealthFault {
    /// The fault recorded in a control block's fields, if any.
    pub(crate) fn found(step: u32, neuron: u32, what: u32) -> Option<HealthFault> {
        (what != 0).then_some(HealthFault { step, neuron, what })
    }
}

/// Everything a spiking run carries from one step to the next besides the plan and the synapse
/// records: what a checkpoint saves. (The step counter is the simulator's; Poisson draws are a
/// function of the step, so there is no generator state.)
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunState {
    /// Membrane potentials, one per neuron, then the parameters and the rest of the state of
    /// user-defined neuron models (laid out as `Plan::v_init`).
    pub v: Vec<f32>,
    /// Synaptic currents, `[i_ex, i_in]` per neuron.
    pub i_syn: Vec<f32>,
    /// Refractory counters, with the `ABLATED` bit.
    pub refractory: Vec<u32>,
    /// The delay ring: slots x neurons x 2 channels of fixed-point input not yet delivered.
    pub ring: Vec<i32>,
}

impl RunState {
    /// Refuses a state whose arrays do not fit the plan.
    pub(crate) fn check(&self, plan: &Plan) -> Result<()> {
        let n = plan.neuron_count() as usize;
        let want = [
            ("v", self.v.len(), plan.v_init.len()),
            ("i_syn", self.i_syn.len(), 2 * n),
            ("refractory", self.refractory.len(), n),
            (
                "ring",
                self.ring.len(),
                plan.globals.ring_slots as usize * n * 2,
            ),
        ];
        for (what, got, want) in want {
            if got != want {
                return Err(crate::Error::Simulation(format!(
                    "the run state's `{what}` has {got} values; this network needs {want}"
                )));
            }
        }
        Ok(())
    }
}

/// A running Plan.
pub trait Backend {
    /// "cpu", or the GPU adapter's name and API.
    fn description(&self) -> String;
    /// "cpu" or "gpu".
    fn kind(&self) -> &'static str;
    /// Runs `steps` steps (at most `plan.chunk_steps`) from the current step, whose number must
    /// fit in u32, and returns what was recorded.
    fn run_chunk(&mut self, first_step: u32, steps: u32) -> Result<ChunkRecord>;
    /// Back to the initial state.
    fn reset(&mut self) -> Result<()>;
    /// Kernel launches per step.
    fn dispatches_per_step(&self) -> u32;
    /// Turns the health check on or off for the following chunks: every state the neuron
    /// update computes is checked for NaN and infinity, and every step's summed input for the
    /// fixed-point bound; `ChunkRecord::fault` reports the first failure.
    fn set_health_check(&mut self, on: bool);
    /// Bytes of buffers holding the model and its state (device memory on a GPU).
    fn device_bytes(&self) -> u64;
    /// Ablates (`true`) or restores neurons `first + k` where `mask[k]` is true, from the next
    /// step on: an ablated neuron is held as if refractory and never spikes (a spike source
    /// drops its spikes). Sets or clears `lower::layout::ABLATED` in the refractory counters,
    /// so the counters themselves run on.
    fn set_ablated(&mut self, first: u32, mask: &[bool], ablated: bool) -> Result<()>;
    /// Overwrites the packed synapse records' words from word `first_word` (lesions: the
    /// weight fields of cut synapses cleared). `reset` does not undo it.
    fn write_synapse_words(&mut self, first_word: usize, words: &[u32]) -> Result<()>;
    /// The state between steps, read back.
    fn read_state(&mut self) -> Result<RunState>;
    /// `len` values of `v` from `first` (potentials, then user-defined models' parameters and
    /// state: see `Plan::v_init`), read back between steps.
    fn read_v(&mut self, first: usize, len: usize) -> Result<Vec<f32>>;
    /// Overwrites values of `v` from `first` between steps.
    fn write_v(&mut self, first: usize, values: &[f32]) -> Result<()>;
    /// Replaces the state between steps (checked against the plan first).
    fn write_state(&mut self, state: &RunState) -> Result<()>;
}

/// `counters` with `ABLATED` set (or cleared) where `mask` is true.
pub(crate) fn mark_ablated(counters: &mut [u32], mask: &[bool], ablated: bool) {
    use crate::lower::layout::ABLATED;
    for (r, _) in counters.iter_mut().zip(mask).filter(|(_, &m)| m) {
        *r = if ablated { *r | ABLATED } else { *r & !ABLATED };
    }
}

/// Refuses a chunk longer than the records were sized for, or one that would overflow the step
/// counter (both backends count steps in u32, as the kernels do).
pub(crate) fn check_chunk(plan: &Plan, first_step: u32, steps: u32) -> Result<()> {
    check_steps(plan.chunk_steps, first_step, steps)
}

fn check_steps(chunk_steps: u32, first_step: u32, steps: u32) -> Result<()> {
    if steps > chunk_steps {
        return Err(crate::Error::Simulation(format!(
            "a chunk of {steps} steps exceeds the {chunk_steps} steps its records hold"
        )));
    }
    if first_step.checked_add(steps).is_none() {
        return Err(crate::Error::Simulation(format!(
            "steps {first_step} + {steps} overflow the u32 step counter; reset() first"
        )));
    }
    Ok(())
}

/// Opens the backend of a choice for a plan.
/// The plan is shared, not copied: at full scale its synapse records take gigabytes.
pub fn open(plan: &Arc<Plan>, choice: &BackendChoice) -> Result<Box<dyn Backend>> {
    match choice {
        BackendChoice::Cpu => Ok(Box::new(cpu::CpuBackend::open(plan)?)),
        BackendChoice::Gpu(opts) => Ok(Box::new(gpu::GpuBackend::new(plan, opts)?)),
        BackendChoice::Auto => {
            // Fall back only when there is no adapter at all: a model too large for the adapter
            // is an error to see, not a reason to run somewhere else.
            let opts = GpuOptions::from_env();
            if gpu::adapters(opts.api.as_deref())?.is_empty() {
                Ok(Box::new(cpu::CpuBackend::open(plan)?))
            } else {
                Ok(Box::new(gpu::GpuBackend::new(plan, &opts)?))
            }
        }
    }
}

/// A running NEF plan (`lower::nef::NefPlan`).
pub trait NefBackend {
    /// "cpu", or the GPU adapter's name and API.
    fn description(&self) -> String;
    /// "cpu" or "gpu".
    fn kind(&self) -> &'static str;
    /// Runs `steps` steps (at most `plan.chunk_steps`) from step `first_step`, with `feed`
    /// holding one row of function-node outputs per step, and returns the chunk's record
    /// (`plan.record_len` floats; each probe's samples in its region).
    fn run_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<Vec<f32>>;
    /// Back to the initial state, learned weights included.
    fn reset(&mut self) -> Result<()>;
    /// Kernel launches per step.
    fn dispatches_per_step(&self) -> u32;
    /// Bytes of buffers holding the model and its state.
    fn device_bytes(&self) -> u64;
    /// `len` values of one of the plan's arrays from `first`, as they are now (weights change
    /// under learning).
    fn read(&mut self, array: NefArray, first: usize, len: usize) -> Result<Vec<f32>>;
    /// Overwrites `array[first ..]` with `values`, between steps.
    fn write(&mut self, array: NefArray, first: usize, values: &[f32]) -> Result<()>;
}

/// The two flat arrays of a NEF plan: `sig` (every vector) and `w` (every matrix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NefArray {
    Signals,
    Weights,
}

/// Refuses a chunk the records or the feed table were not sized for.
pub(crate) fn check_nef_chunk(
    plan: &crate::lower::nef::NefPlan,
    first_step: u32,
    steps: u32,
    feed: &[f32],
) -> Result<()> {
    check_steps(plan.chunk_steps, first_step, steps)?;
    if feed.len() != steps as usize * plan.feed_width() {
        return Err(crate::Error::Simulation(format!(
            "the feed table has {} values; {steps} steps of {} function-node outputs need {}",
            feed.len(),
            plan.feed_width(),
            steps as usize * plan.feed_width()
        )));
    }
    Ok(())
}

/// Opens the backend of a choice for a NEF plan.
pub fn open_nef(
    plan: &Arc<crate::lower::nef::NefPlan>,
    choice: &BackendChoice,
) -> Result<Box<dyn NefBackend>> {
    match choice {
        BackendChoice::Cpu => Ok(Box::new(cpu::nef::CpuNef::open(plan)?)),
        BackendChoice::Gpu(opts) => Ok(Box::new(gpu::nef::GpuNef::new(plan, opts)?)),
        BackendChoice::Auto => {
            let opts = GpuOptions::from_env();
            if gpu::adapters(opts.api.as_deref())?.is_empty() {
                Ok(Box::new(cpu::nef::CpuNef::open(plan)?))
            } else {
                Ok(Box::new(gpu::nef::GpuNef::new(plan, &opts)?))
            }
        }
    }
}
