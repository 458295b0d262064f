//! `NefPlan`: what a NEF network lowers to. Flat arrays and descriptor tables, no GPU objects:
//! the GPU backend uploads them, the CPU twin walks them.

use super::layout::*;
use crate::model::nef::{HostFn, NefNeuron, RateCurve, TimeFn};
use crate::model::neuron_model::NeuronModel;
use crate::model::plasticity::SynapseModel;
use ndarray::Array2;

/// One kernel launch of a step. Each carries its own descriptor rows.
#[derive(Clone, Debug, PartialEq)]
pub enum NefDispatch {
    /// Copies this step's row of the feed table (function nodes) into `sig`.
    Feed,
    Sum {
        rows: Vec<SumRow>,
        entries: Vec<SumEntry>,
    },
    MatVec {
        rows: Vec<MatVecRow>,
    },
    Neurons {
        rows: Vec<NeuronRow>,
    },
    /// Samples the probes (before the updates, so filtered values lag one step, as Nengo's).
    Record,
    /// Applies PES to learned weights: takes effect from the next step.
    Pes {
        rows: Vec<PesRow>,
    },
    /// Runs the synapse model of `rules[rule]` (a kernel generated from its snippets) over
    /// its connection's synapses: takes effect from the next step, as PES.
    Synapse {
        rule: usize,
        rows: Vec<SynapseRow>,
    },
    /// Advances every synaptic filter; outputs are read from the next step on.
    Filter {
        rows: Vec<FilterRow>,
    },
    /// Increments the step counter.
    Advance,
    /// Calls a callback node on the host: the GPU backend submits what it has encoded, reads
    /// the node's input back, calls it and uploads its output before going on.
    Host {
        node: usize,
    },
}

impl NefDispatch {
    /// The kernel this dispatch runs (and its CPU twin's name).
    pub fn kernel(&self) -> &'static str {
        match self {
            NefDispatch::Feed => "nef_feed",
            NefDispatch::Sum { .. } => "nef_sum",
            NefDispatch::MatVec { .. } => "nef_matvec",
            NefDispatch::Neurons { .. } => "nef_neurons",
            NefDispatch::Record => "nef_record",
            NefDispatch::Pes { .. } => "nef_pes",
            NefDispatch::Synapse { .. } => "nef_synapse_model",
            NefDispatch::Filter { .. } => "nef_filter",
            NefDispatch::Advance => "nef_advance",
            NefDispatch::Host { .. } => "host",
        }
    }
}

/// A function node's columns in the feed table.
#[derive(Clone)]
pub struct FeedSource {
    pub f: TimeFn,
    pub name: String,
    pub first_column: usize,
    pub width: usize,
}

/// A callback node: where its input and output are in `sig`.
#[derive(Clone)]
pub struct HostNode {
    pub name: String,
    pub f: HostFn,
    pub input: u32,
    pub size_in: usize,
    pub output: u32,
    pub size_out: usize,
}

impl HostNode {
    /// Calls the node at time `t` with its input; checks what it returns.
    pub fn call(&self, t: f64, input: &[f32]) -> crate::Result<Vec<f32>> {
        let x: Vec<f64> = input.iter().map(|&v| v as f64).collect();
        let y = {
            let mut f = self.f.lock().unwrap_or_else(|p| p.into_inner());
            f(t, &x)
        };
        if y.len() != self.size_out {
            return Err(crate::Error::Simulation(format!(
                "callback node `{}` returned {} values at t = {t} s; it was declared with size_out = {}",
                self.name,
                y.len(),
                self.size_out
            )));
        }
        if let Some(bad) = y.iter().find(|v| !crate::model::nef::fits_f32(**v)) {
            return Err(crate::Error::Simulation(format!(
                "callback node `{}` returned {bad:?} at t = {t} s; outputs must be finite in \
                 float32 (|x| below 3.4e38)",
                self.name
            )));
        }
        Ok(y.into_iter().map(|v| v as f32).collect())
    }
}

/// Where a probe's samples are in a chunk's record.
#[derive(Clone, Debug, PartialEq)]
pub struct NefProbeLayout {
    /// Offset of the probe's region in the record buffer.
    pub rec_off: usize,
    /// Values per sample.
    pub width: usize,
    /// Steps between samples.
    pub every: u32,
}

impl NefProbeLayout {
    /// Samples taken in a chunk of `steps` steps starting at step `chunk_start`.
    pub fn samples_in(&self, chunk_start: u32, steps: u32) -> usize {
        let e = self.every as u64;
        ((chunk_start as u64 + steps as u64) / e - chunk_start as u64 / e) as usize
    }
}

/// Built parameters of an ensemble, as Nengo's `sim.data[ens]`.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltEnsemble {
    pub name: String,
    pub neuron: NefNeuron,
    pub radius: f64,
    pub gain: Vec<f64>,
    pub bias: Vec<f64>,
    /// Unit-length encoders, n x d.
    pub encoders: Array2<f64>,
    /// Encoders times gain / radius, n x d.
    pub scaled_encoders: Array2<f64>,
    /// m x d, already scaled by the radius.
    pub eval_points: Array2<f64>,
    pub max_rates: Vec<f64>,
    pub intercepts: Vec<f64>,
    /// Offsets in `sig` of its decoded input, activities and voltages; its biases are the
    /// `n` values before `out`, its live mask the `2 n` after `voltage`.
    pub input: usize,
    pub out: usize,
    pub voltage: usize,
    /// Offset in `w` of its scaled encoders (n x d, row-major), which turn `input` into
    /// the neurons' input currents.
    pub encoders_w: usize,
    /// A user-defined model's measured rates by current (`None` for Nengo's types, whose
    /// rates are analytic).
    pub(crate) rate_curve: Option<RateCurve>,
}

impl BuiltEnsemble {
    pub fn n_neurons(&self) -> usize {
        self.gain.len()
    }
    /// Where the biases are in `sig`.
    pub fn bias_at(&self) -> usize {
        self.out - self.n_neurons()
    }
    /// Where the live mask is in `sig`.
    pub fn alive_at(&self) -> usize {
        self.voltage + 2 * self.n_neurons()
    }
}

/// A copy of part of an ensemble's scaled encoders in `w` (PES on a connection into its
/// neurons encodes the error with one): rows `neurons`, columns `dims`, row-major at `w_off`.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderCopy {
    pub ens: usize,
    pub w_off: usize,
    pub neurons: std::ops::Range<usize>,
    pub dims: std::ops::Range<usize>,
}

/// What the rows of a connection's matrix feed.
#[derive(Clone, Debug, PartialEq)]
pub enum ConnRows {
    /// Post neurons `first ..` of ensemble `ens`: a neuron -> neuron or weight-solver
    /// connection. `gain`: the rows are multiplied by the post gains on the way in (a
    /// connection to `ens.neurons()`, Nengo's rule), not already currents.
    Neurons {
        ens: usize,
        first: usize,
        gain: bool,
    },
    /// Dimensions `first ..` of ensemble `ens`'s decoded input, which its encoders turn into
    /// every neuron's current: a factored connection.
    EnsembleInput { ens: usize, first: usize },
    /// A node's input or a learning rule's error: no post neurons.
    Other,
}

/// Where a connection's weight matrix is.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltConnection {
    /// For a solver that constrains the signs of neuron -> neuron weights (`Solver::Dale`, and
    /// `Solver::Nnls` with `weights`: all true), which pre neurons are excitatory (their
    /// weights are all >= 0; the others' all <= 0). Such solvers have no decoders.
    pub excitatory: Option<Vec<bool>>,
    pub w_off: usize,
    pub rows: usize,
    pub cols: usize,
    /// Decoders (size_mid x pre neurons) before the transform, for decoded connections.
    pub decoders: Option<Array2<f64>>,
    /// Whether the columns are pre neurons (not a node's outputs).
    pub pre_neurons: bool,
    pub post: ConnRows,
    /// Offset in `sig` of the rows after the synapse: what is summed into the post.
    pub delivered: usize,
}

/// A learning rule with a synapse model, lowered: its kernel, and where its variables are.
#[derive(Clone, Debug)]
pub struct BuiltRule {
    /// Index of the rule among the network's learning rules (its `LearningRuleId`).
    pub index: usize,
    pub conn: usize,
    pub model: SynapseModel,
    /// The kernel: the model's snippets spliced into `shaders/nef_synapse_model.wgsl`.
    pub source: String,
    /// The `info` table the kernel reads (`model::plasticity::kernel::INFO_*`).
    pub info: Vec<u32>,
    /// Offset in `w` of the first state variable; variable k of synapse s is at
    /// `state_off + k * stride + s`, s = row * columns + column.
    pub state_off: usize,
    pub stride: usize,
    /// Offset in `sig` of the parameters, in declaration order.
    pub params_off: usize,
}

/// A lowered NEF network.
#[derive(Clone)]
pub struct NefPlan {
    pub dt: f64,
    /// Initial contents of `sig` and `w`.
    pub sig: Vec<f32>,
    pub w: Vec<f32>,
    pub ensembles: Vec<EnsRecord>,
    pub filter_coefs: Vec<FilterCoef>,
    /// One step: the dispatches in order.
    pub dispatches: Vec<NefDispatch>,
    /// Destination in `sig` of each feed column.
    pub feed_dst: Vec<u32>,
    pub feeds: Vec<FeedSource>,
    pub record_rows: Vec<RecordRow>,
    /// Floats of the record buffer: every probe's region sized for a whole chunk.
    pub record_len: usize,
    pub probes: Vec<NefProbeLayout>,
    /// Steps per chunk: per submission on the GPU, per readback of the probes.
    pub chunk_steps: u32,
    pub built_ensembles: Vec<BuiltEnsemble>,
    pub built_connections: Vec<BuiltConnection>,
    pub host_nodes: Vec<HostNode>,
    /// Every copy of scaled encoders besides the ensembles' own (`BuiltEnsemble::encoders_w`).
    pub encoder_copies: Vec<EncoderCopy>,
    /// Learning rules with synapse models, in the order of their `NefDispatch::Synapse`.
    pub rules: Vec<BuiltRule>,
    /// The distinct user-defined neuron models of the ensembles (kind `NEF_CUSTOM + k` runs
    /// `neuron_models[k]`), and the neuron kernel generated with them.
    pub neuron_models: Vec<NeuronModel>,
    pub neuron_source: Option<std::sync::Arc<str>>,
}

impl NefPlan {
    /// Kernel launches per step (callback nodes are host calls, not launches).
    pub fn kernel_dispatches(&self) -> u32 {
        self.dispatches
            .iter()
            .filter(|d| !matches!(d, NefDispatch::Host { .. }))
            .count() as u32
    }

    /// Columns of the feed table.
    pub fn feed_width(&self) -> usize {
        self.feed_dst.len()
    }

    /// The feed table for `steps` steps from step `first_step`: row s holds the function
    /// nodes' outputs at t = (first_step + s + 1) * dt.
    pub fn feed_table(&self, first_step: u32, steps: u32) -> crate::Result<Vec<f32>> {
        let width = self.feed_width();
        let mut table = vec![0f32; width * steps as usize];
        for s in 0..steps as usize {
            let t = (first_step as f64 + s as f64 + 1.0) * self.dt;
            for feed in &self.feeds {
                let y = (feed.f)(t);
                if y.len() != feed.width {
                    return Err(crate::Error::Simulation(format!(
                        "node `{}` returned {} values at t = {t} s; it was declared with size_out = {}",
                        feed.name,
                        y.len(),
                        feed.width
                    )));
                }
                for (k, v) in y.iter().enumerate() {
                    if !crate::model::nef::fits_f32(*v) {
                        return Err(crate::Error::Simulation(format!(
                            "node `{}` returned {v:?} at t = {t} s (element {k}); outputs must be finite in float32 (|x| below 3.4e38)",
                            feed.name
                        )));
                    }
                    table[s * width + feed.first_column + k] = *v as f32;
                }
            }
        }
        Ok(table)
    }
}
