//! The GPU executor: runs any `Program` through wgpu. Its buffers on the device, one compute
//! pipeline per kernel (and per generated kernel), one bind group per launch (per part of a
//! split buffer), a whole chunk of steps encoded into one submission, and the records read
//! back once per chunk through a ring of staging buffers, so that the next chunk can be
//! submitted before the last one's records are read. Host calls split the submission where
//! they stand.

mod buffers;
pub mod context;
mod readback;

pub use buffers::{check_limits, synapses_per_chunk};

use super::{check_range, no_buffer, ChunkRecord, Executor, GpuOptions, PIPELINE_DEPTH};
use crate::error::Result;
use crate::lower::packing::MAX_PART_BYTES;
use crate::lower::program::{Groups, Op, Program, Role};
use buffers::DeviceBuffer;
use context::GpuContext;
use readback::Readback;
use std::collections::HashMap;
use std::sync::Arc;

/// One op of the step, ready to encode.
enum Encoded {
    Launch {
        pipeline: usize,
        /// One per part of the split buffer it binds, else one.
        bind_groups: Vec<wgpu::BindGroup>,
        groups: Groups,
    },
    Host {
        node: usize,
        sig: usize,
    },
}

/// A program running on a GPU adapter.
pub struct GpuExecutor {
    ctx: GpuContext,
    program: Arc<Program>,
    buffers: Vec<DeviceBuffer>,
    pipelines: Vec<wgpu::ComputePipeline>,
    ops: Vec<Encoded>,
    /// The chunks in flight and the staging buffers their records come back through.
    readback: Readback,
    /// MAP_READ buffer for host calls' inputs, sized for the largest: a call may come every
    /// step, so it is made once.
    host_staging: Option<wgpu::Buffer>,
    /// Whether the health check runs.
    health: bool,
}

/// Lists usable adapters, best first, one line each.
pub fn adapters(api: Option<&str>) -> Result<Vec<String>> {
    Ok(context::usable_adapters(api)?
        .iter()
        .map(|a| context::describe(&a.get_info()))
        .collect())
}

impl GpuExecutor {
    pub fn new(program: &Arc<Program>, opts: &GpuOptions) -> Result<GpuExecutor> {
        program.check()?;
        let ctx = context::open(opts)?;
        let scope = ctx.scope();
        let max_binding = ctx.limits.max_storage_buffer_binding_size as u64;
        let max_buffer = ctx.limits.max_buffer_size;
        buffers::check_limits(
            program,
            max_binding,
            max_buffer,
            &context::describe(&ctx.info),
        )?;
        // A part is as large as one binding may be (the kernel addresses records by word, so
        // up to `MAX_PART_BYTES`), or as the caller caps it.
        let max_part = max_binding
            .min(max_buffer)
            .min(MAX_PART_BYTES)
            .min(opts.synapse_chunk_bytes.unwrap_or(u64::MAX));
        let indirect: Vec<usize> = program
            .launches()
            .filter_map(|l| l.groups.indirect_buffer())
            .collect();
        let buffers = buffers::create(&ctx, program, max_part, &indirect)?;
        let staging_for = |bytes: u64| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("host call staging"),
                size: bytes.max(16).next_multiple_of(4),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let readback = Readback::new(&ctx, program, PIPELINE_DEPTH);
        let largest_input = program
            .host_nodes
            .iter()
            .map(|h| h.size_in as u64 * 4)
            .max();
        let host_staging = largest_input.map(staging_for);
        let mut gpu = GpuExecutor {
            ctx,
            program: Arc::clone(program),
            buffers,
            pipelines: Vec::new(),
            ops: Vec::new(),
            readback,
            host_staging,
            health: false,
        };
        gpu.encode_ops()?;
        gpu.ctx.close(scope, "creating buffers and pipelines")?;
        Ok(gpu)
    }

    /// The wgpu device this executor runs on: for interop, and for tests that lose it on
    /// purpose (`destroy`).
    pub fn device(&self) -> &wgpu::Device {
        &self.ctx.device
    }

    /// A pipeline per kernel (built-in ones shared), a bind group per launch and part.
    fn encode_ops(&mut self) -> Result<()> {
        let program = Arc::clone(&self.program);
        let mut built: HashMap<&'static str, usize> = HashMap::new();
        for op in &program.ops {
            let launch = match op {
                Op::Host { node, sig } => {
                    self.ops.push(Encoded::Host {
                        node: *node,
                        sig: *sig,
                    });
                    continue;
                }
                Op::Launch(l) => l,
            };
            let pipeline = match (&launch.source, built.get(launch.kernel)) {
                (Some((source, label)), _) => {
                    let p = self
                        .ctx
                        .pipeline_from_source(launch.kernel, label, source)?;
                    self.pipelines.push(p);
                    self.pipelines.len() - 1
                }
                (None, Some(&p)) => p,
                (None, None) => {
                    self.pipelines.push(self.ctx.pipeline(launch.kernel)?);
                    built.insert(launch.kernel, self.pipelines.len() - 1);
                    self.pipelines.len() - 1
                }
            };
            let names = crate::kernels::kernel(launch.kernel)?.bindings;
            // A launch that binds a split buffer runs once per part.
            let split = launch.bind.iter().find_map(|&b| match &self.buffers[b] {
                DeviceBuffer::Split(parts) => Some(parts),
                DeviceBuffer::Whole(_) => None,
            });
            let mut bind_groups = Vec::new();
            for part in 0..split.map_or(1, Vec::len) {
                let bound: Vec<(&str, &wgpu::Buffer)> = launch
                    .bind
                    .iter()
                    .zip(names)
                    .map(|(&b, (name, _))| {
                        let buffer = match (&self.buffers[b], split) {
                            (DeviceBuffer::Split(parts), _) => &parts[part].buffer,
                            // The part's own `chunk` uniform in place of the whole one.
                            (DeviceBuffer::Whole(_), Some(parts)) if *name == "chunk" => {
                                &parts[part].chunk
                            }
                            (DeviceBuffer::Whole(buffer), _) => buffer,
                        };
                        (*name, buffer)
                    })
                    .collect();
                let bg = self
                    .ctx
                    .bind(&self.pipelines[pipeline], launch.kernel, &bound)?;
                bind_groups.push(bg);
            }
            self.ops.push(Encoded::Launch {
                pipeline,
                bind_groups,
                groups: launch.groups,
            });
        }
        Ok(())
    }

    /// `len` words of device buffer `k` from word `first`, across its parts, through a one-off
    /// staging buffer.
    fn read_device(&self, k: usize, first: usize, len: usize) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(len);
        for (buffer, offset, range) in self.buffers[k].parts(first..first + len) {
            let bytes = range.len() as u64 * 4;
            let staging = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback staging"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(buffer, offset as u64 * 4, &staging, 0, bytes);
            self.ctx.queue.submit([encoder.finish()]);
            out.extend(self.ctx.read_mapped::<u32>(&staging, bytes)?);
        }
        Ok(out)
    }

    /// Writes the chunk's control blocks and feed table.
    fn start_chunk(&self, first_step: u32, feed: &[f32]) {
        let (p, q) = (&self.program, &self.ctx.queue);
        for c in &p.controls {
            let words = c.words_for(first_step, self.health);
            q.write_buffer(
                self.buffers[c.buffer].whole(),
                0,
                bytemuck::cast_slice(&words),
            );
        }
        if let (Some(f), false) = (p.feed, feed.is_empty()) {
            q.write_buffer(
                self.buffers[f.buffer].whole(),
                0,
                bytemuck::cast_slice(feed),
            );
        }
    }

    /// Calls host node `node` at step `step`: reads its input from `sig`, writes its output.
    fn host_call(&self, node: usize, sig: usize, step: u32) -> Result<()> {
        let h = &self.program.host_nodes[node];
        let staging = self.host_staging.as_ref().expect("made for the host nodes");
        let (sig, bytes) = (self.buffers[sig].whole(), h.size_in as u64 * 4);
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(sig, h.input as u64 * 4, staging, 0, bytes);
        self.ctx.queue.submit([encoder.finish()]);
        let input: Vec<f32> = self.ctx.read_mapped(staging, bytes)?;
        let y = h.call((step as f64 + 1.0) * self.program.dt, &input)?;
        self.ctx
            .queue
            .write_buffer(sig, h.output as u64 * 4, bytemuck::cast_slice(&y));
        Ok(())
    }
}

impl Executor for GpuExecutor {
    fn description(&self) -> String {
        context::describe(&self.ctx.info)
    }

    fn kind(&self) -> &'static str {
        "gpu"
    }

    fn submit_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<()> {
        let scope = self.ctx.scope();
        let p = Arc::clone(&self.program);
        super::check_chunk(
            p.chunk_steps,
            p.feed.map_or(0, |f| f.width),
            first_step,
            steps,
            feed,
        )?;
        let slot = self.readback.next_slot()?;
        // Queued writes land after the chunks already submitted and before this one.
        self.start_chunk(first_step, feed);
        let device = &self.ctx.device;
        let mut encoder = device.create_command_encoder(&Default::default());
        for r in &p.records {
            encoder.clear_buffer(self.buffers[r.buffer].whole(), 0, None);
        }
        let mut pass = None;
        for step in first_step..first_step + steps {
            for op in &self.ops {
                match op {
                    Encoded::Launch {
                        pipeline,
                        bind_groups,
                        groups,
                    } => {
                        let pass = pass.get_or_insert_with(|| {
                            encoder
                                .begin_compute_pass(&Default::default())
                                .forget_lifetime()
                        });
                        pass.set_pipeline(&self.pipelines[*pipeline]);
                        for bg in bind_groups {
                            pass.set_bind_group(0, bg, &[]);
                            match groups {
                                Groups::Direct([x, y]) => pass.dispatch_workgroups(*x, *y, 1),
                                Groups::Indirect(b) | Groups::IndirectByParity(b) => pass
                                    .dispatch_workgroups_indirect(
                                        self.buffers[*b].whole(),
                                        groups.indirect_offset(step),
                                    ),
                            }
                        }
                    }
                    Encoded::Host { node, sig } => {
                        // A round trip: run what is encoded, read the input, call, upload.
                        drop(pass.take());
                        let done = std::mem::replace(
                            &mut encoder,
                            device.create_command_encoder(&Default::default()),
                        );
                        self.ctx.queue.submit([done.finish()]);
                        self.host_call(*node, *sig, step)?;
                    }
                }
            }
        }
        drop(pass);
        let record_bytes: Vec<u64> = p
            .records
            .iter()
            .map(|r| (r.fixed_words + r.words_per_step * steps as usize) as u64 * 4)
            .collect();
        let staging = self.readback.slot(slot);
        for ((r, staging), &bytes) in p.records.iter().zip(&staging.records).zip(&record_bytes) {
            if bytes > 0 {
                let src = self.buffers[r.buffer].whole();
                encoder.copy_buffer_to_buffer(src, 0, staging, 0, bytes);
            }
        }
        let mut health_bytes = 0;
        if let (Some(h), Some(staging), true) = (p.health, &staging.health, self.health) {
            health_bytes = p.buffers[h.buffer].bytes();
            let src = self.buffers[h.buffer].whole();
            encoder.copy_buffer_to_buffer(src, 0, staging, 0, health_bytes);
        }
        let submission = self.ctx.queue.submit([encoder.finish()]);
        self.readback
            .submitted(slot, steps, record_bytes, health_bytes, submission);
        self.ctx.close(scope, "submitting a chunk of steps")
    }

    fn collect_chunk(&mut self) -> Result<ChunkRecord> {
        let scope = self.ctx.scope();
        let record = self.readback.collect(&self.ctx, &self.program)?;
        self.ctx.close(scope, "running a chunk of steps")?;
        Ok(record)
    }

    fn recycle(&mut self, record: ChunkRecord) {
        self.readback.recycle(record);
    }

    fn max_in_flight(&self) -> usize {
        self.readback.depth()
    }

    fn in_flight(&self) -> usize {
        self.readback.in_flight()
    }

    fn reset(&mut self) -> Result<()> {
        let scope = self.ctx.scope();
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        for (def, device) in self.program.buffers.iter().zip(&self.buffers) {
            if !matches!(def.role, Role::State | Role::Scratch) {
                continue;
            }
            match def.contents.as_words() {
                Some(words) if !words.is_empty() => {
                    self.ctx
                        .queue
                        .write_buffer(device.whole(), 0, bytemuck::cast_slice(words))
                }
                _ => encoder.clear_buffer(device.whole(), 0, None),
            }
        }
        self.ctx.queue.submit([encoder.finish()]);
        self.ctx.wait()?;
        self.ctx.close(scope, "resetting the state")
    }

    fn set_health_check(&mut self, on: bool) {
        self.health = on;
    }

    fn read_words(&mut self, buffer: &str, first: usize, len: usize) -> Result<Vec<u32>> {
        let k = self
            .program
            .buffer(buffer)
            .ok_or_else(|| no_buffer(buffer, "GPU"))?;
        check_range(buffer, self.program.buffers[k].contents.words(), first, len)?;
        let scope = self.ctx.scope();
        let words = self.read_device(k, first, len)?;
        self.ctx.close(scope, "reading a buffer between steps")?;
        Ok(words)
    }

    fn write_words(&mut self, buffer: &str, first: usize, words: &[u32]) -> Result<()> {
        let k = self
            .program
            .buffer(buffer)
            .ok_or_else(|| no_buffer(buffer, "GPU"))?;
        check_range(
            buffer,
            self.program.buffers[k].contents.words(),
            first,
            words.len(),
        )?;
        let scope = self.ctx.scope();
        for (dst, offset, range) in self.buffers[k].parts(first..first + words.len()) {
            let part = &words[range.start - first..range.end - first];
            self.ctx
                .queue
                .write_buffer(dst, offset as u64 * 4, bytemuck::cast_slice(part));
        }
        self.ctx.queue.submit([]);
        self.ctx.wait()?;
        self.ctx.close(scope, "writing a buffer between steps")
    }

    fn dispatches_per_step(&self) -> u32 {
        self.ops
            .iter()
            .map(|op| match op {
                Encoded::Launch { bind_groups, .. } => bind_groups.len() as u32,
                Encoded::Host { .. } => 0,
            })
            .sum()
    }

    fn device_bytes(&self) -> u64 {
        self.program.bytes()
    }
}
