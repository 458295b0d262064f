//! The wgpu backend: the Plan's buffers on the device, one compute pipeline per kernel, many
//! steps recorded into one command buffer, and the probe records read back once per chunk.

mod buffers;
pub mod context;
pub mod nef;

pub use buffers::synapses_per_chunk;

use super::{check_range, no_buffer, ChunkRecord, Executor, GpuOptions, HealthFault};
use crate::error::Result;
use crate::lower::layout::Control;
use crate::lower::{Dispatch, Plan};
use buffers::Buffers;
use context::GpuContext;
use std::sync::Arc;

/// Largest synapse chunk: `propagate` computes bit offsets within a chunk in u32.
const MAX_CHUNK_BYTES: u64 = 1 << 29;

/// A Plan running on a GPU adapter.
pub struct GpuBackend {
    ctx: GpuContext,
    plan: Arc<Plan>,
    buffers: Buffers,
    pipelines: Pipelines,
    /// Whether the neuron update runs its health check.
    health: bool,
}

struct Pipelines {
    neuron_update: (wgpu::ComputePipeline, wgpu::BindGroup),
    prepare_spikes: (wgpu::ComputePipeline, wgpu::BindGroup),
    /// One bind group per synapse chunk.
    propagate: (wgpu::ComputePipeline, Vec<wgpu::BindGroup>),
    record_state: (wgpu::ComputePipeline, wgpu::BindGroup),
}

/// Lists usable adapters, best first, one line each.
pub fn adapters(api: Option<&str>) -> Result<Vec<String>> {
    Ok(context::usable_adapters(api)?
        .iter()
        .map(|a| context::describe(&a.get_info()))
        .collect())
}

impl GpuBackend {
    pub fn new(plan: &Arc<Plan>, opts: &GpuOptions) -> Result<GpuBackend> {
        let ctx = context::open(opts)?;
        let scope = ctx.scope();
        let name = context::describe(&ctx.info);
        let max_binding = ctx.limits.max_storage_buffer_binding_size as u64;
        let max_buffer = ctx.limits.max_buffer_size;
        buffers::check_limits(plan, max_binding, max_buffer, &name)?;
        // The kernel addresses a chunk's bits with u32 offsets: at most 2^32 bits = 512 MiB.
        let chunk_bytes = max_binding
            .min(max_buffer)
            .min(MAX_CHUNK_BYTES)
            .min(opts.synapse_chunk_bytes.unwrap_or(u64::MAX));
        let buffers = Buffers::new(&ctx.device, plan, chunk_bytes);
        buffers.upload_synapse_records(&ctx, plan)?;
        let pipelines = Pipelines::new(&ctx, &buffers, plan)?;
        ctx.close(scope, "creating buffers and pipelines")?;
        Ok(GpuBackend {
            ctx,
            plan: Arc::clone(plan),
            buffers,
            pipelines,
            health: false,
        })
    }

    /// The wgpu device this backend runs on: for interop, and for tests that lose it on
    /// purpose (`destroy`).
    pub fn device(&self) -> &wgpu::Device {
        &self.ctx.device
    }

    fn read_staging<T: bytemuck::Pod>(&self, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<T>> {
        self.ctx.read_mapped(buffer, bytes)
    }

    /// The state buffer named `name` and its length in words.
    fn buffer(&self, name: &str) -> Result<(&wgpu::Buffer, usize)> {
        let (b, n) = (&self.buffers, self.plan.neuron_count() as usize);
        match name {
            "v" => Ok((&b.v, self.plan.v_init.len())),
            "i_syn" => Ok((&b.i_syn, 2 * n)),
            "refractory" => Ok((&b.refractory, n)),
            "ring" => Ok((&b.ring, self.plan.globals.ring_slots as usize * n * 2)),
            _ => Err(no_buffer(name, "GPU")),
        }
    }

    /// The parts of the synapse chunks that overlap words `want`: (chunk's records, offset
    /// of the overlap in the chunk in words, the overlap as word indices).
    fn synapse_parts(
        &self,
        want: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (&wgpu::Buffer, usize, std::ops::Range<usize>)> {
        let b = &self.buffers;
        b.synapse_chunks
            .iter()
            .zip(&b.synapse_chunk_words)
            .filter_map(move |((records, _), have)| {
                let (lo, hi) = (want.start.max(have.start), want.end.min(have.end));
                (lo < hi).then(|| (records, lo - have.start, lo..hi))
            })
    }

    /// `len` words of the packed synapse records from word `first`, across chunks.
    fn synapse_words(&self, first: usize, len: usize) -> Result<Vec<u32>> {
        check_range("syn_words", self.plan.syn_words.len(), first, len)?;
        let scope = self.ctx.scope();
        let mut out = Vec::with_capacity(len);
        for (records, offset, part) in self.synapse_parts(first..first + len) {
            let words: Vec<u32> =
                self.read_buffer(records, offset as u64 * 4, part.len() as u64 * 4)?;
            out.extend(words);
        }
        self.ctx.close(scope, "reading synapse records")?;
        Ok(out)
    }

    /// Overwrites the packed synapse records from word `first` (lesions clear the weight
    /// fields of cut synapses), across chunks. `reset` does not undo it.
    fn write_synapse_words(&self, first: usize, words: &[u32]) -> Result<()> {
        check_range("syn_words", self.plan.syn_words.len(), first, words.len())?;
        let scope = self.ctx.scope();
        for (records, offset, part) in self.synapse_parts(first..first + words.len()) {
            let part = &words[part.start - first..part.end - first];
            self.ctx
                .queue
                .write_buffer(records, offset as u64 * 4, bytemuck::cast_slice(part));
        }
        self.ctx.queue.submit([]);
        self.ctx.wait()?;
        self.ctx.close(scope, "writing synapse records")
    }

    /// `bytes` of a device buffer from `offset`, through a one-off staging buffer: for rare
    /// reads between steps (ablation, checkpoints), whose sizes the records' staging buffers
    /// were not made for.
    fn read_buffer<T: bytemuck::Pod>(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        bytes: u64,
    ) -> Result<Vec<T>> {
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let staging = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback staging"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, offset, &staging, 0, bytes);
        self.ctx.queue.submit([encoder.finish()]);
        self.ctx.read_mapped(&staging, bytes)
    }
}

impl Pipelines {
    fn new(ctx: &GpuContext, b: &Buffers, plan: &Plan) -> Result<Pipelines> {
        let update = match &plan.neuron_kernel {
            Some(source) => ctx.pipeline_from_source("neuron_update", "neuron_update", source)?,
            None => ctx.pipeline("neuron_update")?,
        };
        let update_bg = ctx.bind(
            &update,
            "neuron_update",
            &[
                ("globals", &b.globals),
                ("pops", &b.pops),
                ("v", &b.v),
                ("i_syn", &b.i_syn),
                ("refractory", &b.refractory),
                ("v_drive", &b.v_drive),
                ("ring", &b.ring),
                ("control", &b.control),
                ("spikes", &b.spikes),
                ("spike_record", &b.spike_record),
                ("poisson", &b.poisson),
                ("poisson_cdf", &b.poisson_cdf),
                ("aux", &b.aux),
            ],
        )?;
        let prepare = ctx.pipeline("prepare_spikes")?;
        let prepare_bg = ctx.bind(
            &prepare,
            "prepare_spikes",
            &[
                ("control", &b.control),
                ("propagate_args", &b.propagate_args),
            ],
        )?;
        let propagate = ctx.pipeline("propagate")?;
        let propagate_bgs = b
            .synapse_chunks
            .iter()
            .map(|(records, chunk)| {
                ctx.bind(
                    &propagate,
                    "propagate",
                    &[
                        ("globals", &b.globals),
                        ("chunk", chunk),
                        ("control", &b.control),
                        ("spikes", &b.spikes),
                        ("row_ptr", &b.row_ptr),
                        ("syn_words", records),
                        ("ring", &b.ring),
                    ],
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let record = ctx.pipeline("record_state")?;
        let record_bg = ctx.bind(
            &record,
            "record_state",
            &[
                ("globals", &b.globals),
                ("entries", &b.state_entries),
                ("v", &b.v),
                ("i_syn", &b.i_syn),
                ("control", &b.control),
                ("state_record", &b.state_record),
            ],
        )?;
        Ok(Pipelines {
            neuron_update: (update, update_bg),
            prepare_spikes: (prepare, prepare_bg),
            propagate: (propagate, propagate_bgs),
            record_state: (record, record_bg),
        })
    }
}

impl Executor for GpuBackend {
    fn description(&self) -> String {
        context::describe(&self.ctx.info)
    }

    fn kind(&self) -> &'static str {
        "gpu"
    }

    fn run_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<ChunkRecord> {
        let scope = self.ctx.scope();
        super::check_chunk(self.plan.chunk_steps, 0, first_step, steps, feed)?;
        let (b, p, plan) = (&self.buffers, &self.pipelines, &self.plan);
        let control = Control::chunk(first_step, self.health);
        self.ctx
            .queue
            .write_buffer(&b.control, 0, bytemuck::bytes_of(&control));
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        encoder.clear_buffer(&b.spike_record, 0, None);
        encoder.clear_buffer(&b.state_record, 0, None);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("steps"),
                timestamp_writes: None,
            });
            for _ in 0..steps {
                for d in &plan.dispatches {
                    match d {
                        Dispatch::RecordState { groups } => {
                            pass.set_pipeline(&p.record_state.0);
                            pass.set_bind_group(0, &p.record_state.1, &[]);
                            pass.dispatch_workgroups(groups[0], groups[1], 1);
                        }
                        Dispatch::NeuronUpdate { groups } => {
                            pass.set_pipeline(&p.neuron_update.0);
                            pass.set_bind_group(0, &p.neuron_update.1, &[]);
                            pass.dispatch_workgroups(groups[0], groups[1], 1);
                        }
                        Dispatch::PrepareSpikes => {
                            pass.set_pipeline(&p.prepare_spikes.0);
                            pass.set_bind_group(0, &p.prepare_spikes.1, &[]);
                            pass.dispatch_workgroups(1, 1, 1);
                        }
                        Dispatch::Propagate => {
                            pass.set_pipeline(&p.propagate.0);
                            for bg in &p.propagate.1 {
                                pass.set_bind_group(0, bg, &[]);
                                pass.dispatch_workgroups_indirect(&b.propagate_args, 0);
                            }
                        }
                    }
                }
            }
        }
        let spike_bytes = plan.globals.rec_words as u64 * 4 * steps as u64;
        let state_bytes = plan.state_floats as u64 * 4;
        if spike_bytes > 0 {
            encoder.copy_buffer_to_buffer(&b.spike_record, 0, &b.spike_staging, 0, spike_bytes);
        }
        if state_bytes > 0 {
            encoder.copy_buffer_to_buffer(&b.state_record, 0, &b.state_staging, 0, state_bytes);
        }
        let control_bytes = std::mem::size_of::<Control>() as u64;
        if self.health {
            encoder.copy_buffer_to_buffer(&b.control, 0, &b.control_staging, 0, control_bytes);
        }
        self.ctx.queue.submit([encoder.finish()]);
        let spikes = self.read_staging(&b.spike_staging, spike_bytes)?;
        let state = self.read_staging(&b.state_staging, state_bytes)?;
        let fault = if self.health {
            let c: Vec<Control> = self.read_staging(&b.control_staging, control_bytes)?;
            HealthFault::found(c[0].bad_step, c[0].bad_neuron, c[0].bad_what)
        } else {
            None
        };
        self.ctx.wait()?;
        self.ctx.close(scope, "running a chunk of steps")?;
        Ok(ChunkRecord {
            steps,
            spike_words: spikes,
            values: state,
            fault,
        })
    }

    fn reset(&mut self) -> Result<()> {
        let scope = self.ctx.scope();
        let (q, b, plan) = (&self.ctx.queue, &self.buffers, &self.plan);
        q.write_buffer(&b.v, 0, bytemuck::cast_slice(&plan.v_init));
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        for buf in [&b.i_syn, &b.refractory, &b.ring, &b.spikes] {
            encoder.clear_buffer(buf, 0, None);
        }
        q.write_buffer(&b.control, 0, bytemuck::bytes_of(&Control::default()));
        q.submit([encoder.finish()]);
        self.ctx.wait()?;
        self.ctx.close(scope, "resetting the state")
    }

    fn set_health_check(&mut self, on: bool) {
        self.health = on;
    }

    fn read_words(&mut self, buffer: &str, first: usize, len: usize) -> Result<Vec<u32>> {
        if buffer == "syn_words" {
            return self.synapse_words(first, len);
        }
        let (src, size) = self.buffer(buffer)?;
        check_range(buffer, size, first, len)?;
        let scope = self.ctx.scope();
        let words = self.read_buffer(src, first as u64 * 4, len as u64 * 4)?;
        self.ctx.close(scope, "reading a buffer between steps")?;
        Ok(words)
    }

    fn write_words(&mut self, buffer: &str, first: usize, words: &[u32]) -> Result<()> {
        if buffer == "syn_words" {
            return self.write_synapse_words(first, words);
        }
        let (dst, size) = self.buffer(buffer)?;
        check_range(buffer, size, first, words.len())?;
        self.ctx.write_words(dst, first, words)
    }

    fn dispatches_per_step(&self) -> u32 {
        self.plan
            .dispatches
            .iter()
            .map(|d| match d {
                Dispatch::Propagate => self.buffers.synapse_chunks.len() as u32,
                _ => 1,
            })
            .sum()
    }

    fn device_bytes(&self) -> u64 {
        self.plan.buffer_bytes()
    }
}
