//! Lowering a `NefNetwork` into a `NefPlan`, as Nengo's builder turns a model into signals and
//! operators: ensembles get gains, biases and scaled encoders; decoded connections get decoders
//! solved on the host; every vector gets a place in `sig` and every matrix in `w`.
//!
//! The operators of one step are grouped into levels: an operator runs in a level after every
//! operator producing one of its inputs. Values that come from a synaptic filter are state from
//! the previous step, so a network whose connections all have synapses needs only a few levels;
//! a loop of connections without synapses is refused, as Nengo refuses it. Each level runs as
//! at most one dispatch per kernel, whatever the number of ensembles and connections.
//!
//! By what they lower: `ensembles`, `nodes`, `connections`, `rules` (PES and what every rule
//! shares), `synapse_rule`, `probes`; `signals` and `filters` are the operators they share, and
//! `levels` orders the operators of a step into dispatches.

use super::layout::*;
use super::plan::*;
use super::solvers::LstsqL2Factor;
use crate::error::{invalid, Error, Result};
use crate::model::nef::network::{NefNetwork, RuleKind};
use crate::model::nef::Synapse;
use crate::model::neuron_model::NeuronModel;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::rc::Rc;

mod connections;
mod ensembles;
mod filters;
mod levels;
mod nodes;
mod probes;
mod rules;
mod signals;
// Learning rules with synapse models: an `impl Lowering` of their own.
mod synapse_rule;

pub use ensembles::ensemble_rates;
pub use probes::NEF_CHUNK_STEPS;

/// Columns one thread handles in a long matrix row (decoders, PES updates).
const SEGMENT: usize = 256;

/// Elements `start .. start + len` of `sig`.
fn span(start: u32, len: u32) -> Range<u32> {
    start..start + len
}

/// A sum target: which vector of which object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum SumTarget {
    EnsInput(usize),
    NeuronInput(usize),
    NodeInput(usize),
    RuleError(usize),
}

enum OpRows {
    Feed,
    Sum(Vec<(u32, Vec<SumEntry>)>),
    MatVec(Vec<MatVecRow>),
    Neurons(Vec<NeuronRow>),
    /// A callback node, by its index in `NefPlan::host_nodes`.
    Host(usize),
    /// A filter whose output is used in the step that computes its input (Nengo's "set"
    /// mode, as PES's `pre_synapse`), not the next one.
    Filter(Vec<FilterRow>),
}

/// An operator of the level phase: what it reads and writes in `sig`.
struct Op {
    rows: OpRows,
    reads: Vec<Range<u32>>,
    writes: Vec<Range<u32>>,
    /// For error messages.
    what: String,
}

struct EnsSignals {
    input: u32,
    j_enc: u32,
    neuron_in: u32,
    out: u32,
    voltage: u32,
    model: Option<ModelSignals>,
}

/// Where a user-defined model's ensemble keeps what `EnsRecord` points to.
struct ModelSignals {
    kind: u32,
    state: u32,
    params: u32,
    n_ref: f32,
}

struct Lowering<'a> {
    net: &'a NefNetwork,
    sig: Vec<f32>,
    w: Vec<f32>,
    coefs: Vec<(Synapse, FilterCoef)>,
    ops: Vec<Op>,
    filters: Vec<FilterRow>,
    pes: Vec<PesRow>,
    sums: BTreeMap<SumTarget, BTreeMap<u32, Vec<SumEntry>>>,
    ens: Vec<EnsSignals>,
    node_out: Vec<u32>,
    /// Where a node's input is summed: its output for a passthrough node.
    node_in: Vec<u32>,
    host_nodes: Vec<HostNode>,
    /// Factorised decoder systems by (ensemble, reg bits), over the ensemble's eval points.
    factors: HashMap<(usize, u64), Rc<LstsqL2Factor>>,
    rule_error: Vec<u32>,
    encoder_copies: Vec<EncoderCopy>,
    /// The distinct user-defined neuron models: ensembles of kind `NEF_CUSTOM + k` run `k`.
    neuron_models: Vec<NeuronModel>,
}

/// A lowered learning rule with a synapse model, and its rows.
type LoweredRule = (BuiltRule, Vec<SynapseRow>);

/// Lowers a NEF network. Deterministic: the same network and seed give the same plan.
pub fn build_nef(net: &NefNetwork) -> Result<NefPlan> {
    if !(net.dt.is_finite() && net.dt > 0.0) {
        return Err(invalid!(
            "dt = {} s: the time step must be a positive number of seconds; use e.g. \
             NefNetwork::with_dt(0.001) (Nengo's default, 1 ms)",
            net.dt
        ));
    }
    let mut l = Lowering::new(net);
    let built_ensembles = l.ensembles()?;
    let (feed_dst, feeds) = l.nodes();
    l.alloc_rule_errors();
    let built_connections = l.connections(&built_ensembles)?;
    let rules = l.rules(&built_ensembles, &built_connections)?;
    let probe_sources = l.probe_sources(&built_ensembles, &built_connections)?;
    l.finish_sums();
    let levels = l.levels()?;
    let record = probes::record_layout(net, probe_sources);
    check_index_range(l.sig.len(), l.w.len(), record.len)?;

    let ensembles = ensembles::ensemble_records(net, &l.ens, &built_ensembles);
    let neuron_source = (!l.neuron_models.is_empty()).then(|| {
        let models: Vec<&NeuronModel> = l.neuron_models.iter().collect();
        let source = crate::model::nef::neuron_kernel::generate(&models, net.dt * 1e3);
        std::sync::Arc::from(source.text.as_str())
    });
    let (dispatches, built_rules) =
        step_dispatches(levels, !record.rows.is_empty(), l.pes, rules, l.filters);
    Ok(NefPlan {
        dt: net.dt,
        sig: l.sig,
        w: l.w,
        ensembles,
        filter_coefs: l.coefs.into_iter().map(|(_, c)| c).collect(),
        dispatches,
        feed_dst,
        feeds,
        record_rows: record.rows,
        record_len: record.len,
        probes: record.probes,
        chunk_steps: record.chunk_steps,
        built_ensembles,
        built_connections,
        host_nodes: l.host_nodes,
        encoder_copies: l.encoder_copies,
        rules: built_rules,
        neuron_models: l.neuron_models,
        neuron_source,
    })
}

/// The GPU tables index `sig`, `w` and the record with `u32`s.
fn check_index_range(sig_len: usize, w_len: usize, record_len: usize) -> Result<()> {
    for (what, len) in [
        ("signals", sig_len),
        ("weights", w_len),
        ("probe records", record_len),
    ] {
        if len >= u32::MAX as usize {
            return Err(Error::Build(format!(
                "the model needs {len} floats of {what}, more than 32-bit indices address; \
                 make it smaller or probe less"
            )));
        }
    }
    Ok(())
}

/// One step: the levels, then what reads the step's values (the record) before what changes
/// them for the next step (learning, end-of-step filters), and the step counter last.
fn step_dispatches(
    levels: Vec<NefDispatch>,
    record: bool,
    pes: Vec<PesRow>,
    rules: Vec<LoweredRule>,
    filters: Vec<FilterRow>,
) -> (Vec<NefDispatch>, Vec<BuiltRule>) {
    let mut dispatches = levels;
    if record {
        dispatches.push(NefDispatch::Record);
    }
    if !pes.is_empty() {
        dispatches.push(NefDispatch::Pes { rows: pes });
    }
    let mut built_rules = Vec::new();
    for (rule, (built, rows)) in rules.into_iter().enumerate() {
        dispatches.push(NefDispatch::Synapse { rule, rows });
        built_rules.push(built);
    }
    if !filters.is_empty() {
        dispatches.push(NefDispatch::Filter { rows: filters });
    }
    dispatches.push(NefDispatch::Advance);
    (dispatches, built_rules)
}

fn context(e: Error, what: &str) -> Error {
    match e {
        Error::Validation(m) => Error::Validation(format!("{what}: {m}")),
        Error::Build(m) => Error::Build(format!("{what}: {m}")),
        other => other,
    }
}

impl<'a> Lowering<'a> {
    fn new(net: &'a NefNetwork) -> Self {
        Lowering {
            net,
            sig: Vec::new(),
            w: Vec::new(),
            coefs: Vec::new(),
            ops: Vec::new(),
            filters: Vec::new(),
            pes: Vec::new(),
            sums: BTreeMap::new(),
            ens: Vec::new(),
            node_out: Vec::new(),
            node_in: Vec::new(),
            host_nodes: Vec::new(),
            factors: HashMap::new(),
            rule_error: Vec::new(),
            encoder_copies: Vec::new(),
            neuron_models: Vec::new(),
        }
    }

    fn ensembles(&mut self) -> Result<Vec<BuiltEnsemble>> {
        let net = self.net;
        net.ensembles
            .iter()
            .enumerate()
            .map(|(i, (name, e))| self.ensemble(i, name, e))
            .collect()
    }

    /// Error inputs of the rules come before the connections, which may target them.
    fn alloc_rule_errors(&mut self) {
        for rule in &self.net.rules {
            let at = self.alloc(rule.size_in, 0.0);
            self.rule_error.push(at);
        }
    }

    fn connections(&mut self, built: &[BuiltEnsemble]) -> Result<Vec<BuiltConnection>> {
        let net = self.net;
        let mut built_connections = Vec::new();
        for (i, c) in net.connections.iter().enumerate() {
            built_connections.push(
                self.connection(c, built)
                    .map_err(|e| context(e, &format!("connection {i}")))?,
            );
        }
        Ok(built_connections)
    }

    /// Lowers every learning rule: PES into `self.pes`; rules with synapse models are returned
    /// in order, each with its own dispatch.
    fn rules(
        &mut self,
        built: &[BuiltEnsemble],
        conns: &[BuiltConnection],
    ) -> Result<Vec<LoweredRule>> {
        let net = self.net;
        let mut rules = Vec::new();
        for (i, rule) in net.rules.iter().enumerate() {
            match &rule.kind {
                RuleKind::Pes(pes) => self.pes_rule(i, rule.conn, pes, built, conns)?,
                RuleKind::Model(model) => {
                    rules.push(self.model_rule(i, rule.conn, model, built, conns)?)
                }
            }
        }
        Ok(rules)
    }

    fn probe_sources(
        &mut self,
        built: &[BuiltEnsemble],
        conns: &[BuiltConnection],
    ) -> Result<Vec<probes::ProbeSource>> {
        let net = self.net;
        net.probes
            .iter()
            .map(|p| self.probe_source(&p.what, p.probe.synapse, built, conns))
            .collect()
    }
}
