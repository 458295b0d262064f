//! Lowering of NEF networks (`model::nef`) into `NefPlan`s: gains, biases, decoders solved on
//! the host (solvers as Nengo 4's `nengo/solvers.py`), flat signal and weight arrays, and the
//! leveled dispatch list of one step.

pub mod layout;
mod lesion;
mod lower;
pub mod nnls;
mod plan;
pub mod solvers;

pub use lesion::{cut_weights, lesioned_plan, synapse_shape, Cut};
pub use lower::{build_nef, ensemble_rates, NEF_CHUNK_STEPS};
pub use plan::{
    BuiltConnection, BuiltEnsemble, BuiltRule, ConnRows, EncoderCopy, FeedSource, HostNode,
    NefDispatch, NefPlan, NefProbeLayout,
};
