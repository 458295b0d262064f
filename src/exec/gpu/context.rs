//! Adapter choice and device creation.

use super::super::{GpuOptions, SharedDevice};
use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};

/// An open device with the adapter it came from.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Errors wgpu reports asynchronously; checked after each submission so a validation or
    /// out-of-memory error becomes an `Error::Device` instead of a panic.
    pub errors: Arc<Mutex<Vec<String>>>,
    /// Why the device was lost, once it has been (driver reset, removed adapter, `destroy`):
    /// sticky, so every later call fails too instead of reading back stale buffers.
    pub lost: Arc<Mutex<Option<String>>>,
    /// The device is the caller's ([`SharedDevice`]): lamina installs no error handler or
    /// device-lost callback on it (they would replace the caller's) and catches its own
    /// errors with error scopes around each operation instead ([`GpuContext::scope`]).
    pub shared: bool,
}

/// The error scopes around one operation on a shared device; empty on lamina's own device,
/// whose error handler collects everything. Holds no borrow, so an operation may change the
/// backend while it is open; dropping it unpopped (an early return) discards its errors.
pub struct Scope(Vec<wgpu::ErrorScopeGuard>);

fn backends_for(api: Option<&str>) -> Result<wgpu::Backends> {
    Ok(match api.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("any") => wgpu::Backends::all(),
        Some("vulkan") => wgpu::Backends::VULKAN,
        Some("gl") | Some("gles") | Some("opengl") => wgpu::Backends::GL,
        Some("metal") => wgpu::Backends::METAL,
        Some("dx12") => wgpu::Backends::DX12,
        // wgpu's no-op backend: accepts every call and runs nothing, so timing the step loop
        // on it measures the host's side alone (wgpu's validation and tracking, lamina's
        // encoding) on any machine. No kernel runs, so what kernels would write reads back as
        // zeros. Only ever used when named.
        Some("noop") => wgpu::Backends::NOOP,
        Some(other) => {
            return Err(Error::Device(format!(
                "unknown graphics API `{other}` (from LAMINA_BACKEND or the options); use vulkan, gl, metal, dx12 or noop"
            )))
        }
    })
}

fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    // wgpu offers the no-op adapter only when its options enable it as well (so that a real
    // run never lands on it by accident): enable it exactly when it was asked for by name.
    if backends == wgpu::Backends::NOOP {
        desc.backend_options.noop = wgpu::NoopBackendOptions::enabled();
    }
    wgpu::Instance::new(desc)
}

/// Adapters that can run lamina's kernels, best first (discrete, integrated, virtual, software).
pub fn usable_adapters(api: Option<&str>) -> Result<Vec<wgpu::Adapter>> {
    Ok(adapters_in(backends_for(api)?))
}

fn adapters_in(backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    let mut adapters: Vec<wgpu::Adapter> =
        pollster::block_on(instance(backends).enumerate_adapters(backends))
            .into_iter()
            .filter(|a| {
                let caps = a.get_downlevel_capabilities();
                caps.flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
                    && caps
                        .flags
                        .contains(wgpu::DownlevelFlags::INDIRECT_EXECUTION)
                    && a.limits().max_storage_buffers_per_shader_stage >= STORAGE_BUFFERS_NEEDED
            })
            .collect();
    let rank = |t: wgpu::DeviceType| match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    adapters.sort_by_key(|a| rank(a.get_info().device_type));
    adapters
}

/// The usable adapters of `api` (all with `None`), best first, as `BackendChoice::Auto`
/// weighs them.
pub fn adapter_summaries(api: Option<&str>) -> Result<Vec<crate::exec::AdapterSummary>> {
    Ok(usable_adapters(api)?
        .iter()
        .map(|a| {
            let info = a.get_info();
            crate::exec::AdapterSummary {
                name: info.name.clone(),
                api: format!("{:?}", info.backend),
                hardware: info.device_type != wgpu::DeviceType::Cpu,
            }
        })
        .collect())
}

/// One line describing an adapter: name, API, kind.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type)
}

/// Candidates for `open`: with no API named, the primary APIs (Vulkan, Metal, DX12) first, and
/// GL only if none of them has a usable adapter (starting EGL is slow and noisy).
fn candidates(api: Option<&str>) -> Result<Vec<wgpu::Adapter>> {
    if api.is_some() {
        return usable_adapters(api);
    }
    let primary = adapters_in(wgpu::Backends::PRIMARY);
    Ok(if primary.is_empty() {
        adapters_in(wgpu::Backends::GL)
    } else {
        primary
    })
}

/// Storage buffers one of lamina's kernels binds at most; adapters with fewer are not usable.
const STORAGE_BUFFERS_NEEDED: u32 = 13;

/// Opens the adapter selected by the options with its own limits, or takes the device the
/// caller handed over.
pub fn open(opts: &GpuOptions) -> Result<GpuContext> {
    if let Some(shared) = &opts.device {
        return from_shared(shared);
    }
    let adapter = select(opts)?;
    let info = adapter.get_info();
    let limits = adapter.limits();
    let desc = wgpu::DeviceDescriptor {
        label: Some("lamina"),
        required_features: wgpu::Features::empty(),
        required_limits: limits.clone(),
        experimental_features: wgpu::ExperimentalFeatures::default(),
        memory_hints: wgpu::MemoryHints::Performance,
        trace: wgpu::Trace::Off,
    };
    let (device, queue) = pollster::block_on(adapter.request_device(&desc))
        .map_err(|e| Error::Device(format!("adapter {} refused a device: {e}", describe(&info))))?;
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = errors.clone();
    device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
        sink.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e.to_string());
    }));
    let lost = Arc::new(Mutex::new(None));
    let lost_sink = lost.clone();
    device.set_device_lost_callback(move |reason, message| {
        *lost_sink.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(format!("{reason:?}: {message}"));
    });
    Ok(GpuContext {
        device,
        queue,
        info,
        limits,
        errors,
        lost,
        shared: false,
    })
}

/// The adapter `open` takes for these options (not the caller's own device).
fn select(opts: &GpuOptions) -> Result<wgpu::Adapter> {
    let candidates = candidates(opts.api.as_deref())?;
    let software = |a: &wgpu::Adapter| a.get_info().device_type == wgpu::DeviceType::Cpu;
    let mut matching: Vec<wgpu::Adapter> = match &opts.adapter {
        // Processes taking turns at the adapters take the hardware ones, if there are any.
        None if opts.nth.is_some() && candidates.iter().any(|a| !software(a)) => {
            candidates.into_iter().filter(|a| !software(a)).collect()
        }
        None => candidates,
        Some(name) => {
            let needle = name.to_ascii_lowercase();
            candidates
                .into_iter()
                .filter(|a| a.get_info().name.to_ascii_lowercase().contains(&needle))
                .collect()
        }
    };
    let nth = opts.nth.unwrap_or(0) % matching.len().max(1);
    let adapter = (nth < matching.len()).then(|| matching.swap_remove(nth));
    let Some(adapter) = adapter else {
        let what = match (&opts.api, &opts.adapter) {
            (Some(api), Some(name)) => format!("no {api} adapter named like `{name}`"),
            (Some(api), None) => format!("no {api} adapter with compute shaders"),
            (None, Some(name)) => format!("no adapter named like `{name}`"),
            (None, None) => "no adapter with compute shaders".to_string(),
        };
        return Err(Error::Device(format!(
            "{what}. Run `lamina adapters` to list them; install a driver (on Linux without a GPU, `apt-get install mesa-vulkan-drivers` gives a software adapter), or use the CPU backend"
        )));
    };
    Ok(adapter)
}

/// The largest buffer one binding may hold on the device `open` would open, and the device's
/// description, without opening it: for refusing a model before it is built.
pub fn binding_limit(opts: &GpuOptions) -> Result<(u64, String)> {
    let (limits, info) = match &opts.device {
        Some(shared) => (shared.device.limits(), shared.info.clone()),
        None => {
            let adapter = select(opts)?;
            (adapter.limits(), adapter.get_info())
        }
    };
    let limit = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size);
    Ok((limit, describe(&info)))
}

/// A context on the caller's device, after checking it can run lamina's kernels.
fn from_shared(shared: &SharedDevice) -> Result<GpuContext> {
    let limits = shared.device.limits();
    let have = limits.max_storage_buffers_per_shader_stage;
    if have < STORAGE_BUFFERS_NEEDED {
        return Err(Error::Device(format!(
            "the device handed to lamina on {} allows {have} storage buffers per shader stage; \
             lamina's kernels bind up to {STORAGE_BUFFERS_NEEDED}. Request the device with the \
             adapter's limits (`required_limits: adapter.limits()`) or at least \
             `max_storage_buffers_per_shader_stage: {STORAGE_BUFFERS_NEEDED}`",
            describe(&shared.info)
        )));
    }
    Ok(GpuContext {
        device: shared.device.clone(),
        queue: shared.queue.clone(),
        info: shared.info.clone(),
        limits,
        errors: Arc::new(Mutex::new(Vec::new())),
        lost: Arc::new(Mutex::new(None)),
        shared: true,
    })
}

impl GpuContext {
    /// Opens error scopes for one operation on a shared device (nothing on lamina's own);
    /// [`GpuContext::close`] ends the operation.
    pub fn scope(&self) -> Scope {
        if !self.shared {
            return Scope(Vec::new());
        }
        let filters = [
            wgpu::ErrorFilter::OutOfMemory,
            wgpu::ErrorFilter::Validation,
            wgpu::ErrorFilter::Internal,
        ];
        Scope(
            filters
                .into_iter()
                .map(|f| self.device.push_error_scope(f))
                .collect(),
        )
    }

    /// Ends an operation: pops its error scopes (innermost first) and reports, as
    /// [`GpuContext::check`] does, every error wgpu saw during it.
    pub fn close(&self, scope: Scope, during: &str) -> Result<()> {
        for guard in scope.0.into_iter().rev() {
            if let Some(e) = pollster::block_on(guard.pop()) {
                self.errors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(e.to_string());
            }
        }
        self.check(during)
    }

    /// Blocks until the device has finished everything submitted.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| Error::Device(format!("waiting for the GPU: {e}")))
    }

    /// Maps the first `bytes` of a staging buffer for `mode`, waiting for the device until it
    /// is mapped. `during` names the work in errors.
    pub fn map(
        &self,
        staging: &wgpu::Buffer,
        bytes: u64,
        mode: wgpu::MapMode,
        during: &str,
    ) -> Result<()> {
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..bytes).map_async(mode, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        // A lost device fails every mapping: say that, not the symptom.
        let failed = |what: String| self.check(during).err().unwrap_or(Error::Device(what));
        rx.recv()
            .map_err(|_| failed(format!("{during}: the mapping callback never ran")))?
            .map_err(|e| failed(format!("{during}: mapping a staging buffer: {e}")))
    }

    /// Maps the first `bytes` of a MAP_READ staging buffer, copies them out and unmaps it;
    /// waits for the device first.
    pub fn read_mapped<T: bytemuck::Pod>(
        &self,
        staging: &wgpu::Buffer,
        bytes: u64,
    ) -> Result<Vec<T>> {
        if bytes == 0 {
            return Ok(Vec::new());
        }
        self.map(
            staging,
            bytes,
            wgpu::MapMode::Read,
            "reading back from the GPU",
        )?;
        let data = bytemuck::pod_collect_to_vec(
            &staging
                .slice(..bytes)
                .get_mapped_range()
                .map_err(|e| Error::Device(format!("reading a mapped buffer: {e:?}")))?,
        );
        staging.unmap();
        Ok(data)
    }

    /// Overwrites `words` of `buffer` from word `first` and waits until the device has them
    /// (between steps: the next chunk must see them).
    pub fn write_words(&self, buffer: &wgpu::Buffer, first: usize, words: &[u32]) -> Result<()> {
        if words.is_empty() {
            return Ok(());
        }
        let scope = self.scope();
        self.queue
            .write_buffer(buffer, first as u64 * 4, bytemuck::cast_slice(words));
        self.queue.submit([]);
        self.wait()?;
        self.close(scope, "writing a buffer between steps")
    }

    /// The compute pipeline of a built-in kernel (entry point `main`, layout from the kernel
    /// registry),
    /// validated by naga first.
    pub fn pipeline(&self, name: &str) -> Result<wgpu::ComputePipeline> {
        let src = crate::wgsl::source(name)?;
        self.pipeline_from_source(name, name, &src)
    }

    /// A compute pipeline of generated WGSL (a kernel with user models spliced in), validated
    /// first: `kernel` names its registry entry, `label` the pipeline in errors.
    pub fn pipeline_from_source(
        &self,
        kernel: &str,
        label: &str,
        src: &str,
    ) -> Result<wgpu::ComputePipeline> {
        crate::wgsl::validate(label, src)?;
        let src = src.to_string();
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(src.into()),
            });
        let layout = self.layout(crate::kernels::kernel(kernel)?);
        Ok(self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: Some(&layout),
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            }))
    }

    /// The pipeline layout of a kernel, from its bindings in the registry.
    fn layout(&self, kernel: &crate::kernels::Kernel) -> wgpu::PipelineLayout {
        use crate::kernels::Access;
        let entries: Vec<wgpu::BindGroupLayoutEntry> = kernel
            .bindings
            .iter()
            .enumerate()
            .map(|(i, (_, access))| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match access {
                        Access::Uniform => wgpu::BufferBindingType::Uniform,
                        Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
                        Access::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let group = self
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(kernel.name),
                entries: &entries,
            });
        self.device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(kernel.name),
                bind_group_layouts: &[Some(&group)],
                immediate_size: 0,
            })
    }

    /// A bind group of whole buffers, named as the kernel's bindings in the registry and in
    /// their order: a name out of place is refused, so a buffer cannot land in another's slot.
    pub fn bind(
        &self,
        pipeline: &wgpu::ComputePipeline,
        kernel: &str,
        buffers: &[(&str, &wgpu::Buffer)],
    ) -> Result<wgpu::BindGroup> {
        let declared = crate::kernels::kernel(kernel)?.bindings;
        let names: Vec<&str> = buffers.iter().map(|(name, _)| *name).collect();
        let want: Vec<&str> = declared.iter().map(|(name, _)| *name).collect();
        if names != want {
            return Err(Error::Shader {
                name: kernel.into(),
                message: format!("bound {names:?}; the kernel registry declares {want:?}"),
            });
        }
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, (_, b))| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        Ok(self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        }))
    }

    /// Turns errors wgpu reported since the last check into an `Error::Device`.
    pub fn check(&self, during: &str) -> Result<()> {
        if let Some(why) = &*self.lost.lock().unwrap_or_else(|p| p.into_inner()) {
            return Err(Error::Device(format!(
                "{during} failed: the GPU device {} was lost ({why}); its buffers are gone. \
                 Resume from a checkpoint (Simulator::resume) on a new device, another adapter \
                 (LAMINA_ADAPTER), or the CPU backend",
                describe(&self.info)
            )));
        }
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if errors.is_empty() {
            return Ok(());
        }
        let all = errors.drain(..).collect::<Vec<_>>().join("\n");
        Err(Error::Device(format!(
            "{during} failed on {}: {all}\nTry a smaller model, another adapter (LAMINA_ADAPTER), or the CPU backend",
            describe(&self.info)
        )))
    }
}
