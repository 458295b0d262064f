//! Executors run a `Program`: `gpu` through wgpu and WGSL kernels, `cpu` with the loop-for-loop
//! reference twin of every kernel. Both implement [`Executor`]; the simulator does not know
//! which it drives, and neither knows what a population, an ensemble or a Poisson source is.

pub mod cpu;
pub mod gpu;

use crate::error::Result;
use crate::lower::Program;
use std::sync::Arc;

/// Which backend a simulator runs on.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum BackendChoice {
    /// The CPU reference twin.
    Cpu,
    /// A GPU adapter chosen by `GpuOptions`.
    Gpu(GpuOptions),
    /// A hardware GPU adapter if there is one, else the CPU twin, which outruns software
    /// adapters; an API or adapter named in `LAMINA_BACKEND` / `LAMINA_ADAPTER` is honoured
    /// as asked (see [`choose_auto`]). `Simulator::backend_description` says which ran, and
    /// why when it fell back.
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
    /// `vulkan`, `gl`, `metal`, `dx12`, or `noop` (wgpu's no-op backend: runs nothing, for
    /// timing the host); `None` tries all but `noop`.
    pub api: Option<String>,
    /// A case-insensitive substring of the adapter's name; `None` takes the first suitable one
    /// (hardware before software).
    pub adapter: Option<String>,
    /// Of the adapters that match, the `nth` (modulo their number) rather than the first, so
    /// that the processes of a distributed run on one machine take one GPU each
    /// (`Simulator::distributed` sets it to the process's rank on its machine).
    pub nth: Option<usize>,
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
    /// Reads `LAMINA_BACKEND` (vulkan|gl|metal|dx12, or noop: wgpu's no-op backend, which
    /// runs nothing, for timing the host) and `LAMINA_ADAPTER` (name substring).
    pub fn from_env() -> GpuOptions {
        let get = |k: &str| std::env::var(k).ok().filter(|s| !s.trim().is_empty());
        GpuOptions {
            api: get("LAMINA_BACKEND"),
            adapter: get("LAMINA_ADAPTER"),
            nth: None,
            synapse_chunk_bytes: None,
            device: None,
        }
    }
}

/// What one chunk of steps recorded: each of the program's records (`Program::records`), cut
/// to the chunk's steps.
#[derive(Clone, Debug, Default)]
pub struct ChunkRecord {
    pub steps: u32,
    pub records: Vec<Vec<u32>>,
    /// What the health check found, if it was on and something failed.
    pub fault: Option<HealthFault>,
}

impl ChunkRecord {
    pub fn new(steps: u32, records: Vec<Vec<u32>>, fault: Option<HealthFault>) -> ChunkRecord {
        ChunkRecord {
            steps,
            records,
            fault,
        }
    }

    /// Record `k` as words (a spike record: bit b of a row is recorded neuron b).
    pub fn words(&self, k: usize) -> &[u32] {
        &self.records[k]
    }

    /// Record `k` as floats (state samples, probe samples).
    pub fn floats(&self, k: usize) -> &[f32] {
        bytemuck::cast_slice(&self.records[k])
    }
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

/// A lowered network running on one backend: the GPU through wgpu, or the CPU twin. The
/// simulators drive every executor through this one interface; what an executor holds is a set
/// of named buffers (named as the kernels' bindings) that the host reads and writes between
/// steps in 4-byte words, and the chunk of steps it runs.
pub trait Executor {
    /// "cpu", or the GPU adapter's name and API.
    fn description(&self) -> String;
    /// "cpu" or "gpu".
    fn kind(&self) -> &'static str;
    /// Starts `steps` steps (at most the plan's `chunk_steps`) from step `first_step`, whose
    /// number must fit in u32, behind the chunks already submitted, without waiting for them:
    /// [`Executor::collect_chunk`] returns what each recorded, in the order they were
    /// submitted. `feed` holds one row of host-computed inputs per step (a NEF plan's function
    /// nodes; empty for a spiking plan). At most [`Executor::max_in_flight`] chunks may be
    /// submitted and not yet collected; reads, writes and `reset` see the state after every
    /// chunk submitted.
    fn submit_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<()>;
    /// Waits for the oldest chunk submitted and not yet collected, and returns what it
    /// recorded; the chunks submitted after it go on running.
    fn collect_chunk(&mut self) -> Result<ChunkRecord>;
    /// Hands back a collected chunk's record once it is filed, so that the next chunk's
    /// records are read into its allocations: a large spike record (a word per 32 neurons per
    /// step) would otherwise cost a fresh allocation each chunk, whose pages the OS zeroes.
    fn recycle(&mut self, _record: ChunkRecord) {}
    /// How many chunks may be submitted and not yet collected (the readback ring's size).
    fn max_in_flight(&self) -> usize;
    /// Chunks submitted and not yet collected.
    fn in_flight(&self) -> usize;
    /// Runs one chunk and returns what it recorded: [`Executor::submit_chunk`] then
    /// [`Executor::collect_chunk`], with no other chunk in flight.
    fn run_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<ChunkRecord> {
        if self.in_flight() > 0 {
            return Err(crate::Error::Simulation(format!(
                "run_chunk with {} chunks in flight; collect them first",
                self.in_flight()
            )));
        }
        self.submit_chunk(first_step, steps, feed)?;
        self.collect_chunk()
    }
    /// Back to the initial state. Words written into constant buffers (lesioned synapse
    /// records) stay; a NEF plan's weights go back to the built ones.
    fn reset(&mut self) -> Result<()>;
    /// Kernel launches per step.
    fn dispatches_per_step(&self) -> u32;
    /// Bytes of buffers holding the model and its state (device memory on a GPU).
    fn device_bytes(&self) -> u64;
    /// Turns the in-kernel health check on or off for the following chunks (spiking plans:
    /// every state the neuron update computes is checked for NaN and infinity, and every
    /// step's summed input for the fixed-point bound; `ChunkRecord::fault` reports the first
    /// failure). A NEF plan checks its state on the host and ignores this.
    fn set_health_check(&mut self, on: bool);
    /// `len` words of buffer `buffer` from word `first`, as they are between steps.
    fn read_words(&mut self, buffer: &str, first: usize, len: usize) -> Result<Vec<u32>>;
    /// Overwrites words of buffer `buffer` from word `first`, between steps.
    fn write_words(&mut self, buffer: &str, first: usize, words: &[u32]) -> Result<()>;

    /// [`Executor::read_words`] of a float buffer.
    fn read_f32(&mut self, buffer: &str, first: usize, len: usize) -> Result<Vec<f32>> {
        Ok(bytemuck::cast_vec(self.read_words(buffer, first, len)?))
    }
    /// [`Executor::write_words`] of a float buffer.
    fn write_f32(&mut self, buffer: &str, first: usize, values: &[f32]) -> Result<()> {
        self.write_words(buffer, first, bytemuck::cast_slice(values))
    }
}

/// Chunks an executor lets be in flight at once: the one whose records the host reads, the
/// one the GPU runs, and the one queued behind it.
pub const PIPELINE_DEPTH: usize = 3;

/// Refuses a read or write of `len` words from `first` in buffer `name` of `size` words.
pub(crate) fn check_range(name: &str, size: usize, first: usize, len: usize) -> Result<()> {
    match first.checked_add(len) {
        Some(end) if end <= size => Ok(()),
        _ => Err(crate::Error::Simulation(format!(
            "words {first} .. {first} + {len} are outside buffer `{name}` of {size} words"
        ))),
    }
}

/// The error for a buffer an executor does not hold.
pub(crate) fn no_buffer(name: &str, kind: &str) -> crate::Error {
    crate::Error::Simulation(format!("the {kind} executor holds no buffer `{name}`"))
}

/// Refuses a chunk longer than the records were sized for, or one that would overflow the step
/// counter (both backends count steps in u32, as the kernels do).
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

/// Opens the executor of a choice for a program (`Auto` as [`resolve`] decides). The program
/// is shared, not copied: at full scale its synapse records take gigabytes.
pub fn open(program: &Arc<Program>, choice: &BackendChoice) -> Result<Box<dyn Executor>> {
    match resolve(choice)?.0 {
        BackendChoice::Gpu(opts) => Ok(Box::new(gpu::GpuExecutor::new(program, &opts)?)),
        _ => Ok(Box::new(cpu::CpuExecutor::open(program)?)),
    }
}

/// The choice with `Auto` decided ([`choose_auto`] over the adapters there are), and why it
/// fell back to the CPU twin when it did. Once decided it runs there: a model too large for
/// the adapter is an error to see, not a reason to run somewhere else.
pub fn resolve(choice: &BackendChoice) -> Result<(BackendChoice, Option<String>)> {
    if *choice != BackendChoice::Auto {
        return Ok((choice.clone(), None));
    }
    let env = GpuOptions::from_env();
    let adapters = gpu::context::adapter_summaries(env.api.as_deref())?;
    Ok(match choose_auto(&adapters, env) {
        AutoChoice::Gpu(opts) => (BackendChoice::Gpu(opts), None),
        AutoChoice::Cpu { why } => (BackendChoice::Cpu, Some(why)),
    })
}

/// A usable adapter as `Auto` sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct AdapterSummary {
    pub name: String,
    /// "Vulkan", "Gl", "Metal", "Dx12".
    pub api: String,
    /// False for software adapters (Mesa's lavapipe and llvmpipe, WARP, SwiftShader).
    pub hardware: bool,
}

/// Where `BackendChoice::Auto` runs.
#[derive(Clone, Debug, PartialEq)]
pub enum AutoChoice {
    Gpu(GpuOptions),
    /// The CPU twin, and why no adapter was taken.
    Cpu {
        why: String,
    },
}

/// `Auto`'s rule over the usable adapters (best first) and the options the environment gives
/// (`LAMINA_BACKEND`, `LAMINA_ADAPTER`): an API or adapter named there is a request, honoured
/// as it is; otherwise the first hardware adapter; otherwise the CPU twin, because a software
/// adapter runs lamina's kernels several times slower than the twin does. A software adapter
/// runs only when asked for, by name or with `BackendChoice::Gpu`.
pub fn choose_auto(adapters: &[AdapterSummary], env: GpuOptions) -> AutoChoice {
    if env.api.is_some() || env.adapter.is_some() {
        return AutoChoice::Gpu(env);
    }
    if let Some(a) = adapters.iter().find(|a| a.hardware) {
        return AutoChoice::Gpu(GpuOptions {
            api: Some(a.api.to_ascii_lowercase()),
            adapter: Some(a.name.clone()),
            ..env
        });
    }
    let why = match adapters.first() {
        None => "no GPU adapter found".to_string(),
        Some(a) => format!(
            "no hardware GPU adapter; the software adapter {} ({}) runs slower than the CPU \
             twin, so it runs only when asked for (`--backend gpu`, LAMINA_BACKEND={})",
            a.name,
            a.api,
            a.api.to_ascii_lowercase()
        ),
    };
    AutoChoice::Cpu { why }
}

/// Refuses a chunk the records or the feed table were not sized for: `feed` must hold
/// `feed_width` host inputs per step.
pub(crate) fn check_chunk(
    chunk_steps: u32,
    feed_width: usize,
    first_step: u32,
    steps: u32,
    feed: &[f32],
) -> Result<()> {
    check_steps(chunk_steps, first_step, steps)?;
    if feed.len() != steps as usize * feed_width {
        return Err(crate::Error::Simulation(format!(
            "the feed table has {} values; {steps} steps of {feed_width} function-node outputs \
             need {}",
            feed.len(),
            steps as usize * feed_width
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{choose_auto, AdapterSummary, AutoChoice, GpuOptions};

    fn adapter(name: &str, api: &str, hardware: bool) -> AdapterSummary {
        AdapterSummary {
            name: name.into(),
            api: api.into(),
            hardware,
        }
    }

    #[test]
    fn auto_takes_the_first_hardware_adapter() {
        let list = [
            adapter("NVIDIA H100", "Vulkan", true),
            adapter("llvmpipe (LLVM 15.0.6, 256 bits)", "Vulkan", false),
        ];
        let AutoChoice::Gpu(opts) = choose_auto(&list, GpuOptions::default()) else {
            panic!("a hardware adapter is there");
        };
        assert_eq!(opts.adapter.as_deref(), Some("NVIDIA H100"));
        assert_eq!(opts.api.as_deref(), Some("vulkan"));
    }

    #[test]
    fn auto_passes_over_software_adapters_and_says_why() {
        let list = [adapter("llvmpipe (LLVM 15.0.6, 256 bits)", "Vulkan", false)];
        let AutoChoice::Cpu { why } = choose_auto(&list, GpuOptions::default()) else {
            panic!("only a software adapter is there");
        };
        assert!(why.contains("llvmpipe"), "{why}");
        assert!(why.contains("--backend gpu"), "{why}");
        assert!(why.contains("LAMINA_BACKEND=vulkan"), "{why}");
        let AutoChoice::Cpu { why } = choose_auto(&[], GpuOptions::default()) else {
            panic!("no adapter is there");
        };
        assert_eq!(why, "no GPU adapter found");
    }

    #[test]
    fn auto_honours_an_adapter_or_api_asked_for() {
        let list = [adapter("llvmpipe (LLVM 15.0.6, 256 bits)", "Gl", false)];
        for env in [
            GpuOptions {
                api: Some("gl".into()),
                ..GpuOptions::default()
            },
            GpuOptions {
                adapter: Some("llvmpipe".into()),
                ..GpuOptions::default()
            },
        ] {
            assert_eq!(choose_auto(&list, env.clone()), AutoChoice::Gpu(env));
        }
    }
}
