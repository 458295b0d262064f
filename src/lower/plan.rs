//! The Plan: a built model as flat arrays and a dispatch list. Backends only read it.

use super::fixed_point::ChannelScale;
use super::layout::{Globals, PoissonRecord, PopRecord, StateEntry};

/// One kernel launch of a step, in order. The list is the same for every step; its length does
/// not grow with the number of populations or projections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispatch {
    /// Samples state probes (values at the start of the step). Present only with state probes.
    RecordState { groups: [u32; 2] },
    /// Every neuron of every population: integrate, draw Poisson input, threshold, append
    /// spikes, and size the step's indirect propagation.
    NeuronUpdate { groups: [u32; 2] },
    /// One workgroup per spike of the step (indirect), over every projection at once; advances
    /// the step. A backend may split it per synapse chunk when the arrays exceed one storage
    /// binding.
    Propagate,
    /// One workgroup per spike of the step (indirect): STDP of the synapses onto the neurons
    /// that fired, and the step's spikes kept for arrivals to come.
    PlasticPost,
    /// One thread: the number of kept spikes whose plastic synapses deliver next step.
    PlasticPrepare,
    /// One workgroup per kept spike (indirect): the plastic synapses whose spikes arrive next
    /// step deliver their weights and learn.
    PlasticPre,
    /// As `PlasticPost`, for the synapses of user-defined models.
    PlasticModelPost,
    /// As `PlasticPre`, for the synapses of user-defined models.
    PlasticModelPre,
}

/// Where a probe's data sits in the per-chunk records.
#[derive(Clone, Debug, PartialEq)]
pub enum ProbeLayout {
    /// Global neuron range `start .. start + count`, inside the recorded spike range.
    Spikes { start: u32, count: u32 },
    /// `count` state entries from `first_entry`, sampled every `every_steps`.
    State {
        first_entry: u32,
        count: u32,
        every_steps: u32,
    },
}

/// A model lowered to buffers. Built once by `lower::build`, GPU-free and deterministic.
#[derive(Clone, Debug)]
pub struct Plan {
    pub(crate) net_id: u64,
    /// The network's seed (a checkpoint names it when it differs).
    pub seed: u64,
    pub dt_ms: f64,
    pub globals: Globals,
    pub pops: Vec<PopRecord>,
    pub pop_names: Vec<String>,
    /// Per neuron: initial membrane potential (a user-defined model's first state variable);
    /// then the parameters and the rest of the state of user-defined models (see
    /// `lower::populations`).
    pub v_init: Vec<f32>,
    /// Per neuron: the constant part of a LifCurrent's v update, or a user-defined model's
    /// `i_ext`.
    pub v_drive: Vec<f32>,
    /// The distinct user-defined neuron models (kind `KIND_CUSTOM + k` runs `k`).
    pub neuron_models: Vec<crate::model::neuron_model::NeuronModel>,
    /// The neuron update's source with those models spliced in; `None` without any (the
    /// kernel in `shaders/` then runs as it is).
    pub neuron_kernel: Option<String>,
    /// Outgoing synapses in CSR order per pre neuron: `row_ptr[i] .. row_ptr[i + 1]`.
    pub row_ptr: Vec<u32>,
    /// Bit-packed synapse records in CSR order: target, delay (steps) and weight (the target
    /// channel's fixed-point units; the sign selects the channel). See `lower::packing`.
    pub syn_words: std::sync::Arc<Vec<u32>>,
    pub syn_format: super::packing::SynapseFormat,
    pub n_synapses: u64,
    pub poisson: Vec<PoissonRecord>,
    pub poisson_cdf: Vec<u32>,
    /// Spike-source schedules: per-neuron pointers, then sorted spike steps.
    pub aux: Vec<u32>,
    pub state_entries: Vec<StateEntry>,
    /// Indexed like the network's probes.
    pub probes: Vec<ProbeLayout>,
    /// Steps per recorded chunk (one submission and one readback on the GPU).
    pub chunk_steps: u32,
    /// Floats of state record per chunk.
    pub state_floats: u32,
    /// Fixed-point scale per population: [excitatory, inhibitory].
    pub scales: Vec<[ChannelScale; 2]>,
    pub dispatches: Vec<Dispatch>,
    /// The plastic projections, if any.
    pub plastic: Option<super::plastic::PlasticPlan>,
    /// The per-neuron arrays the network was given (parameters, initial states, currents),
    /// as built: a checkpoint keeps them to name the one that differs.
    pub neuron_arrays: Vec<super::NeuronArray>,
    /// This process's part when the network runs on several (`lower::part`); `None` in a
    /// single process.
    pub partition: Option<super::part::Partition>,
}

impl Plan {
    /// The plan of no spiking network at all: what a simulator of a NEF network alone holds
    /// in its spiking part's place. It has no probes and matches no network's ids.
    pub fn none() -> Plan {
        Plan {
            net_id: u64::MAX,
            seed: 0,
            dt_ms: 0.0,
            globals: Globals::default(),
            pops: Vec::new(),
            pop_names: Vec::new(),
            v_init: Vec::new(),
            v_drive: Vec::new(),
            neuron_models: Vec::new(),
            neuron_kernel: None,
            row_ptr: vec![0],
            syn_words: Default::default(),
            syn_format: super::packing::SynapseFormat {
                record_bits: 64,
                target_bits: 1,
                delay_bits: 1,
                weight_bits: 32,
            },
            n_synapses: 0,
            poisson: Vec::new(),
            poisson_cdf: Vec::new(),
            aux: Vec::new(),
            state_entries: Vec::new(),
            probes: Vec::new(),
            chunk_steps: 0,
            state_floats: 0,
            scales: Vec::new(),
            dispatches: Vec::new(),
            plastic: None,
            neuron_arrays: Vec::new(),
            partition: None,
        }
    }

    pub fn neuron_count(&self) -> u32 {
        self.globals.n_neurons
    }

    pub fn synapse_count(&self) -> u64 {
        self.n_synapses
    }

    /// The index of the population holding global neuron `neuron` (binary search over the
    /// populations' starts).
    pub fn population_of(&self, neuron: u32) -> usize {
        self.pops.partition_point(|p| p.start <= neuron) - 1
    }

    /// The user-defined model population `pop` runs (kind `KIND_CUSTOM + k`), if it runs one.
    pub fn neuron_model(&self, pop: usize) -> Option<&crate::model::neuron_model::NeuronModel> {
        let k = self.pops[pop]
            .kind
            .checked_sub(super::layout::KIND_CUSTOM)?;
        Some(&self.neuron_models[k as usize])
    }

    /// Total bytes of the plan's buffers as its program holds them (both executors report
    /// this figure).
    pub fn buffer_bytes(&self) -> u64 {
        self.program().bytes()
    }
}
