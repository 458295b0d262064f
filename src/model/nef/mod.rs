//! The NEF (Neural Engineering Framework) path, as Nengo 4 models it: neuron types with their
//! tuning math, the distributions that draw encoders, evaluation points and tuning parameters,
//! and synaptic filters. Host-side math only; lowering lives in `crate::build::nef`.

pub mod dists;
pub mod neurons;
pub mod synapse;

pub use dists::{default_n_eval_points, NefDist};
pub use neurons::{Lif, LifRate, NefNeuron, RectifiedLinear, SpikingRectifiedLinear};
pub use synapse::{DiscreteFilter, Synapse};
