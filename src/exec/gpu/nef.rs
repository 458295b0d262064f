//! The wgpu backend of a NEF plan: `sig`, `w` and the record on the device, one pipeline per
//! NEF kernel, one bind group per dispatch of the step (each dispatch has its own descriptor
//! table), a whole chunk of steps encoded into one submission, the record read back once per
//! chunk.

use super::context::{self, GpuContext};
use crate::error::{Error, Result};
use crate::exec::{check_range, no_buffer, ChunkRecord, Executor, GpuOptions};
use crate::lower::layout::{MAX_GROUPS_PER_DIM, WORKGROUP_SIZE};
use crate::lower::nef::layout::{NefControl, NefGlobals};
use crate::lower::nef::{NefDispatch, NefPlan};
use std::collections::HashMap;
use std::sync::Arc;
use wgpu::util::DeviceExt;

/// The device buffers shared by the dispatches.
struct NefBuffers {
    globals: wgpu::Buffer,
    control: wgpu::Buffer,
    sig: wgpu::Buffer,
    w: wgpu::Buffer,
    record: wgpu::Buffer,
    feed: wgpu::Buffer,
    feed_dst: wgpu::Buffer,
    ensembles: wgpu::Buffer,
    coefs: wgpu::Buffer,
    record_rows: wgpu::Buffer,
    staging: wgpu::Buffer,
    bytes: u64,
}

/// One dispatch of the step, ready to encode, or a callback node to call on the host.
enum Launch {
    Kernel {
        pipeline: usize,
        bind_group: wgpu::BindGroup,
        groups: [u32; 2],
    },
    Host(usize),
}

/// A NEF plan running on a GPU adapter.
pub struct GpuNef {
    ctx: GpuContext,
    plan: Arc<NefPlan>,
    buffers: NefBuffers,
    pipelines: Vec<wgpu::ComputePipeline>,
    launches: Vec<Launch>,
}

/// Workgroups for `rows` threads of 64, as (x, y) with x = MAX_GROUPS_PER_DIM when y > 1
/// (see `nef_row` in shaders/shared/nef_types.wgsl).
fn groups(rows: usize) -> [u32; 2] {
    let g = (rows as u64).div_ceil(WORKGROUP_SIZE as u64).max(1);
    let max = MAX_GROUPS_PER_DIM as u64;
    [g.min(max) as u32, g.div_ceil(max) as u32]
}

/// The bytes unchanged, or 16 zero bytes for an empty array: wgpu refuses empty bindings.
/// Never pads a non-empty table: kernels take their row count from `arrayLength`.
fn padded(bytes: &[u8]) -> Vec<u8> {
    if bytes.is_empty() {
        vec![0; 16]
    } else {
        bytes.to_vec()
    }
}

/// The descriptor tables dispatch `d` owns (in its kernel's binding order), and the rows its
/// threads cover.
fn dispatch_tables(
    device: &wgpu::Device,
    plan: &NefPlan,
    d: &NefDispatch,
) -> (Vec<wgpu::Buffer>, usize) {
    let table = |label: &str, bytes: &[u8]| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: &padded(bytes),
            usage: wgpu::BufferUsages::STORAGE,
        })
    };
    // Buffers in binding order, as each kernel declares them.
    match d {
        NefDispatch::Sum { rows, entries } => (
            vec![
                table("sum rows", bytemuck::cast_slice(rows)),
                table("sum entries", bytemuck::cast_slice(entries)),
            ],
            rows.len(),
        ),
        NefDispatch::MatVec { rows } => (
            vec![table("matvec rows", bytemuck::cast_slice(rows))],
            rows.len(),
        ),
        NefDispatch::Neurons { rows } => (
            vec![table("neuron rows", bytemuck::cast_slice(rows))],
            rows.len(),
        ),
        NefDispatch::Pes { rows } => (
            vec![table("pes rows", bytemuck::cast_slice(rows))],
            rows.len(),
        ),
        NefDispatch::Filter { rows } => (
            vec![table("filter rows", bytemuck::cast_slice(rows))],
            rows.len(),
        ),
        NefDispatch::Synapse { rule, rows } => (
            vec![
                table("synapse model rows", bytemuck::cast_slice(rows)),
                table(
                    "synapse model info",
                    bytemuck::cast_slice(&plan.rules[*rule].info),
                ),
            ],
            rows.len(),
        ),
        NefDispatch::Feed => (Vec::new(), plan.feed_width()),
        NefDispatch::Record => (Vec::new(), plan.record_rows.len()),
        NefDispatch::Advance => (Vec::new(), 1),
        NefDispatch::Host { .. } => unreachable!("a host call binds no kernel"),
    }
}

/// The buffers dispatch `d` binds, named as its kernel's bindings, in their order.
fn bindings<'a>(
    d: &NefDispatch,
    b: &'a NefBuffers,
    owned: &'a [wgpu::Buffer],
) -> Vec<(&'static str, &'a wgpu::Buffer)> {
    match d {
        NefDispatch::Feed => vec![
            ("sig", &b.sig),
            ("control", &b.control),
            ("feed_dst", &b.feed_dst),
            ("feed", &b.feed),
        ],
        NefDispatch::Sum { .. } => vec![
            ("globals", &b.globals),
            ("sig", &b.sig),
            ("rows", &owned[0]),
            ("entries", &owned[1]),
        ],
        NefDispatch::MatVec { .. } => vec![
            ("globals", &b.globals),
            ("sig", &b.sig),
            ("w", &b.w),
            ("rows", &owned[0]),
        ],
        NefDispatch::Neurons { .. } => vec![
            ("globals", &b.globals),
            ("sig", &b.sig),
            ("ensembles", &b.ensembles),
            ("rows", &owned[0]),
        ],
        NefDispatch::Record => vec![
            ("sig", &b.sig),
            ("w", &b.w),
            ("control", &b.control),
            ("rows", &b.record_rows),
            ("record", &b.record),
        ],
        NefDispatch::Pes { .. } => vec![
            ("globals", &b.globals),
            ("sig", &b.sig),
            ("w", &b.w),
            ("rows", &owned[0]),
        ],
        NefDispatch::Filter { .. } => vec![
            ("globals", &b.globals),
            ("sig", &b.sig),
            ("coefs", &b.coefs),
            ("rows", &owned[0]),
        ],
        NefDispatch::Synapse { .. } => vec![
            ("globals", &b.globals),
            ("control", &b.control),
            ("sig", &b.sig),
            ("w", &b.w),
            ("rows", &owned[0]),
            ("info", &owned[1]),
        ],
        NefDispatch::Advance => vec![("control", &b.control)],
        NefDispatch::Host { .. } => unreachable!("a host call binds no kernel"),
    }
}

/// Refuses a plan with an array larger than one binding may hold (`limit` bytes), naming the
/// array, its size, the limit and the adapter. NEF arrays are bound whole.
pub fn check_limits(plan: &NefPlan, limit: u64, adapter: &str) -> Result<()> {
    let feed_floats = plan.chunk_steps as usize * plan.feed_width();
    for (what, floats) in [
        ("the signals (`sig`)", plan.sig.len()),
        ("the weight matrices (`w`)", plan.w.len()),
        ("the probe record of one chunk", plan.record_len),
        ("the feed table of one chunk", feed_floats),
    ] {
        if floats as u64 * 4 > limit {
            return Err(Error::Device(format!(
                "{what} take {:.1} MiB, above the {:.1} MiB one binding may hold on {adapter}. \
                 Use smaller dense weight matrices (decoded connections are far smaller than \
                 weight solvers), probe less or sample less often, or run on the CPU backend",
                floats as f64 * 4.0 / (1 << 20) as f64,
                limit as f64 / (1 << 20) as f64,
            )));
        }
    }
    Ok(())
}

impl GpuNef {
    pub fn new(plan: &Arc<NefPlan>, opts: &GpuOptions) -> Result<GpuNef> {
        let ctx = context::open(opts)?;
        let scope = ctx.scope();
        let device = &ctx.device;
        let limit =
            (ctx.limits.max_storage_buffer_binding_size as u64).min(ctx.limits.max_buffer_size);
        check_limits(plan, limit, &context::describe(&ctx.info))?;
        let feed_floats = plan.chunk_steps as usize * plan.feed_width();
        let storage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let init = |label: &str, bytes: &[u8], usage: wgpu::BufferUsages| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &padded(bytes),
                usage,
            })
        };
        let control = NefControl {
            feed_width: plan.feed_width() as u32,
            ..NefControl::default()
        };
        let record_bytes = (plan.record_len as u64 * 4).max(16);
        let weights_bytes = (plan.w.len() as u64 * 4).max(16);
        let sig_bytes = (plan.sig.len() as u64 * 4).max(16);
        let buffers = NefBuffers {
            globals: init(
                "nef globals",
                bytemuck::bytes_of(&NefGlobals::default()),
                wgpu::BufferUsages::UNIFORM,
            ),
            control: init("nef control", bytemuck::bytes_of(&control), storage),
            sig: init("nef sig", bytemuck::cast_slice(&plan.sig), storage),
            w: init("nef w", bytemuck::cast_slice(&plan.w), storage),
            record: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("nef record"),
                size: record_bytes,
                usage: storage,
                mapped_at_creation: false,
            }),
            feed: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("nef feed"),
                size: (feed_floats as u64 * 4).max(16),
                usage: storage,
                mapped_at_creation: false,
            }),
            feed_dst: init(
                "nef feed_dst",
                bytemuck::cast_slice(&plan.feed_dst),
                storage,
            ),
            ensembles: init(
                "nef ensembles",
                bytemuck::cast_slice(&plan.ensembles),
                storage,
            ),
            coefs: init(
                "nef coefs",
                bytemuck::cast_slice(&plan.filter_coefs),
                storage,
            ),
            record_rows: init(
                "nef record rows",
                bytemuck::cast_slice(&plan.record_rows),
                storage,
            ),
            staging: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("nef staging"),
                size: record_bytes.max(weights_bytes).max(sig_bytes),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            bytes: 0,
        };
        let mut gpu = GpuNef {
            plan: Arc::clone(plan),
            buffers,
            pipelines: Vec::new(),
            launches: Vec::new(),
            ctx,
        };
        gpu.build_launches()?;
        gpu.buffers.bytes =
            4 * (plan.sig.len() + plan.w.len() + plan.record_len + feed_floats) as u64;
        gpu.ctx
            .close(scope, "creating the NEF buffers and pipelines")?;
        Ok(gpu)
    }

    fn build_launches(&mut self) -> Result<()> {
        let mut index: HashMap<&'static str, usize> = HashMap::new();
        let mut launches = Vec::new();
        let plan = Arc::clone(&self.plan);
        for d in &plan.dispatches {
            if let NefDispatch::Host { node } = d {
                launches.push(Launch::Host(*node));
                continue;
            }
            let pipeline = self.pipeline_for(d, &mut index)?;
            let (owned, rows) = dispatch_tables(&self.ctx.device, &plan, d);
            let bufs = bindings(d, &self.buffers, &owned);
            let bind_group = self
                .ctx
                .bind(&self.pipelines[pipeline], d.kernel(), &bufs)?;
            let groups = if matches!(d, NefDispatch::Advance) {
                [1, 1]
            } else {
                groups(rows)
            };
            launches.push(Launch::Kernel {
                pipeline,
                bind_group,
                groups,
            });
        }
        self.launches = launches;
        Ok(())
    }

    /// The pipeline of dispatch `d`: one per built-in kernel (`index` keeps them), and one per
    /// synapse model, each generated from its snippets.
    fn pipeline_for(
        &mut self,
        d: &NefDispatch,
        index: &mut HashMap<&'static str, usize>,
    ) -> Result<usize> {
        let name = d.kernel();
        let pipeline = match (d, index.get(name)) {
            (NefDispatch::Synapse { rule, .. }, _) => {
                let r = &self.plan.rules[*rule];
                let label = format!("synapse model `{}`", r.model.name());
                self.ctx.pipeline_from_source(name, &label, &r.source)?
            }
            (_, Some(&p)) => return Ok(p),
            (_, None) => {
                index.insert(name, self.pipelines.len());
                self.ctx.pipeline(name)?
            }
        };
        self.pipelines.push(pipeline);
        Ok(self.pipelines.len() - 1)
    }

    /// The float buffer named `name` (`sig` or `w`) and its length in floats.
    fn array(&self, name: &str) -> Result<(&wgpu::Buffer, usize)> {
        match name {
            "sig" => Ok((&self.buffers.sig, self.plan.sig.len())),
            "w" => Ok((&self.buffers.w, self.plan.w.len())),
            _ => Err(no_buffer(name, "GPU NEF")),
        }
    }

    /// Copies `floats` floats of `src` from float `first` back to the host.
    fn read_buffer(&self, src: &wgpu::Buffer, first: usize, floats: usize) -> Result<Vec<f32>> {
        let scope = self.ctx.scope();
        if floats == 0 {
            return Ok(Vec::new());
        }
        let bytes = floats as u64 * 4;
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(src, first as u64 * 4, &self.buffers.staging, 0, bytes);
        self.ctx.queue.submit([encoder.finish()]);
        let data = self.ctx.read_mapped(&self.buffers.staging, bytes)?;
        self.ctx.close(scope, "reading back")?;
        Ok(data)
    }
}

impl Executor for GpuNef {
    fn description(&self) -> String {
        context::describe(&self.ctx.info)
    }

    fn kind(&self) -> &'static str {
        "gpu"
    }

    fn run_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<ChunkRecord> {
        let scope = self.ctx.scope();
        let width = self.plan.feed_width();
        crate::exec::check_chunk(self.plan.chunk_steps, width, first_step, steps, feed)?;
        let (b, q) = (&self.buffers, &self.ctx.queue);
        let control = NefControl {
            step: first_step,
            chunk_start: first_step,
            feed_width: self.plan.feed_width() as u32,
            _pad: 0,
        };
        q.write_buffer(&b.control, 0, bytemuck::bytes_of(&control));
        if !feed.is_empty() {
            q.write_buffer(&b.feed, 0, bytemuck::cast_slice(feed));
        }
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        encoder.clear_buffer(&b.record, 0, None);
        let mut pass = Some(
            encoder
                .begin_compute_pass(&Default::default())
                .forget_lifetime(),
        );
        for step in first_step..first_step + steps {
            for l in &self.launches {
                match l {
                    Launch::Kernel {
                        pipeline,
                        bind_group,
                        groups,
                    } => {
                        let pass = pass.get_or_insert_with(|| {
                            encoder
                                .begin_compute_pass(&Default::default())
                                .forget_lifetime()
                        });
                        pass.set_pipeline(&self.pipelines[*pipeline]);
                        pass.set_bind_group(0, bind_group, &[]);
                        pass.dispatch_workgroups(groups[0], groups[1], 1);
                    }
                    Launch::Host(node) => {
                        // A round trip: run what is encoded, read the input, call, upload.
                        drop(pass.take());
                        let done = std::mem::replace(
                            &mut encoder,
                            self.ctx.device.create_command_encoder(&Default::default()),
                        );
                        q.submit([done.finish()]);
                        let h = &self.plan.host_nodes[*node];
                        let input = self.read_buffer(&b.sig, h.input as usize, h.size_in)?;
                        let t = (step as f64 + 1.0) * self.plan.dt;
                        let y = h.call(t, &input)?;
                        q.write_buffer(&b.sig, h.output as u64 * 4, bytemuck::cast_slice(&y));
                    }
                }
            }
        }
        drop(pass);
        q.submit([encoder.finish()]);
        // Wait even when nothing is recorded (the readback below would wait otherwise): a
        // chunk returns once its steps have run, so timings and errors belong to it.
        self.ctx.wait()?;
        self.ctx.close(scope, "running a chunk of steps")?;
        let mut record = self.read_buffer(&b.record, 0, self.plan.record_len)?;
        record.resize(self.plan.record_len, 0.0);
        Ok(ChunkRecord {
            steps,
            values: record,
            ..ChunkRecord::default()
        })
    }

    fn reset(&mut self) -> Result<()> {
        let scope = self.ctx.scope();
        let (q, b, plan) = (&self.ctx.queue, &self.buffers, &self.plan);
        if !plan.sig.is_empty() {
            q.write_buffer(&b.sig, 0, bytemuck::cast_slice(&plan.sig));
        }
        if !plan.w.is_empty() {
            q.write_buffer(&b.w, 0, bytemuck::cast_slice(&plan.w));
        }
        q.submit([]);
        self.ctx.wait()?;
        self.ctx.close(scope, "resetting the state")
    }

    fn dispatches_per_step(&self) -> u32 {
        self.plan.kernel_dispatches()
    }

    fn device_bytes(&self) -> u64 {
        self.buffers.bytes
    }

    fn set_health_check(&mut self, _on: bool) {}

    fn read_words(&mut self, buffer: &str, first: usize, len: usize) -> Result<Vec<u32>> {
        let (src, size) = self.array(buffer)?;
        check_range(buffer, size, first, len)?;
        Ok(bytemuck::cast_vec(self.read_buffer(src, first, len)?))
    }

    fn write_words(&mut self, buffer: &str, first: usize, words: &[u32]) -> Result<()> {
        let (dst, size) = self.array(buffer)?;
        check_range(buffer, size, first, words.len())?;
        self.ctx.write_words(dst, first, words)
    }
}
