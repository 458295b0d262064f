//! Device buffers of a Plan, split where an array could exceed one storage binding, and checked
//! against the adapter's limits before anything is allocated.

use super::context::GpuContext;
use crate::error::{Error, Result};
use crate::lower::layout::{Control, SynapseChunk};
use crate::lower::packing::RECORD_ALIGNMENT;
use crate::lower::Plan;
use wgpu::util::DeviceExt;

/// How many synapse records one chunk holds under a binding limit (a multiple of
/// `RECORD_ALIGNMENT`, so chunks start at word boundaries).
pub fn synapses_per_chunk(max_binding_bytes: u64, record_bits: u32) -> u64 {
    let words = (max_binding_bytes / 4).saturating_sub(1);
    (words * 32 / record_bits as u64 / RECORD_ALIGNMENT * RECORD_ALIGNMENT).max(RECORD_ALIGNMENT)
}

/// Refuses a plan whose whole-bound buffers exceed the limits, naming the buffer, its size,
/// the limit and the adapter.
pub fn check_limits(plan: &Plan, max_binding: u64, max_buffer: u64, adapter: &str) -> Result<()> {
    for (what, bytes) in plan.whole_buffers() {
        if bytes > max_binding.min(max_buffer) {
            let (limit_name, limit) = if max_binding <= max_buffer {
                ("max_storage_buffer_binding_size", max_binding)
            } else {
                ("max_buffer_size", max_buffer)
            };
            return Err(Error::Device(format!(
                "the model does not fit adapter {adapter}: {what} needs {bytes} bytes, above its {limit_name} of {limit} bytes. Use fewer neurons or shorter delays, an adapter with larger limits, or the CPU backend"
            )));
        }
    }
    Ok(())
}

/// The device buffers.
pub struct Buffers {
    pub globals: wgpu::Buffer,
    pub pops: wgpu::Buffer,
    pub v: wgpu::Buffer,
    pub i_syn: wgpu::Buffer,
    pub refractory: wgpu::Buffer,
    pub v_drive: wgpu::Buffer,
    pub ring: wgpu::Buffer,
    pub control: wgpu::Buffer,
    pub spikes: wgpu::Buffer,
    pub spike_record: wgpu::Buffer,
    pub poisson: wgpu::Buffer,
    pub poisson_cdf: wgpu::Buffer,
    pub aux: wgpu::Buffer,
    pub state_entries: wgpu::Buffer,
    pub state_record: wgpu::Buffer,
    pub row_ptr: wgpu::Buffer,
    /// Per chunk: its synapse records and its uniform.
    pub synapse_chunks: Vec<(wgpu::Buffer, wgpu::Buffer)>,
    /// Per chunk: the range of `plan.syn_words` its records buffer holds (neighbours share a
    /// word).
    pub synapse_chunk_words: Vec<std::ops::Range<usize>>,
    pub propagate_args: wgpu::Buffer,
    /// MAP_READ copies of the two records.
    pub spike_staging: wgpu::Buffer,
    pub state_staging: wgpu::Buffer,
    /// MAP_READ copy of the control block (the health check's findings).
    pub control_staging: wgpu::Buffer,
}

/// Empty arrays are padded: a binding must hold at least one element of its type (the largest
/// struct bound as an array is 64 bytes).
const MIN_BINDING_BYTES: usize = 64;

/// Pads small arrays to a valid binding; large ones (the synapse records) are not copied.
fn bytes_or_pad(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if data.len() >= MIN_BINDING_BYTES && data.len().is_multiple_of(4) {
        return std::borrow::Cow::Borrowed(data);
    }
    let mut v = data.to_vec();
    v.resize(v.len().max(MIN_BINDING_BYTES).next_multiple_of(4), 0);
    std::borrow::Cow::Owned(v)
}

impl Buffers {
    /// Writes the plan's synapse records into their chunks through one reused staging buffer,
    /// a chunk per submission. Creating the buffers with their contents staged a second copy of
    /// every record at once (1.8 GB at full microcircuit scale), and letting the queue stage
    /// each write made fresh staging memory per chunk; on a software adapter each fresh page is
    /// a page fault, and those faults were most of the upload's time.
    pub fn upload_synapse_records(&self, ctx: &GpuContext, plan: &Plan) -> Result<()> {
        const UPLOADING: &str = "uploading the synapse records";
        let largest = self.synapse_chunk_words.iter().map(|w| w.len()).max();
        let Some(largest) = largest.filter(|&n| n > 0) else {
            return Ok(());
        };
        let staging = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("synapse record staging"),
            size: largest as u64 * 4,
            usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: true,
        });
        for (k, ((records, _), words)) in self
            .synapse_chunks
            .iter()
            .zip(&self.synapse_chunk_words)
            .enumerate()
        {
            let bytes = words.len() as u64 * 4;
            if k > 0 {
                ctx.map(&staging, bytes, wgpu::MapMode::Write, UPLOADING)?;
            }
            staging
                .slice(..bytes)
                .get_mapped_range_mut()
                .map_err(|e| Error::Device(format!("{UPLOADING}: {e:?}")))?
                .copy_from_slice(bytemuck::cast_slice(&plan.syn_words[words.clone()]));
            staging.unmap();
            let mut encoder = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("synapse record upload"),
                });
            encoder.copy_buffer_to_buffer(&staging, 0, records, 0, bytes);
            ctx.queue.submit([encoder.finish()]);
        }
        ctx.wait()
    }

    pub fn new(device: &wgpu::Device, plan: &Plan, max_binding: u64) -> Buffers {
        use wgpu::BufferUsages as U;
        let storage = U::STORAGE | U::COPY_DST | U::COPY_SRC;
        let init = |label: &str, data: &[u8], usage: U| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &bytes_or_pad(data),
                usage,
            })
        };
        let zeroed = |label: &str, bytes: u64, usage: U| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (bytes as usize).max(MIN_BINDING_BYTES).next_multiple_of(4) as u64,
                usage,
                mapped_at_creation: false,
            })
        };
        let n = plan.neuron_count() as u64;
        let g = &plan.globals;
        let spike_record_bytes = g.rec_words as u64 * 4 * plan.chunk_steps as u64;
        let state_bytes = plan.state_floats as u64 * 4;

        let (synapse_chunks, synapse_chunk_words) = synapse_chunks(
            plan,
            max_binding,
            |label, bytes| zeroed(label, bytes, storage),
            |label, data| init(label, data, U::UNIFORM | U::COPY_DST),
        );

        Buffers {
            globals: init(
                "globals",
                bytemuck::bytes_of(&plan.globals),
                U::UNIFORM | U::COPY_DST,
            ),
            pops: init("populations", bytemuck::cast_slice(&plan.pops), storage),
            v: init("v", bytemuck::cast_slice(&plan.v_init), storage),
            i_syn: zeroed("i_syn", n * 8, storage),
            refractory: zeroed("refractory", n * 4, storage),
            v_drive: init("v_drive", bytemuck::cast_slice(&plan.v_drive), storage),
            ring: zeroed("delay ring", g.ring_slots as u64 * n * 8, storage),
            control: init("control", bytemuck::bytes_of(&Control::default()), storage),
            spikes: zeroed("spike list", n * 4, storage),
            spike_record: zeroed("spike record", spike_record_bytes, storage),
            poisson: init("poisson", bytemuck::cast_slice(&plan.poisson), storage),
            poisson_cdf: init(
                "poisson cdf",
                bytemuck::cast_slice(&plan.poisson_cdf),
                storage,
            ),
            aux: init("spike sources", bytemuck::cast_slice(&plan.aux), storage),
            state_entries: init(
                "state entries",
                bytemuck::cast_slice(&plan.state_entries),
                storage,
            ),
            state_record: zeroed("state record", state_bytes, storage),
            row_ptr: init("row pointers", bytemuck::cast_slice(&plan.row_ptr), storage),
            synapse_chunks,
            synapse_chunk_words,
            propagate_args: init(
                "propagate args",
                bytemuck::cast_slice(&[0u32; 4]),
                U::STORAGE | U::INDIRECT,
            ),
            spike_staging: zeroed(
                "spike staging",
                spike_record_bytes,
                U::MAP_READ | U::COPY_DST,
            ),
            state_staging: zeroed("state staging", state_bytes, U::MAP_READ | U::COPY_DST),
            control_staging: zeroed(
                "control staging",
                size_of::<Control>() as u64,
                U::MAP_READ | U::COPY_DST,
            ),
        }
    }
}

/// The synapse records split into chunks of at most `max_binding` bytes, each an empty
/// records buffer (filled by `upload_synapse_records`) with its `SynapseChunk` uniform, and
/// the words of the plan's records each holds.
fn synapse_chunks(
    plan: &Plan,
    max_binding: u64,
    zeroed: impl Fn(&str, u64) -> wgpu::Buffer,
    uniform: impl Fn(&str, &[u8]) -> wgpu::Buffer,
) -> (
    Vec<(wgpu::Buffer, wgpu::Buffer)>,
    Vec<std::ops::Range<usize>>,
) {
    let format = &plan.syn_format;
    let per_chunk = synapses_per_chunk(max_binding, format.record_bits);
    let total = plan.synapse_count();
    let mut synapse_chunks = Vec::new();
    let mut synapse_chunk_words = Vec::new();
    let mut base = 0u64;
    loop {
        let len = per_chunk.min(total - base);
        // Chunks start at multiples of RECORD_ALIGNMENT records, hence at word boundaries;
        // each carries the word after its last record too (decoding reads two words).
        let first_word = (base * format.record_bits as u64 / 32) as usize;
        let word_range = first_word..first_word + format.words_for(len) as usize;
        let bytes = word_range.len() as u64 * 4;
        synapse_chunk_words.push(word_range);
        let chunk = SynapseChunk {
            base: base as u32,
            len: len as u32,
            _pad: [0; 2],
        };
        synapse_chunks.push((
            zeroed("synapse records", bytes),
            uniform("synapse chunk", bytemuck::bytes_of(&chunk)),
        ));
        base += len;
        if base >= total {
            break;
        }
    }
    (synapse_chunks, synapse_chunk_words)
}
