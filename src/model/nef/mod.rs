//! The NEF (Neural Engineering Framework) path, as Nengo 4 models it: ensembles that represent
//! vectors, nodes, decoded and direct connections with synaptic filters, PES learning and
//! probes (`network`); neuron types with their tuning math; the distributions that draw
//! encoders, evaluation points and tuning parameters; synaptic filters. Pure data: lowering
//! lives in `crate::lower::nef`.

pub mod dists;

/// Whether a value survives the trip to the simulator's float32 arrays: finite, and finite as a
/// float32 too (|x| below about 3.4e38; 1e300 is a finite f64 but an infinite f32).
pub(crate) fn fits_f32(x: f64) -> bool {
    x.is_finite() && (x as f32).is_finite()
}

mod model_neuron;
pub(crate) mod network;
pub(crate) mod neuron_kernel;
pub mod neurons;
pub mod solver;
pub mod synapse;

pub use dists::{default_n_eval_points, NefDist};
pub(crate) use model_neuron::RateCurve;
pub use network::{
    Connection, ConnectionId, Ensemble, EnsembleId, HostFn, LearningRuleId, NefNetwork, NefObj,
    NefProbeId, Node, NodeId, ObjKind, Pes, Probe, ProbeWhat, TimeFn, Transform, VecFn,
};
pub use neurons::{Lif, LifRate, ModelNeuron, NefNeuron, RectifiedLinear, SpikingRectifiedLinear};
pub use solver::{Excitatory, Solver};
pub use synapse::{DiscreteFilter, Synapse};
