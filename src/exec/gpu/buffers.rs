//! A program's buffers on the device: each whole, or split into parts where it may exceed one
//! storage binding; checked against the adapter's limits before anything is allocated.

use super::context::GpuContext;
use crate::error::{Error, Result};
use crate::lower::layout::SynapseChunk;
use crate::lower::packing::records_per_part;
use crate::lower::program::{Buffer, Program, Split};
use std::ops::Range;

/// How many records of `record_bits` bits one part holds under a binding limit (a multiple of
/// `RECORD_ALIGNMENT`, so parts start at word boundaries; at most `MAX_PART_BYTES`).
pub fn synapses_per_chunk(max_binding_bytes: u64, record_bits: u32) -> u64 {
    records_per_part(max_binding_bytes, record_bits)
}

/// One part of a split buffer: its words of the whole, and the `chunk` uniform that tells the
/// kernel which records they are.
pub struct Part {
    pub buffer: wgpu::Buffer,
    pub words: Range<usize>,
    pub chunk: wgpu::Buffer,
}

/// A program buffer on the device.
pub enum DeviceBuffer {
    Whole(wgpu::Buffer),
    Split(Vec<Part>),
}

impl DeviceBuffer {
    /// The device buffers holding words `want` of it: (buffer, offset of the overlap in that
    /// buffer in words, the overlap as word indices of the whole).
    pub fn parts(&self, want: Range<usize>) -> Vec<(&wgpu::Buffer, usize, Range<usize>)> {
        match self {
            DeviceBuffer::Whole(b) => vec![(b, want.start, want)],
            DeviceBuffer::Split(parts) => parts
                .iter()
                .filter_map(|p| {
                    let (lo, hi) = (want.start.max(p.words.start), want.end.min(p.words.end));
                    (lo < hi).then(|| (&p.buffer, lo - p.words.start, lo..hi))
                })
                .collect(),
        }
    }

    /// The whole buffer; a split one has no single buffer.
    pub fn whole(&self) -> &wgpu::Buffer {
        match self {
            DeviceBuffer::Whole(b) => b,
            DeviceBuffer::Split(parts) => &parts[0].buffer,
        }
    }
}

/// Refuses a program with a buffer (not one that may be split) larger than one binding or
/// one buffer of the adapter, naming it, its size, the limit and what to do.
pub fn check_limits(p: &Program, max_binding: u64, max_buffer: u64, adapter: &str) -> Result<()> {
    let (limit_name, limit) = if max_binding <= max_buffer {
        ("max_storage_buffer_binding_size", max_binding)
    } else {
        ("max_buffer_size", max_buffer)
    };
    for b in p.buffers.iter().filter(|b| b.split.is_none()) {
        if b.bytes() > limit {
            return Err(Error::Device(format!(
                "the model does not fit adapter {adapter}: {} needs {} bytes ({:.1} MiB), above \
                 its {limit_name} of {limit} bytes ({:.1} MiB). {}",
                b.what,
                b.bytes(),
                b.bytes() as f64 / (1 << 20) as f64,
                limit as f64 / (1 << 20) as f64,
                b.advice
            )));
        }
    }
    Ok(())
}

/// The usages a buffer of the program needs.
fn usage(b: &Buffer, indirect: bool) -> wgpu::BufferUsages {
    use wgpu::BufferUsages as U;
    let kind = if b.uniform { U::UNIFORM } else { U::STORAGE };
    let indirect = if indirect { U::INDIRECT } else { U::empty() };
    kind | indirect | U::COPY_DST | U::COPY_SRC
}

/// Bytes a buffer of `words` words takes on the device: an empty one is given `min_bytes`.
fn device_bytes(b: &Buffer) -> u64 {
    match b.contents.words() {
        0 => b.min_bytes as u64,
        words => words as u64 * 4,
    }
}

/// Creates every buffer of the program (split ones in parts of at most `max_part` bytes, each
/// with its `chunk` uniform) and uploads the contents. `indirect`: the buffers read as
/// workgroup counts.
pub fn create(
    ctx: &GpuContext,
    p: &Program,
    max_part: u64,
    indirect: &[usize],
) -> Result<Vec<DeviceBuffer>> {
    let mut out = Vec::with_capacity(p.buffers.len());
    for (k, b) in p.buffers.iter().enumerate() {
        let usage = usage(b, indirect.contains(&k));
        let make = |label: &str, bytes: u64| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes.next_multiple_of(4),
                usage,
                mapped_at_creation: false,
            })
        };
        let device = match b.split {
            Some(split) => DeviceBuffer::Split(parts(ctx, b, split, max_part, make)),
            None => DeviceBuffer::Whole(make(&b.name, device_bytes(b))),
        };
        match (&device, b.contents.as_words()) {
            (DeviceBuffer::Whole(buffer), Some(words)) if !words.is_empty() => ctx
                .queue
                .write_buffer(buffer, 0, bytemuck::cast_slice(words)),
            (DeviceBuffer::Split(_), Some(words)) => upload(ctx, &device, words)?,
            _ => {}
        }
        out.push(device);
    }
    ctx.queue.submit([]);
    ctx.wait()?;
    Ok(out)
}

/// A split buffer's parts: at most `max_part` bytes each, starting at multiples of
/// `RECORD_ALIGNMENT` records, each holding the word after its last record too (decoding
/// reads two words).
fn parts(
    ctx: &GpuContext,
    b: &Buffer,
    split: Split,
    max_part: u64,
    make: impl Fn(&str, u64) -> wgpu::Buffer,
) -> Vec<Part> {
    use wgpu::util::DeviceExt;
    let per_part = synapses_per_chunk(max_part, split.record_bits);
    let mut out = Vec::new();
    let mut base = 0u64;
    loop {
        let len = per_part.min(split.records - base);
        let first = (base * split.record_bits as u64 / 32) as usize;
        let end = first + (len * split.record_bits as u64).div_ceil(32) as usize + 1;
        let chunk = SynapseChunk {
            base: base as u32,
            len: len as u32,
            _pad: [0; 2],
        };
        out.push(Part {
            buffer: make(&b.name, ((end - first) as u64 * 4).max(b.min_bytes as u64)),
            words: first..end,
            chunk: ctx
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("chunk"),
                    contents: bytemuck::bytes_of(&chunk),
                    usage: wgpu::BufferUsages::UNIFORM,
                }),
        });
        base += len;
        if base >= split.records {
            break;
        }
    }
    out
}

/// Writes `words` into a split buffer through one reused staging buffer, a part per
/// submission. Creating the buffers with their contents staged a second copy of every record
/// at once (1.8 GB at full microcircuit scale), and letting the queue stage each write made
/// fresh staging memory per part; on a software adapter each fresh page is a page fault, and
/// those faults were most of the upload's time.
fn upload(ctx: &GpuContext, device: &DeviceBuffer, words: &[u32]) -> Result<()> {
    const UPLOADING: &str = "uploading a buffer";
    let parts = device.parts(0..words.len());
    let largest = parts.iter().map(|(_, _, w)| w.len()).max().unwrap_or(0);
    if largest == 0 {
        return Ok(());
    }
    let staging = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("upload staging"),
        size: largest as u64 * 4,
        usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: true,
    });
    for (k, (buffer, offset, range)) in parts.into_iter().enumerate() {
        let bytes = range.len() as u64 * 4;
        if k > 0 {
            ctx.map(&staging, bytes, wgpu::MapMode::Write, UPLOADING)?;
        }
        staging
            .slice(..bytes)
            .get_mapped_range_mut()
            .map_err(|e| Error::Device(format!("{UPLOADING}: {e:?}")))?
            .copy_from_slice(bytemuck::cast_slice(&words[range]));
        staging.unmap();
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&staging, 0, buffer, offset as u64 * 4, bytes);
        ctx.queue.submit([encoder.finish()]);
    }
    Ok(())
}
