//! The ring of staging buffers that chunks' records come back through. Each chunk submitted
//! copies its records (and the health report) into a slot of its own and asks for the slot to
//! be mapped once the GPU is done with it; the host collects chunks in the order they were
//! submitted. So while the GPU runs chunk k, chunk k + 1 can already be submitted behind it and
//! chunk k - 1's records read, each through its own slot.

use super::context::GpuContext;
use crate::error::{Error, Result};
use crate::exec::{ChunkRecord, HealthFault};
use crate::lower::program::Program;
use std::collections::VecDeque;
use std::sync::mpsc::{channel, Receiver};

/// MAP_READ copies of one chunk's records, and of the health report's buffer.
pub struct Slot {
    pub records: Vec<wgpu::Buffer>,
    pub health: Option<wgpu::Buffer>,
}

/// What a mapping request reports when the GPU is done with its buffer.
type Mapped = Receiver<std::result::Result<(), wgpu::BufferAsyncError>>;

/// A chunk submitted and not yet collected.
struct InFlight {
    slot: usize,
    steps: u32,
    /// Bytes of each record the chunk wrote (0: nothing to read).
    record_bytes: Vec<u64>,
    /// Bytes of the health report copied, 0 when the check was off.
    health_bytes: u64,
    submission: wgpu::SubmissionIndex,
    /// One per buffer with bytes to read: the records' in order, then the health report's.
    mapped: Vec<Mapped>,
}

/// The staging ring and the chunks in flight, oldest first.
pub struct Readback {
    slots: Vec<Slot>,
    in_flight: VecDeque<InFlight>,
    /// Allocations of records already filed, to read the next ones into.
    spare: Vec<Vec<u32>>,
}

impl Readback {
    /// `depth` slots, each with a staging buffer per record of `program` and one for its health
    /// report.
    pub fn new(ctx: &GpuContext, program: &Program, depth: usize) -> Readback {
        let staging_for = |bytes: u64| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("record staging"),
                size: bytes.max(16).next_multiple_of(4),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let slots = (0..depth.max(1))
            .map(|_| Slot {
                records: program
                    .records
                    .iter()
                    .map(|r| staging_for(program.buffers[r.buffer].bytes()))
                    .collect(),
                health: program
                    .health
                    .map(|h| staging_for(program.buffers[h.buffer].bytes())),
            })
            .collect();
        Readback {
            slots,
            in_flight: VecDeque::new(),
            spare: Vec::new(),
        }
    }

    /// Keeps the allocations of a filed chunk's records (as many as a ring of chunks holds).
    pub fn recycle(&mut self, record: ChunkRecord) {
        let keep = self.slots.len() * self.slots.first().map_or(0, |s| s.records.len());
        for words in record.records {
            if self.spare.len() < keep && words.capacity() > 0 {
                self.spare.push(words);
            }
        }
    }

    /// Slots in the ring: how many chunks may be in flight at once.
    pub fn depth(&self) -> usize {
        self.slots.len()
    }

    /// Chunks submitted and not yet collected.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The slot the next chunk copies its records into, or an error when every slot holds a
    /// chunk not yet collected.
    pub fn next_slot(&self) -> Result<usize> {
        if self.in_flight.len() >= self.slots.len() {
            return Err(Error::Simulation(format!(
                "{} chunks are submitted and not collected, as many as the readback ring holds; \
                 collect the oldest (collect_chunk) before submitting another",
                self.in_flight.len()
            )));
        }
        Ok(match self.in_flight.back() {
            Some(last) => (last.slot + 1) % self.slots.len(),
            None => 0,
        })
    }

    /// Slot `k`.
    pub fn slot(&self, k: usize) -> &Slot {
        &self.slots[k]
    }

    /// Files a chunk just submitted (as `submission`) whose records went into slot `slot`, and
    /// asks for those of its buffers with bytes to read to be mapped when the GPU is done.
    pub fn submitted(
        &mut self,
        slot: usize,
        steps: u32,
        record_bytes: Vec<u64>,
        health_bytes: u64,
        submission: wgpu::SubmissionIndex,
    ) {
        let s = &self.slots[slot];
        let health = s.health.as_ref().map(|b| (b, health_bytes));
        let mapped = (s.records.iter().zip(record_bytes.iter().copied()))
            .chain(health)
            .filter(|(_, bytes)| *bytes > 0)
            .map(|(buffer, bytes)| {
                let (tx, rx) = channel();
                buffer
                    .slice(..bytes)
                    .map_async(wgpu::MapMode::Read, move |r| {
                        let _ = tx.send(r);
                    });
                rx
            })
            .collect();
        self.in_flight.push_back(InFlight {
            slot,
            steps,
            record_bytes,
            health_bytes,
            submission,
            mapped,
        });
    }

    /// Waits for the oldest chunk in flight to finish and returns its records. Chunks submitted
    /// after it go on running.
    pub fn collect(&mut self, ctx: &GpuContext, program: &Program) -> Result<ChunkRecord> {
        let Some(chunk) = self.in_flight.pop_front() else {
            return Err(Error::Simulation(
                "no chunk is in flight to collect; submit one first".into(),
            ));
        };
        // The chunk returns once its steps have run, even when nothing is recorded, so that
        // timings and errors belong to it.
        let waited = ctx.device.poll(wgpu::PollType::Wait {
            submission_index: Some(chunk.submission.clone()),
            timeout: None,
        });
        if let Err(e) = waited {
            // A lost device fails the wait too: say that, not the symptom. (Its loss is
            // reported by the device's maintenance, which a plain poll runs.)
            let _ = ctx.device.poll(wgpu::PollType::Poll);
            let why = ctx.check("running a chunk of steps").err();
            return Err(why.unwrap_or(Error::Device(format!("waiting for the GPU: {e}"))));
        }
        let slot = &self.slots[chunk.slot];
        let mut mapped = chunk.mapped.into_iter();
        let mut records = Vec::with_capacity(chunk.record_bytes.len());
        for (buffer, &bytes) in slot.records.iter().zip(&chunk.record_bytes) {
            records.push(match bytes {
                0 => Vec::new(),
                _ => {
                    let into = self.spare.pop().unwrap_or_default();
                    read(ctx, buffer, bytes, mapped.next(), into)?
                }
            });
        }
        let fault = match (program.health, &slot.health, chunk.health_bytes) {
            (Some(h), Some(buffer), bytes) if bytes > 0 => {
                let c = read(ctx, buffer, bytes, mapped.next(), Vec::new())?;
                HealthFault::found(c[h.step_at], c[h.neuron_at], c[h.what_at])
            }
            _ => None,
        };
        Ok(ChunkRecord::new(chunk.steps, records, fault))
    }
}

/// The first `bytes` of a staging buffer whose mapping `mapped` reports, copied out into
/// `into` (whose contents are dropped, its allocation kept); unmaps it.
fn read(
    ctx: &GpuContext,
    buffer: &wgpu::Buffer,
    bytes: u64,
    mapped: Option<Mapped>,
    mut into: Vec<u32>,
) -> Result<Vec<u32>> {
    const DURING: &str = "reading back a chunk's records";
    let mapped = mapped.ok_or_else(|| Error::Device(format!("{DURING}: no mapping requested")))?;
    // The wait for the chunk's submission ran the callback; a lost device may never run it,
    // and then fails every mapping: say that, not the symptom.
    let failed = |what: String| {
        let _ = ctx.device.poll(wgpu::PollType::Poll);
        ctx.check(DURING).err().unwrap_or(Error::Device(what))
    };
    let status = match mapped.try_recv() {
        Ok(status) => status,
        Err(_) => {
            ctx.wait()?;
            mapped
                .try_recv()
                .map_err(|_| failed(format!("{DURING}: the mapping callback never ran")))?
        }
    };
    status.map_err(|e| failed(format!("{DURING}: mapping a staging buffer: {e}")))?;
    let view = buffer
        .slice(..bytes)
        .get_mapped_range()
        .map_err(|e| failed(format!("{DURING}: {e:?}")))?;
    into.clear();
    match bytemuck::try_cast_slice::<u8, u32>(&view) {
        Ok(words) => into.extend_from_slice(words),
        // A mapping not aligned for u32 (wgpu aligns them; nothing promises it).
        Err(_) => into.extend(
            view.chunks_exact(4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
        ),
    }
    drop(view);
    buffer.unmap();
    Ok(into)
}
