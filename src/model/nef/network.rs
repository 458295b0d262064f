//! `NefNetwork`: ensembles, nodes, connections, learning rules and probes, as Nengo describes a
//! model. Pure data: decoders are solved and buffers laid out by `lower::nef`.

use super::dists::NefDist;
use super::neurons::NefNeuron;
use super::synapse::Synapse;
use crate::error::{invalid, Result};
use crate::lower::nef::solvers::Solver;
use crate::model::plasticity::{Snippet, SynapseModel};
use ndarray::Array2;
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod connection_checks;

/// Gives every network an identity, so handles from one network are refused by another.
static NEXT_NEF_NETWORK_ID: AtomicU64 = AtomicU64::new(1);

/// Handle to an ensemble. As a connection end or probe target it is the decoded vector;
/// [`EnsembleId::neurons`] is its neurons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnsembleId {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

/// Handle to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

/// Handle to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionId {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

impl ConnectionId {
    /// The connection's position in its network, in the order they were made: its index in
    /// `NefPlan::built_connections` (`sim.plan().built_connections[conn.index()]`).
    pub fn index(self) -> usize {
        self.index
    }
}

/// Handle to a learning rule on a connection; connect an error signal into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LearningRuleId {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

/// Handle to a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NefProbeId {
    pub(crate) net: u64,
    pub(crate) index: usize,
}

/// What an end of a connection (or a probe) refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjKind {
    /// The decoded vector of an ensemble (its input as a target, a decoded output as a source).
    Ensemble(usize),
    /// The neurons of an ensemble: currents as a target, activities as a source.
    Neurons(usize),
    Node(usize),
    /// The error input of a learning rule (a target only).
    LearningRule(usize),
}

/// An object and an optional contiguous slice of its elements (`ens.slice(0..2)`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NefObj {
    pub(crate) net: u64,
    pub(crate) kind: ObjKind,
    pub(crate) slice: Option<Range<usize>>,
    /// A slice of a slice that does not fit inside it: (outer, inner). Reported when the object
    /// is used, as `slice` cannot return an error.
    pub(crate) bad_subslice: Option<(Range<usize>, Range<usize>)>,
}

impl NefObj {
    /// Elements `range` of this object; slicing a slice takes a sub-range of it, which must be
    /// non-empty and lie inside the outer slice (else using the object is an error).
    pub fn slice(mut self, range: Range<usize>) -> NefObj {
        self.slice = Some(match self.slice {
            Some(outer) => {
                if range.start >= range.end || range.end > outer.len() {
                    self.bad_subslice.get_or_insert((outer.clone(), range));
                    outer
                } else {
                    outer.start + range.start..outer.start + range.end
                }
            }
            None => range,
        });
        self
    }
}

impl EnsembleId {
    /// The ensemble's neurons as a connection end: inputs are currents (multiplied by the
    /// neurons' gains, as in Nengo), outputs are activities (amplitude / dt at a spike).
    pub fn neurons(self) -> NefObj {
        NefObj {
            net: self.net,
            kind: ObjKind::Neurons(self.index),
            slice: None,
            bad_subslice: None,
        }
    }
    /// Dimensions `range` of the decoded vector.
    pub fn slice(self, range: Range<usize>) -> NefObj {
        NefObj::from(self).slice(range)
    }
}

impl NodeId {
    /// Elements `range` of the node's output (as a source) or input (as a target).
    pub fn slice(self, range: Range<usize>) -> NefObj {
        NefObj::from(self).slice(range)
    }
}

impl From<EnsembleId> for NefObj {
    fn from(e: EnsembleId) -> NefObj {
        NefObj {
            net: e.net,
            kind: ObjKind::Ensemble(e.index),
            slice: None,
            bad_subslice: None,
        }
    }
}

impl From<NodeId> for NefObj {
    fn from(n: NodeId) -> NefObj {
        NefObj {
            net: n.net,
            kind: ObjKind::Node(n.index),
            slice: None,
            bad_subslice: None,
        }
    }
}

impl From<LearningRuleId> for NefObj {
    fn from(r: LearningRuleId) -> NefObj {
        NefObj {
            net: r.net,
            kind: ObjKind::LearningRule(r.index),
            slice: None,
            bad_subslice: None,
        }
    }
}

impl From<&NefObj> for NefObj {
    fn from(o: &NefObj) -> NefObj {
        o.clone()
    }
}

/// A population of neurons that represents a vector, as `nengo.Ensemble`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ensemble {
    pub n_neurons: usize,
    pub dimensions: usize,
    pub radius: f64,
    pub neuron: NefNeuron,
    pub max_rates: NefDist,
    pub intercepts: NefDist,
    /// Normalised to unit length, as Nengo does by default.
    pub encoders: NefDist,
    /// Sampled on the unit ball and scaled by `radius`, as Nengo.
    pub eval_points: NefDist,
    /// Default: Nengo's `default_n_eval_points`.
    pub n_eval_points: Option<usize>,
    /// Explicit gains and biases instead of `max_rates` and `intercepts`.
    pub gain_bias: Option<(Vec<f64>, Vec<f64>)>,
    /// Initial membrane voltages of spiking neurons (Nengo's `initial_state["voltage"]`).
    /// Default: uniform in [0, 1), as Nengo; for a neuron model, its first state variable
    /// (default: the model's own initial distribution).
    pub initial_voltage: Option<NefDist>,
}

impl Ensemble {
    /// `n_neurons` LIF neurons representing a `dimensions`-vector, with Nengo's defaults.
    pub fn new(n_neurons: usize, dimensions: usize) -> Ensemble {
        Ensemble {
            n_neurons,
            dimensions,
            radius: 1.0,
            neuron: NefNeuron::default(),
            max_rates: NefDist::default_max_rates(),
            intercepts: NefDist::default_intercepts(),
            encoders: NefDist::default_encoders(),
            eval_points: NefDist::default_eval_points(),
            n_eval_points: None,
            gain_bias: None,
            initial_voltage: None,
        }
    }
    pub fn radius(mut self, radius: f64) -> Self {
        self.radius = radius;
        self
    }
    pub fn neuron(mut self, neuron: impl Into<NefNeuron>) -> Self {
        self.neuron = neuron.into();
        self
    }
    pub fn max_rates(mut self, dist: NefDist) -> Self {
        self.max_rates = dist;
        self
    }
    pub fn intercepts(mut self, dist: NefDist) -> Self {
        self.intercepts = dist;
        self
    }
    pub fn encoders(mut self, dist: NefDist) -> Self {
        self.encoders = dist;
        self
    }
    pub fn eval_points(mut self, dist: NefDist) -> Self {
        self.eval_points = dist;
        self
    }
    pub fn n_eval_points(mut self, n: usize) -> Self {
        self.n_eval_points = Some(n);
        self
    }
    pub fn initial_voltage(mut self, dist: NefDist) -> Self {
        self.initial_voltage = Some(dist);
        self
    }
    pub fn gain_bias(mut self, gain: Vec<f64>, bias: Vec<f64>) -> Self {
        self.gain_bias = Some((gain, bias));
        self
    }
}

/// A function of simulated time in seconds, giving a node's output.
pub type TimeFn = Arc<dyn Fn(f64) -> Vec<f64> + Send + Sync>;
/// A function of a decoded vector, computed by a connection's decoders.
pub type VecFn = Arc<dyn Fn(&[f64]) -> Vec<f64> + Send + Sync>;

/// A host function called every step with the node's input, for closed loops with code outside
/// the simulator (a robot, an environment, a custom rule written in Rust).
pub type HostFn = Arc<Mutex<dyn FnMut(f64, &[f64]) -> Vec<f64> + Send>>;

/// A non-neural source or junction, as `nengo.Node`.
#[derive(Clone)]
pub enum Node {
    /// A constant output vector.
    Constant(Vec<f64>),
    /// Output as a function of time, evaluated on the host ahead of the GPU, one chunk of
    /// steps at a time (no round trip per step). Called at t = dt, 2 dt, ..., as Nengo.
    Function { size_out: usize, f: TimeFn },
    /// Sums its inputs and outputs the sum in the same step (`nengo.Node(size_in=n)`).
    Passthrough { size: usize },
    /// Calls `f(t, input)` on the host at every step, with the node's input of that step, and
    /// outputs what it returns in the same step, as a Nengo node with `size_in` and a function.
    /// On a GPU this costs a submission, a readback of the input and an upload of the output
    /// per step: prefer `Function` nodes for inputs that do not depend on the network.
    Callback {
        size_in: usize,
        size_out: usize,
        f: HostFn,
    },
}

impl Node {
    pub fn constant(values: &[f64]) -> Node {
        Node::Constant(values.to_vec())
    }
    pub fn function(size_out: usize, f: impl Fn(f64) -> Vec<f64> + Send + Sync + 'static) -> Node {
        Node::Function {
            size_out,
            f: Arc::new(f),
        }
    }
    pub fn passthrough(size: usize) -> Node {
        Node::Passthrough { size }
    }
    pub fn callback(
        size_in: usize,
        size_out: usize,
        f: impl FnMut(f64, &[f64]) -> Vec<f64> + Send + 'static,
    ) -> Node {
        Node::Callback {
            size_in,
            size_out,
            f: Arc::new(Mutex::new(f)),
        }
    }
    /// Elements a node outputs.
    pub fn size_out(&self) -> usize {
        match self {
            Node::Constant(v) => v.len(),
            Node::Function { size_out, .. } => *size_out,
            Node::Passthrough { size } => *size,
            Node::Callback { size_out, .. } => *size_out,
        }
    }
    /// Elements a node accepts as input (0: it cannot be a connection target).
    pub fn size_in(&self) -> usize {
        match self {
            Node::Passthrough { size } => *size,
            Node::Callback { size_in, .. } => *size_in,
            _ => 0,
        }
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Constant(v) => f.debug_tuple("Constant").field(v).finish(),
            Node::Function { size_out, .. } => write!(f, "Function {{ size_out: {size_out} }}"),
            Node::Passthrough { size } => write!(f, "Passthrough {{ size: {size} }}"),
            Node::Callback {
                size_in, size_out, ..
            } => write!(f, "Callback {{ size_in: {size_in}, size_out: {size_out} }}"),
        }
    }
}

/// A linear transform applied after the function (Nengo's `transform`).
#[derive(Clone, Debug, PartialEq)]
pub enum Transform {
    /// `k * I`: the function's output and the target slice must have the same size.
    Scalar(f64),
    /// `size_out x size_mid`.
    Matrix(Array2<f64>),
}

/// How a connection is made, as the keyword arguments of `nengo.Connection`.
#[derive(Clone)]
pub struct Connection {
    pub(crate) function: Option<(usize, VecFn)>,
    pub(crate) transform: Transform,
    pub(crate) synapse: Synapse,
    pub(crate) solver: Solver,
    pub(crate) eval_points: Option<Array2<f64>>,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            function: None,
            transform: Transform::Scalar(1.0),
            synapse: Synapse::default(),
            solver: Solver::default(),
            eval_points: None,
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("function_size", &self.function.as_ref().map(|(n, _)| *n))
            .field("transform", &self.transform)
            .field("synapse", &self.synapse)
            .field("solver", &self.solver)
            .finish()
    }
}

impl Connection {
    pub fn new() -> Connection {
        Connection::default()
    }
    /// Decode `f` of the pre ensemble's (sliced) vector; `size_out` is the length `f` returns.
    pub fn function(
        mut self,
        size_out: usize,
        f: impl Fn(&[f64]) -> Vec<f64> + Send + Sync + 'static,
    ) -> Self {
        self.function = Some((size_out, Arc::new(f)));
        self
    }
    pub fn transform(mut self, matrix: Array2<f64>) -> Self {
        self.transform = Transform::Matrix(matrix);
        self
    }
    pub fn scale(mut self, k: f64) -> Self {
        self.transform = Transform::Scalar(k);
        self
    }
    pub fn synapse(mut self, synapse: Synapse) -> Self {
        self.synapse = synapse;
        self
    }
    pub fn solver(mut self, solver: Solver) -> Self {
        self.solver = solver;
        self
    }
    /// Points (rows, in the pre ensemble's space) to solve the decoders over.
    pub fn eval_points(mut self, points: Array2<f64>) -> Self {
        self.eval_points = Some(points);
        self
    }
}

/// Nengo's Prescribed Error Sensitivity rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pes {
    pub learning_rate: f64,
    /// Filter on the pre activities.
    pub pre_synapse: Synapse,
}

impl Default for Pes {
    fn default() -> Self {
        Pes {
            learning_rate: 1e-4,
            pre_synapse: Synapse::Lowpass { tau: 0.005 },
        }
    }
}

impl Pes {
    pub fn new(learning_rate: f64) -> Pes {
        Pes {
            learning_rate,
            ..Pes::default()
        }
    }
    pub fn pre_synapse(mut self, synapse: Synapse) -> Self {
        self.pre_synapse = synapse;
        self
    }
}

/// Sampling options of a probe, as `nengo.Probe(synapse=..., sample_every=...)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Probe {
    pub synapse: Synapse,
    /// Seconds between samples; a whole number of steps. `None`: every step.
    pub sample_every: Option<f64>,
}

impl Probe {
    /// Every step, unfiltered.
    pub fn new() -> Probe {
        Probe {
            synapse: Synapse::None,
            sample_every: None,
        }
    }
    pub fn synapse(mut self, synapse: Synapse) -> Self {
        self.synapse = synapse;
        self
    }
    pub fn sample_every(mut self, seconds: f64) -> Self {
        self.sample_every = Some(seconds);
        self
    }
}

/// What a probe records.
#[derive(Clone, Debug, PartialEq)]
pub enum ProbeWhat {
    /// The decoded value of an ensemble, a node's output, or neuron activities.
    Output(NefObj),
    /// Membrane voltages of an ensemble (neuron types with a voltage).
    Voltage(usize),
    /// The weights of a connection (decoders, or the post x pre matrix), row-major.
    Weights(usize),
}

#[derive(Clone, Debug)]
pub(crate) struct ConnectionSpec {
    pub pre: NefObj,
    pub post: NefObj,
    pub conn: Connection,
    /// Length of the function's output (or the pre slice): the transform's input.
    pub size_mid: usize,
    /// Length of the post slice: the transform's output.
    pub size_out: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct RuleSpec {
    pub conn: usize,
    pub kind: RuleKind,
    /// Length of the error vector the rule takes.
    pub size_in: usize,
}

/// What a learning rule does.
#[derive(Clone, Debug)]
pub(crate) enum RuleKind {
    Pes(Pes),
    /// A user's (or a built-in) synapse model, checked when it was added.
    Model(Box<SynapseModel>),
}

#[derive(Clone, Debug)]
pub(crate) struct ProbeSpec {
    pub what: ProbeWhat,
    pub probe: Probe,
}

/// A Nengo-style model: ensembles, nodes, connections, PES rules and probes.
///
/// # Example
///
/// Two ensembles, the second computing the square of what the first represents:
///
/// ```
/// use lamina::prelude::*;
///
/// let mut net = NefNetwork::new().with_seed(1);
/// let stim = net.node("stim", Node::constant(&[0.5]))?;
/// let a = net.ensemble("a", Ensemble::new(100, 1))?; // 100 LIF neurons, 1 dimension
/// let b = net.ensemble("b", Ensemble::new(100, 1))?;
/// net.connect(stim, a, Connection::new())?;
/// net.connect(a, b, Connection::new().function(1, |x| vec![x[0] * x[0]]))?;
/// let p = net.probe(b, Probe::new().synapse(Synapse::lowpass(0.05)))?;
///
/// let mut sim = Simulator::new(&net, BackendChoice::Cpu)?;
/// sim.run(0.5)?;
/// let y = sim.data(p)?; // samples x dimensions
/// let last = y[[y.nrows() - 1, 0]];
/// assert!((last - 0.25).abs() < 0.05, "b decodes {last}, not 0.5² = 0.25");
/// # Ok::<(), lamina::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct NefNetwork {
    pub(crate) id: u64,
    pub(crate) seed: u64,
    pub(crate) dt: f64,
    pub(crate) ensembles: Vec<(String, Ensemble)>,
    pub(crate) nodes: Vec<(String, Node)>,
    pub(crate) connections: Vec<ConnectionSpec>,
    pub(crate) rules: Vec<RuleSpec>,
    pub(crate) probes: Vec<ProbeSpec>,
    names: HashSet<String>,
}

impl Default for NefNetwork {
    fn default() -> Self {
        NefNetwork::new()
    }
}

impl NefNetwork {
    /// An empty network with dt = 1 ms and seed 0.
    pub fn new() -> NefNetwork {
        NefNetwork {
            id: NEXT_NEF_NETWORK_ID.fetch_add(1, Ordering::Relaxed),
            seed: 0,
            dt: 0.001,
            ensembles: Vec::new(),
            nodes: Vec::new(),
            connections: Vec::new(),
            rules: Vec::new(),
            probes: Vec::new(),
            names: HashSet::new(),
        }
    }

    /// Seeds every random draw (encoders, rates, intercepts, eval points, initial voltages).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The step in seconds; checked when the network is built.
    pub fn with_dt(mut self, dt: f64) -> Self {
        self.dt = dt;
        self
    }

    pub fn dt(&self) -> f64 {
        self.dt
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn claim_name(&mut self, name: &str) -> Result<()> {
        if name.is_empty() {
            return Err(invalid!("an ensemble or node needs a non-empty name"));
        }
        if !self.names.insert(name.to_string()) {
            return Err(invalid!(
                "the name `{name}` is already used in this network; names must be unique \
                 (they key the random draws)"
            ));
        }
        Ok(())
    }

    /// Adds an ensemble. Its random parameters are drawn from the network seed and its name.
    pub fn ensemble(&mut self, name: &str, ens: Ensemble) -> Result<EnsembleId> {
        if ens.n_neurons == 0 || ens.dimensions == 0 {
            return Err(invalid!(
                "ensemble `{name}` has {} neurons and {} dimensions; both must be at least 1",
                ens.n_neurons,
                ens.dimensions
            ));
        }
        if !(ens.radius.is_finite() && ens.radius > 0.0) {
            return Err(invalid!(
                "ensemble `{name}` has radius {}; it must be positive and finite",
                ens.radius
            ));
        }
        ens.neuron.validate()?;
        for (what, dist) in [
            ("max_rates", &ens.max_rates),
            ("intercepts", &ens.intercepts),
        ] {
            if let NefDist::Uniform { low, high } = *dist {
                if low > high {
                    return Err(invalid!(
                        "ensemble `{name}`: {what} = NefDist::uniform({low}, {high}): the low bound comes first: write NefDist::uniform({high}, {low})"
                    ));
                }
            }
        }
        if let Some((g, b)) = &ens.gain_bias {
            if g.len() != ens.n_neurons || b.len() != ens.n_neurons {
                return Err(invalid!(
                    "ensemble `{name}`: {} gains and {} biases given for {} neurons",
                    g.len(),
                    b.len(),
                    ens.n_neurons
                ));
            }
            if g.iter().chain(b).any(|x| !super::fits_f32(*x)) {
                return Err(invalid!(
                    "ensemble `{name}`: gains and biases must be finite in float32 (below 3.4e38)"
                ));
            }
        }
        if ens.n_eval_points == Some(0) {
            return Err(invalid!(
                "ensemble `{name}`: n_eval_points must be at least 1"
            ));
        }
        self.claim_name(name)?;
        self.ensembles.push((name.to_string(), ens));
        Ok(EnsembleId {
            net: self.id,
            index: self.ensembles.len() - 1,
        })
    }

    /// Adds a node.
    pub fn node(&mut self, name: &str, node: Node) -> Result<NodeId> {
        if node.size_out() == 0 {
            return Err(invalid!(
                "node `{name}` has no outputs; give it at least one"
            ));
        }
        if let Node::Constant(v) = &node {
            if v.iter().any(|x| !super::fits_f32(*x)) {
                return Err(invalid!(
                    "node `{name}`: constant output {v:?} is not finite in float32 (|x| must \
                     stay below 3.4e38)"
                ));
            }
        }
        self.claim_name(name)?;
        self.nodes.push((name.to_string(), node));
        Ok(NodeId {
            net: self.id,
            index: self.nodes.len() - 1,
        })
    }

    fn describe(&self, kind: ObjKind) -> String {
        match kind {
            ObjKind::Ensemble(i) => format!("ensemble `{}`", self.ensembles[i].0),
            ObjKind::Neurons(i) => format!("`{}.neurons`", self.ensembles[i].0),
            ObjKind::Node(i) => format!("node `{}`", self.nodes[i].0),
            ObjKind::LearningRule(i) => {
                format!("the learning rule of connection {}", self.rules[i].conn)
            }
        }
    }

    /// Full length of an object as a source (`out`) or a target (`in`).
    fn full_size(&self, kind: ObjKind, as_target: bool) -> usize {
        match kind {
            ObjKind::Ensemble(i) => self.ensembles[i].1.dimensions,
            ObjKind::Neurons(i) => self.ensembles[i].1.n_neurons,
            ObjKind::Node(i) if as_target => self.nodes[i].1.size_in(),
            ObjKind::Node(i) => self.nodes[i].1.size_out(),
            ObjKind::LearningRule(i) => self.rules[i].size_in,
        }
    }

    /// Checks that an object belongs here and its slice is in range; returns the sliced length.
    pub(crate) fn resolve(&self, obj: &NefObj, as_target: bool) -> Result<Range<usize>> {
        if obj.net != self.id {
            return Err(invalid!(
                "a handle from another network was passed to this one"
            ));
        }
        let exists = match obj.kind {
            ObjKind::Ensemble(i) | ObjKind::Neurons(i) => i < self.ensembles.len(),
            ObjKind::Node(i) => i < self.nodes.len(),
            ObjKind::LearningRule(i) => i < self.rules.len(),
        };
        if !exists {
            return Err(invalid!(
                "a handle refers to an object this network does not have"
            ));
        }
        if let Some((outer, inner)) = &obj.bad_subslice {
            return Err(invalid!(
                "slice {inner:?} of the slice {outer:?} of {} is empty or out of range: the outer \
                 slice has {} elements, and a sub-slice is taken within it",
                self.describe(obj.kind),
                outer.len()
            ));
        }
        let full = self.full_size(obj.kind, as_target);
        let range = obj.slice.clone().unwrap_or(0..full);
        if range.start >= range.end || range.end > full {
            return Err(invalid!(
                "slice {range:?} of {} is empty or out of range: it has {full} elements",
                self.describe(obj.kind)
            ));
        }
        Ok(range)
    }

    /// Connects `pre` to `post`, as `nengo.Connection(pre, post, **conn)`.
    ///
    /// From an ensemble the connection is decoded: decoders for `function` (identity by
    /// default) are solved on the host; with `Solver::LstsqL2 { weights: true }` and an ensemble
    /// target it becomes a full post x pre weight matrix. `Solver::Nnls { weights: true }` and
    /// `Solver::Dale` solve that matrix directly, with sign constraints. From `ens.neurons()` or a node, the
    /// transform applies to the values themselves. Into `ens.neurons()`, inputs are multiplied
    /// by the neurons' gains, as Nengo does.
    pub fn connect(
        &mut self,
        pre: impl Into<NefObj>,
        post: impl Into<NefObj>,
        conn: Connection,
    ) -> Result<ConnectionId> {
        let (pre, post) = (pre.into(), post.into());
        let (size_mid, size_out) = self.check_connection(&pre, &post, &conn)?;
        self.connections.push(ConnectionSpec {
            pre,
            post,
            conn,
            size_mid,
            size_out,
        });
        Ok(ConnectionId {
            net: self.id,
            index: self.connections.len() - 1,
        })
    }

    /// Adds PES learning to a connection from an ensemble or its neurons. Connect the error
    /// (in the post's decoded space) into the returned handle.
    pub fn pes(&mut self, conn: ConnectionId, pes: Pes) -> Result<LearningRuleId> {
        if !(pes.learning_rate.is_finite() && pes.learning_rate >= 0.0) {
            return Err(invalid!(
                "PES learning rate {} must be finite and non-negative",
                pes.learning_rate
            ));
        }
        pes.pre_synapse.validate()?;
        self.add_rule(conn, RuleKind::Pes(pes))
    }

    /// Lets a synapse model (`model::plasticity`: a user's WGSL snippets, or a built-in such as
    /// `stdp` or `memristor`) change the weights of a connection from an ensemble or its
    /// neurons. The model is checked first (its snippets spliced into the kernel and validated
    /// by naga), so a broken snippet fails here, with its line, before any GPU work. Connect
    /// the error the model reads (in the post's decoded space, as for PES) into the returned
    /// handle; a model that reads no error needs nothing connected.
    pub fn learn(&mut self, conn: ConnectionId, model: SynapseModel) -> Result<LearningRuleId> {
        model.check()?;
        let c = self.connection(conn)?;
        let spiking = |e: usize| self.ensembles[e].1.neuron.is_spiking();
        let m = model.name();
        let pre_ens = match c.pre.kind {
            ObjKind::Ensemble(e) | ObjKind::Neurons(e) => Some(e),
            _ => None,
        };
        if let Some(e) = pre_ens {
            let needs_spikes = model.code(Snippet::OnPre).is_some() || !model.pre_traces.is_empty();
            if needs_spikes && !spiking(e) {
                return Err(invalid!(
                    "synapse model `{m}` reacts to pre spikes (on_pre or a pre trace), but \
                     ensemble `{}` has rate neurons ({}); use a spiking neuron type",
                    self.ensembles[e].0,
                    self.ensembles[e].1.neuron.name()
                ));
            }
        }
        let needs_post = model.code(Snippet::OnPost).is_some() || !model.post_traces.is_empty();
        if needs_post {
            let post_ens = match c.post.kind {
                ObjKind::Neurons(e) => Some(e),
                ObjKind::Ensemble(e) if self.to_neurons(c) => Some(e),
                _ => None,
            };
            let Some(e) = post_ens else {
                return Err(invalid!(
                    "synapse model `{m}` reacts to post spikes (on_post or a post trace), but \
                     connection {} has no post neurons in its rows (it is decoded, or ends at \
                     a node); connect to `post.neurons()` or use a solver with `weights: true`",
                    conn.index
                ));
            };
            if !spiking(e) {
                return Err(invalid!(
                    "synapse model `{m}` reacts to post spikes, but ensemble `{}` has rate \
                     neurons ({}); use a spiking neuron type",
                    self.ensembles[e].0,
                    self.ensembles[e].1.neuron.name()
                ));
            }
        }
        self.add_rule(conn, RuleKind::Model(Box::new(model)))
    }

    fn add_rule(&mut self, conn: ConnectionId, kind: RuleKind) -> Result<LearningRuleId> {
        let c = self.connection(conn)?;
        if !matches!(c.pre.kind, ObjKind::Ensemble(_) | ObjKind::Neurons(_)) {
            return Err(invalid!(
                "a learning rule needs pre activities: the connection must start at an \
                 ensemble or its neurons, not {}",
                self.describe(c.pre.kind)
            ));
        }
        // The error lives in the post's decoded space: into `.neurons` that is the whole
        // post ensemble's; otherwise the connection's output (the post slice).
        let size_in = match c.post.kind {
            ObjKind::Neurons(i) => self.ensembles[i].1.dimensions,
            _ => c.size_out,
        };
        if self.rules.iter().any(|r| r.conn == conn.index) {
            return Err(invalid!(
                "connection {} already has a learning rule",
                conn.index
            ));
        }
        self.rules.push(RuleSpec {
            conn: conn.index,
            kind,
            size_in,
        });
        Ok(LearningRuleId {
            net: self.id,
            index: self.rules.len() - 1,
        })
    }

    /// Whether a connection drives neurons directly (weights solver, or into `.neurons`).
    pub(crate) fn to_neurons(&self, c: &ConnectionSpec) -> bool {
        matches!(c.post.kind, ObjKind::Neurons(_))
            || (matches!(c.post.kind, ObjKind::Ensemble(_)) && c.conn.solver.weights())
    }

    pub(crate) fn connection(&self, conn: ConnectionId) -> Result<&ConnectionSpec> {
        if conn.net != self.id || conn.index >= self.connections.len() {
            return Err(invalid!(
                "a connection handle from another network was passed"
            ));
        }
        Ok(&self.connections[conn.index])
    }

    /// Records the decoded value of an ensemble, a node's output, or activities of
    /// `ens.neurons()` (optionally sliced), each step or every `sample_every`.
    pub fn probe(&mut self, target: impl Into<NefObj>, probe: Probe) -> Result<NefProbeId> {
        let target = target.into();
        self.resolve(&target, false)?;
        if let ObjKind::LearningRule(_) = target.kind {
            return Err(invalid!(
                "probe the error's source instead of a learning rule"
            ));
        }
        self.add_probe(ProbeWhat::Output(target), probe)
    }

    /// Records membrane voltages of an ensemble (LIF and SpikingRectifiedLinear; a neuron
    /// model's first state variable).
    pub fn probe_voltage(&mut self, ens: EnsembleId, probe: Probe) -> Result<NefProbeId> {
        self.resolve(&ens.into(), false)?;
        let (name, e) = &self.ensembles[ens.index];
        if !e.neuron.is_spiking() {
            return Err(invalid!(
                "ensemble `{name}` uses {:?}, which has no voltage to probe",
                e.neuron
            ));
        }
        self.add_probe(ProbeWhat::Voltage(ens.index), probe)
    }

    /// Records a connection's weights (decoders with the transform folded in, or the full
    /// post x pre matrix), row-major, one row per sample.
    pub fn probe_weights(&mut self, conn: ConnectionId, probe: Probe) -> Result<NefProbeId> {
        self.connection(conn)?;
        if probe.synapse != Synapse::None {
            return Err(invalid!("weights are probed unfiltered; use Synapse::None"));
        }
        self.add_probe(ProbeWhat::Weights(conn.index), probe)
    }

    fn add_probe(&mut self, what: ProbeWhat, probe: Probe) -> Result<NefProbeId> {
        probe.synapse.validate()?;
        if let Some(t) = probe.sample_every {
            let steps = t / self.dt;
            if !(t.is_finite() && t > 0.0) || (steps - steps.round()).abs() > 1e-6 || steps < 0.5 {
                return Err(invalid!(
                    "sample_every = {t} s is not a whole number of steps of dt = {} s",
                    self.dt
                ));
            }
        }
        self.probes.push(ProbeSpec { what, probe });
        Ok(NefProbeId {
            net: self.id,
            index: self.probes.len() - 1,
        })
    }
}
