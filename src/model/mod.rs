//! The model: what to simulate, as pure data. Nothing here touches a GPU.

mod connectivity;
mod dist;
pub mod file;
mod input;
pub mod nef;
mod network;
mod neuron;
pub mod neuron_model;
pub mod plasticity;
mod probe;
mod snippet;
mod stdp;

pub use connectivity::{Block, Connectivity, Values};
pub use dist::Dist;
pub use input::{CurrentInput, InitialState, PerNeuron, PoissonInput};
pub(crate) use network::neuron_parameters;
pub use network::{
    Network, NeuronSlice, Population, PopulationId, Projection, ProjectionId, SpikingSynapseModel,
};
pub use neuron::{LifCurrent, NeuronKind};
pub use probe::{ProbeTarget, SpikeProbe, StateProbe, StateVar};
pub use stdp::Stdp;
