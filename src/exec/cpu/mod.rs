//! The CPU executor: runs the Plan's dispatch list with the Rust twin of every kernel
//! (`crate::kernels`).

pub mod nef;

use super::{check_range, no_buffer, ChunkRecord, Executor, HealthFault};
use crate::error::{Error, Result};
use crate::kernels::{self, CpuState};
use crate::lower::{Dispatch, Plan};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

pub struct CpuBackend {
    plan: Arc<Plan>,
    state: CpuState,
    /// The synapse records once a lesion has written them (`None`: the plan's, as built).
    synapse_words: Option<Vec<u32>>,
    health: bool,
}

impl CpuBackend {
    /// The CPU backend for `plan`, refusing a user-defined neuron model without a Rust twin.
    pub fn open(plan: &Arc<Plan>) -> Result<CpuBackend> {
        if let Some(model) = plan.neuron_models.iter().find(|m| !m.has_cpu_twin()) {
            return Err(Error::Simulation(format!(
                "neuron model `{}` is WGSL only, so the CPU backend cannot run it. Run on a \
                 GPU backend (Mesa's lavapipe, a software Vulkan adapter, works on any \
                 machine), or give the model a Rust twin with `NeuronModel::cpu_twin`",
                model.name()
            )));
        }
        Ok(CpuBackend::new(plan))
    }

    fn new(plan: &Arc<Plan>) -> CpuBackend {
        let n = plan.neuron_count() as usize;
        let state = CpuState {
            v: plan.v_init.clone(),
            i_syn: vec![[0.0; 2]; n],
            refractory: vec![0; n],
            ring: (0..plan.globals.ring_slots as usize * n * 2)
                .map(|_| AtomicI32::new(0))
                .collect(),
            spikes: vec![0; n],
            step: 0,
            prop_step: 0,
            prop_count: 0,
            spike_count: 0,
            chunk_start: 0,
            health: false,
            bad_step: u32::MAX,
            bad_neuron: u32::MAX,
            bad_what: 0,
            spike_record: Vec::new(),
            state_record: Vec::new(),
        };
        CpuBackend {
            plan: Arc::clone(plan),
            state,
            synapse_words: None,
            health: false,
        }
    }
}

impl Executor for CpuBackend {
    fn description(&self) -> String {
        "cpu (reference)".into()
    }

    fn kind(&self) -> &'static str {
        "cpu"
    }

    fn run_chunk(&mut self, first_step: u32, steps: u32, feed: &[f32]) -> Result<ChunkRecord> {
        super::check_chunk(self.plan.chunk_steps, 0, first_step, steps, feed)?;
        let (plan, st) = (&self.plan, &mut self.state);
        st.step = first_step;
        st.chunk_start = first_step;
        (st.health, st.bad_step, st.bad_neuron, st.bad_what) = (self.health, u32::MAX, u32::MAX, 0);
        st.spike_record = vec![0; plan.globals.rec_words as usize * steps as usize];
        st.state_record = vec![0.0; plan.state_floats as usize];
        for _ in 0..steps {
            for d in &plan.dispatches {
                match d {
                    Dispatch::RecordState { .. } => kernels::record_state(plan, st),
                    Dispatch::NeuronUpdate { .. } => kernels::neuron_update(plan, st),
                    Dispatch::PrepareSpikes => kernels::prepare_spikes(st),
                    Dispatch::Propagate => {
                        let words = self.synapse_words.as_deref();
                        kernels::propagate(plan, words.unwrap_or(&plan.syn_words), st)
                    }
                }
            }
        }
        Ok(ChunkRecord {
            steps,
            spike_words: std::mem::take(&mut st.spike_record),
            values: std::mem::take(&mut st.state_record),
            fault: HealthFault::found(st.bad_step, st.bad_neuron, st.bad_what),
        })
    }

    fn reset(&mut self) -> Result<()> {
        // The state only: written synapse records stay, as on the GPU.
        self.state = CpuBackend::new(&self.plan).state;
        Ok(())
    }

    fn set_health_check(&mut self, on: bool) {
        self.health = on;
    }

    fn read_words(&mut self, buffer: &str, first: usize, len: usize) -> Result<Vec<u32>> {
        let st = &self.state;
        let words: Vec<u32> = match buffer {
            "v" => bytemuck::cast_slice(&st.v).to_vec(),
            "i_syn" => bytemuck::cast_slice(&st.i_syn).to_vec(),
            "refractory" => st.refractory.clone(),
            "ring" => st
                .ring
                .iter()
                .map(|x| x.load(Ordering::Relaxed) as u32)
                .collect(),
            "syn_words" => {
                let words = self
                    .synapse_words
                    .as_deref()
                    .unwrap_or(&self.plan.syn_words);
                check_range(buffer, words.len(), first, len)?;
                return Ok(words[first..first + len].to_vec());
            }
            _ => return Err(no_buffer(buffer, "CPU")),
        };
        check_range(buffer, words.len(), first, len)?;
        Ok(words[first..first + len].to_vec())
    }

    fn write_words(&mut self, buffer: &str, first: usize, words: &[u32]) -> Result<()> {
        let st = &mut self.state;
        let len = words.len();
        match buffer {
            "v" => {
                check_range(buffer, st.v.len(), first, len)?;
                st.v[first..first + len].copy_from_slice(bytemuck::cast_slice(words));
            }
            "i_syn" => {
                let flat: &mut [u32] = bytemuck::cast_slice_mut(&mut st.i_syn);
                check_range(buffer, flat.len(), first, len)?;
                flat[first..first + len].copy_from_slice(words);
            }
            "refractory" => {
                check_range(buffer, st.refractory.len(), first, len)?;
                st.refractory[first..first + len].copy_from_slice(words);
            }
            "ring" => {
                check_range(buffer, st.ring.len(), first, len)?;
                for (have, &new) in st.ring[first..].iter().zip(words) {
                    have.store(new as i32, Ordering::Relaxed);
                }
            }
            "syn_words" => {
                check_range(buffer, self.plan.syn_words.len(), first, len)?;
                // The plan's words are shared; the first write takes a copy of them.
                let own = self
                    .synapse_words
                    .get_or_insert_with(|| self.plan.syn_words.clone());
                own[first..first + len].copy_from_slice(words);
            }
            _ => return Err(no_buffer(buffer, "CPU")),
        }
        Ok(())
    }

    fn dispatches_per_step(&self) -> u32 {
        self.plan.dispatches.len() as u32
    }

    fn device_bytes(&self) -> u64 {
        // The same buffers the GPU holds, for comparison.
        self.plan.buffer_bytes()
    }
}
