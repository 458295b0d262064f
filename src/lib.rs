//! lamina: a spiking neural network engine whose hot loop runs in WGSL compute shaders.
//!
//! The flow of data, one layer per module, top to bottom:
//!
//! - [`model`]: what to simulate, as data with its validation (populations, projections, NEF
//!   ensembles and connections, inputs, learning rules, probes).
//! - [`lower`]: a model turned into flat arrays and the ordered dispatches of one step
//!   (connectivity generation, decoder solving, fixed-point packing).
//! - [`kernels`]: each kernel's bindings, stated once, and its CPU twin under its own name (the
//!   WGSL is `shaders/`, one file per kernel, assembled and checked by [`wgsl`]).
//! - [`exec`]: the executors, GPU (wgpu) and CPU, which run what `lower` made.
//! - [`sim`]: the simulators a program drives between steps: run, probes, lesions, weights,
//!   checkpoints.
//!
//! [`rng`], [`softmath`] and [`wgsl`] are leaves that any layer may use: counter-based random
//! numbers, the Rust twin of the kernels' software math, and the kernels' WGSL sources.
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

pub mod builtin;
mod error;
pub mod exec;
pub mod io;
pub mod kernels;
pub mod lower;
pub mod model;
pub mod rng;
pub mod sim;
pub mod softmath;
pub mod wgsl;

pub use error::{Error, Result};

/// The names most programs need.
pub mod prelude {
    pub use crate::exec::{BackendChoice, GpuOptions, SharedDevice};

    pub use crate::model::nef::{
        Connection, ConnectionId, Ensemble, EnsembleId, Excitatory, LearningRuleId, Lif, LifRate,
        ModelNeuron, NefDist, NefNetwork, NefNeuron, NefProbeId, Node, NodeId, Pes, Probe,
        RectifiedLinear, Solver, SpikingRectifiedLinear, Synapse,
    };
    pub use crate::model::neuron_model::{
        izhikevich, nengo_izhikevich, nengo_lif, nengo_spiking_rectified_linear, IzhikevichParams,
        NeuronModel,
    };
    pub use crate::model::plasticity::{
        memristor, stdp, MemristorParams, StateInit, StdpParams, SynapseModel,
    };
    pub use crate::model::{
        Block, Connectivity, Dist, LifCurrent, Network, NeuronSlice, PoissonInput, PopulationId,
        ProjectionId, SpikeProbe, StateProbe, StateVar, Stdp, Values,
    };
    pub use crate::sim::{
        Lesion, Model, NefSimulator, NeuronGroup, Simulator, SpikeTrains, SynapseView,
    };
    pub use crate::{Error, Result};
}
