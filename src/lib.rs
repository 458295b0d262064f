//! lamina: a spiking neural network engine whose hot loop runs in WGSL compute shaders.
//!
//! The flow of data is `model` (what to simulate, pure data) -> `build` (lowering into flat
//! buffers and a dispatch list) -> `backend` (the GPU through wgpu, or the CPU reference twin)
//! -> `sim` (the host API: run, probes, reset).
//!
//! ```no_run
//! use lamina::prelude::*;
//!
//! let mut net = Network::new().with_seed(7);
//! let pop = net.population("exc", 100, LifCurrent::default())?;
//! net.current(pop, 400.0)?;
//! let probe = net.probe_spikes(pop)?;
//! let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
//! sim.run(0.1)?;
//! let trains = sim.spikes(&probe)?;
//! println!("{} spikes", trains.neurons.len());
//! # Ok::<(), lamina::Error>(())
//! ```

pub mod backend;
pub mod build;
pub mod builtin;
mod error;
pub mod io;
pub mod model;
pub mod rng;
pub mod sim;

pub use error::{Error, Result};

/// The names most programs need.
pub mod prelude {
    pub use crate::backend::{BackendChoice, GpuOptions, SharedDevice};
    pub use crate::build::nef::solvers::{Excitatory, Solver};
    pub use crate::model::nef::{
        Connection, ConnectionId, Ensemble, EnsembleId, LearningRuleId, Lif, LifRate, NefDist,
        NefNetwork, NefNeuron, NefProbeId, Node, NodeId, Pes, Probe, RectifiedLinear,
        SpikingRectifiedLinear, Synapse,
    };
    pub use crate::model::neuron_model::{izhikevich, IzhikevichParams, NeuronModel};
    pub use crate::model::plasticity::{
        memristor, stdp, MemristorParams, StateInit, StdpParams, SynapseModel,
    };
    pub use crate::model::{
        Block, Connectivity, Dist, LifCurrent, Network, NeuronSlice, PoissonInput, PopulationId,
        ProjectionId, SpikeProbe, StateProbe, StateVar, Values,
    };
    pub use crate::sim::{Lesion, NefSimulator, Simulator, SpikeTrains, SynapseView};
    pub use crate::{Error, Result};
}
