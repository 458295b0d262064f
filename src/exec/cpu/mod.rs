//! The CPU executor: runs any `Program` with the Rust twin of every kernel (`crate::kernels`),
//! over buffers held as the GPU holds them, so both executors produce the same bits.

mod bound;
mod launch;

use super::{check_range, no_buffer, ChunkRecord, Executor, HealthFault, PIPELINE_DEPTH};
use crate::error::{Error, Result};
use crate::lower::program::{Op, Program, Role, Twin};
use bound::CpuBuffer;
use std::collections::VecDeque;
use std::sync::Arc;

/// A program running on the CPU.
pub struct CpuExecutor {
    program: Arc<Program>,
    buffers: Vec<CpuBuffer>,
    health: bool,
    /// Chunks run and not yet collected: a chunk runs when it is submitted, and its records
    /// wait here, so the simulator drives both executors the same way.
    done: VecDeque<ChunkRecord>,
}

impl CpuExecutor {
    /// The executor of `program`, or an error naming a user-defined neuron or synapse model
    /// that has WGSL only.
    pub fn open(program: &Arc<Program>) -> Result<CpuExecutor> {
        program.check()?;
        for launch in program.launches() {
            check_twin(&launch.twin)?;
        }
        Ok(CpuExecutor {
            buffers: program.buffers.iter().map(CpuBuffer::new).collect(),
            program: Arc::clone(program),
            health: false,
            done: VecDeque::new(),
        })
    }

    /// The buffer named `name`.
    fn named(&mut self, name: &str) -> Result<&mut CpuBuffer> {
        let k = self
            .program
            .buffer(name)
            .ok_or_else(|| no_buffer(name, "CPU"))?;
        Ok(&mut self.buffers[k])
    }

    /// Writes the chunk's control blocks and feed table, and clears its records.
    fn start_chunk(&mut self, first_step: u32, feed: &[f32]) {
        let p = &*self.program;
        for c in &p.controls {
            let words = c.words_for(first_step, self.health);
            self.buffers[c.buffer].words_mut().copy_from_slice(&words);
        }
        if let Some(f) = p.feed {
            self.buffers[f.buffer].words_mut()[..feed.len()]
                .copy_from_slice(bytemuck::cast_slice(feed));
        }
        for r in &p.records {
            self.buffers[r.buffer].words_mut().fill(0);
        }
    }
}

/// Refuses a user-defined model without a Rust twin, before any step.
fn check_twin(twin: &Twin) -> Result<()> {
    let advice = "Run on a GPU backend (Mesa's lavapipe, a software Vulkan adapter, works on any \
                  machine), or give the model a Rust twin with";
    match twin {
        Twin::NeuronModels { models, .. } => match models.iter().find(|m| !m.has_cpu_twin()) {
            Some(model) => Err(Error::Simulation(format!(
                "neuron model `{}` is WGSL only, so the CPU backend cannot run it. {advice} \
                 `NeuronModel::cpu_twin`",
                model.name()
            ))),
            None => Ok(()),
        },
        Twin::PlasticModels { models, .. } => {
            match models.iter().find(|m| !m.model.has_cpu_twin()) {
                Some(m) => Err(Error::Simulation(format!(
                    "synapse model `{}` (of projection #{}) is WGSL only, so the CPU backend \
                     cannot run it. {advice} `SynapseModel::cpu_twin`",
                    m.model.name(),
                    m.projection
                ))),
                None => Ok(()),
            }
        }
        Twin::SynapseRule(rule) if !rule.model.has_cpu_twin() => Err(Error::Simulation(format!(
            "synapse model `{}` (the rule of connection {}) is WGSL only, so the CPU backend \
             cannot run it. {advice} `SynapseModel::cpu_twin`",
            rule.model.name(),
            rule.conn
        ))),
        _ => Ok(()),
    }
}

impl Executor for CpuExecutor {
    fn description(&self) -> String {
        "cpu (reference)".into()
    }

    fn kind(&self) -> &'static str {
        "cpu"
    }

    fn submit_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<()> {
        let p = Arc::clone(&self.program);
        let width = p.feed.map_or(0, |f| f.width);
        super::check_chunk(p.chunk_steps, width, first_step, steps, feed)?;
        if self.done.len() >= PIPELINE_DEPTH {
            return Err(Error::Simulation(format!(
                "{} chunks are submitted and not collected; collect the oldest (collect_chunk) \
                 before submitting another",
                self.done.len()
            )));
        }
        self.start_chunk(first_step, feed);
        let buffers = &mut self.buffers;
        let mut run = || -> Result<()> {
            for step in first_step..first_step + steps {
                launch::step(&p, buffers, step)?;
            }
            Ok(())
        };
        // The chunk runs on a worker of rayon's pool, so that each step's parallel loops share
        // their work with the other workers directly. From outside the pool each loop would be
        // handed to it while this thread slept until it was done: two context switches per
        // loop, twice a step, which took about 40% of CUBA's time at 32,000 neurons. A program
        // with host calls (NEF callback nodes) stays on this thread: the caller's callbacks
        // may need it (Python's, the interpreter lock this thread holds).
        let host_calls = p.ops.iter().any(|op| matches!(op, Op::Host { .. }));
        match host_calls {
            true => run()?,
            false => rayon::scope(|_| run())?,
        }
        let records = p
            .records
            .iter()
            .map(|r| {
                let len = r.fixed_words + r.words_per_step * steps as usize;
                self.buffers[r.buffer].words()[..len].to_vec()
            })
            .collect();
        let fault = p.health.filter(|_| self.health).and_then(|h| {
            let c = self.buffers[h.buffer].words();
            HealthFault::found(c[h.step_at], c[h.neuron_at], c[h.what_at])
        });
        self.done.push_back(ChunkRecord::new(steps, records, fault));
        Ok(())
    }

    fn collect_chunk(&mut self) -> Result<ChunkRecord> {
        self.done.pop_front().ok_or_else(|| {
            Error::Simulation("no chunk is in flight to collect; submit one first".into())
        })
    }

    fn max_in_flight(&self) -> usize {
        PIPELINE_DEPTH
    }

    fn in_flight(&self) -> usize {
        self.done.len()
    }

    fn reset(&mut self) -> Result<()> {
        // Constant buffers keep what the host wrote (lesions), as on the GPU.
        for (b, def) in self.buffers.iter_mut().zip(&self.program.buffers) {
            if matches!(def.role, Role::State | Role::Scratch) {
                *b = CpuBuffer::new(def);
            }
        }
        Ok(())
    }

    fn set_health_check(&mut self, on: bool) {
        self.health = on;
    }

    fn read_words(&mut self, buffer: &str, first: usize, len: usize) -> Result<Vec<u32>> {
        let b = self.named(buffer)?;
        check_range(buffer, b.len(), first, len)?;
        Ok(b.read(first, len))
    }

    fn write_words(&mut self, buffer: &str, first: usize, words: &[u32]) -> Result<()> {
        let b = self.named(buffer)?;
        check_range(buffer, b.len(), first, words.len())?;
        b.write(first, words);
        Ok(())
    }

    fn dispatches_per_step(&self) -> u32 {
        self.program.launches().count() as u32
    }

    fn device_bytes(&self) -> u64 {
        // The buffers a GPU would hold, for comparison.
        self.program.bytes()
    }
}
