//! NEF model files: ensembles, nodes, connections, PES and probes, built into a [`NefNetwork`].
//! Node outputs and connection functions are expressions (exmex): of `t` (seconds) for nodes,
//! of `x` (1-D) or `x0`, `x1`, ... for connections, with `sin`, `cos`, `exp`, `ln`, `sqrt`,
//! `abs`, `PI`, `^` and the usual operators; they are evaluated on the host.

use super::values::parse_slice;
use super::{at_entry, ModelFile, RunSpec};
use crate::error::{Error, Result};
use crate::model::nef::{
    Connection, ConnectionId, Ensemble, LearningRuleId, Lif, LifRate, NefDist, NefNetwork,
    NefNeuron, NefObj, NefProbeId, Node, Pes, Probe, RectifiedLinear, SpikingRectifiedLinear,
    Synapse,
};
use exmex::{Express, FlatEx};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// `[[ensemble]]`: `n_neurons` of `neuron` (`lif`, `lif_rate`, `relu`, `spiking_relu`; Nengo's
/// defaults) representing `dimensions` within `radius`; `max_rates` and `intercepts` as
/// `[low, high]` (uniform), Nengo's defaults when left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleSpec {
    /// The name it is known by in the file (and in the recordings).
    pub name: String,
    /// Number of neurons.
    pub n_neurons: usize,
    #[serde(default = "one")]
    /// Dimensions of the represented vector.
    pub dimensions: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Radius of the represented space.
    pub radius: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The neuron model.
    pub neuron: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Maximum firing rates `[low, high]`, Hz, uniform.
    pub max_rates: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Intercepts `[low, high]`, uniform.
    pub intercepts: Option<[f64; 2]>,
}

fn one() -> usize {
    1
}

/// `[[node]]`: `output` is a list of numbers (a constant) or of expressions of `t` (one per
/// dimension); with `size_in` and no output, the node passes its summed input on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The name it is known by in the file (and in the recordings).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The output: constants or expressions of `t`.
    pub output: Option<Output>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Input size of a passthrough node.
    pub size_in: Option<usize>,
}

/// A node's output as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a list of numbers, or a list of expressions of t such as \"sin(2*PI*t)\""
)]
pub enum Output {
    /// A constant vector.
    Constant(Vec<f64>),
    /// One expression of `t` (seconds) per dimension.
    Expressions(Vec<String>),
}

/// `[[connection]]`: from `pre` to `post` (`name`, `name.neurons`, `name[a:b]`, or a PES
/// rule as `pes[k]`), with an optional `function` (expressions of `x`, one per output
/// dimension), `transform` (a number or a matrix), and `synapse` (lowpass time constant in
/// seconds, or 0 for none; Nengo's 0.005 by default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// The source: `name`, `name.neurons` or `name[a:b]`.
    pub pre: String,
    /// The target: `name`, `name.neurons`, `name[a:b]` or `pes[k]`.
    pub post: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Expressions of `x` (or `x0`, `x1`, ...), one per output dimension.
    pub function: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// A scale or a matrix.
    pub transform: Option<TransformSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Lowpass time constant, seconds; 0 for none.
    pub synapse: Option<f64>,
}

/// A transform as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a number or a matrix (a list of rows)")]
pub enum TransformSpec {
    /// Multiplies every element.
    Scale(f64),
    /// A matrix, a list of rows.
    Matrix(Vec<Vec<f64>>),
}

/// `[[pes]]`: PES learning on `connection` (its index among the `[[connection]]` entries);
/// connect the error into it with a connection whose `post` is `pes[k]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PesSpec {
    /// Index of the learned connection among the `[[connection]]` entries.
    pub connection: usize,
    /// PES learning rate.
    pub learning_rate: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Lowpass time constant of the presynaptic activities, seconds; 0 for none.
    pub pre_synapse: Option<f64>,
}

/// A NEF probe with its name.
#[derive(Clone, Debug)]
pub struct NamedNefProbe {
    /// The name it is known by in the file (and in the recordings).
    pub name: String,
    /// The probe to read from the simulator.
    pub probe: NefProbeId,
}

/// A built NEF model file.
pub struct NefModel {
    /// The network, ready for a simulator.
    pub network: NefNetwork,
    /// `[[probe]]` entries.
    pub probes: Vec<NamedNefProbe>,
    /// The `[run]` table.
    pub run: RunSpec,
}

/// A parsed expression and where each variable's value comes from.
struct Expression {
    ex: FlatEx<f64>,
    /// For each variable of `ex` (in exmex's order), its index in the argument vector.
    args: Vec<usize>,
}

impl Expression {
    /// Parses `text`, whose variables must be among `names` (their positions are the
    /// argument indices).
    fn parse(text: &str, names: &[String]) -> std::result::Result<Expression, String> {
        let ex = exmex::parse::<f64>(text).map_err(|e| format!("`{text}`: {e}"))?;
        let args = ex
            .var_names()
            .iter()
            .map(|v| {
                names.iter().position(|n| n == v).ok_or_else(|| {
                    format!("`{text}`: unknown variable `{v}`; this expression may use {names:?}")
                })
            })
            .collect::<std::result::Result<_, _>>()?;
        Ok(Expression { ex, args })
    }

    fn eval(&self, values: &[f64]) -> f64 {
        let vars: Vec<f64> = self.args.iter().map(|&i| values[i]).collect();
        // Parsing checked the variables; what remains to fail is arithmetic, which gives NaN,
        // and the NEF build reports NaN where it enters.
        self.ex.eval(&vars).unwrap_or(f64::NAN)
    }
}

fn synapse(tau: f64) -> Synapse {
    if tau == 0.0 {
        Synapse::None
    } else {
        Synapse::lowpass(tau)
    }
}

/// An ensemble or node by its name in the file: the object, its neurons (ensembles only), and
/// its size as a source.
type Objects = HashMap<String, (NefObj, Option<NefObj>, usize)>;

/// The PES rules made so far, by their index among the `[[pes]]` entries.
type Rules = [Option<LearningRuleId>];

pub(super) fn build(file: &ModelFile, run: RunSpec) -> Result<NefModel> {
    file.refuse_foreign(&[
        ("population", file.populations.len()),
        ("projection", file.projections.len()),
        ("projection_table", file.projection_tables.len()),
        ("poisson", file.poisson.len()),
        ("current", file.currents.len()),
    ])?;
    check_pes_connections(file)?;
    let mut net = NefNetwork::new().with_seed(file.network.seed);
    if let Some(dt) = file.network.dt_ms {
        net = net.with_dt(dt * 1e-3);
    }
    let mut objects = Objects::new();
    add_ensembles(file, &mut net, &mut objects)?;
    add_nodes(file, &mut net, &mut objects)?;
    let rules = add_connections(file, &mut net, &objects)?;
    let probes = add_probes(file, &mut net, &objects, &rules)?;
    if run.reference_rates.is_some() {
        return Err(Error::Validation(format!(
            "{}: run.reference_rates: only spiking models have rates",
            file.path().display()
        )));
    }
    Ok(NefModel {
        network: net,
        probes,
        run,
    })
}

/// Refuses a `[[pes]]` entry whose connection is not in the file, before anything is built.
fn check_pes_connections(file: &ModelFile) -> Result<()> {
    for (r, entry) in file.pes.iter().enumerate() {
        let k = entry.get_ref().connection;
        if k >= file.connections.len() {
            return Err(file.entry_error(
                "pes",
                r,
                entry,
                "connection",
                format!(
                    "there is no connection {k} (the file has {}, counted from 0)",
                    file.connections.len()
                ),
            ));
        }
    }
    Ok(())
}

fn add_ensembles(file: &ModelFile, net: &mut NefNetwork, objects: &mut Objects) -> Result<()> {
    for (k, entry) in file.ensembles.iter().enumerate() {
        let e = entry.get_ref();
        let ens =
            ensemble(e).map_err(|(key, what)| file.entry_error("ensemble", k, entry, key, what))?;
        let id = net
            .ensemble(&e.name, ens)
            .map_err(at_entry(file, "ensemble", k, entry))?;
        objects.insert(
            e.name.clone(),
            (id.into(), Some(id.neurons()), e.dimensions),
        );
    }
    Ok(())
}

/// The ensemble an entry describes; an error names the key at fault.
fn ensemble(e: &EnsembleSpec) -> std::result::Result<Ensemble, (&'static str, String)> {
    let neuron: NefNeuron = match e.neuron.as_deref().unwrap_or("lif") {
        "lif" => Lif::default().into(),
        "lif_rate" => LifRate::default().into(),
        "relu" => RectifiedLinear::default().into(),
        "spiking_relu" => SpikingRectifiedLinear::default().into(),
        other => {
            return Err((
                "neuron",
                format!(
                    "`{other}` is not a NEF neuron type; use lif, lif_rate, relu or spiking_relu"
                ),
            ))
        }
    };
    let mut ens = Ensemble::new(e.n_neurons, e.dimensions).neuron(neuron);
    if let Some(r) = e.radius {
        ens = ens.radius(r);
    }
    if let Some([low, high]) = e.max_rates {
        ens = ens.max_rates(NefDist::Uniform { low, high });
    }
    if let Some([low, high]) = e.intercepts {
        ens = ens.intercepts(NefDist::Uniform { low, high });
    }
    Ok(ens)
}

fn add_nodes(file: &ModelFile, net: &mut NefNetwork, objects: &mut Objects) -> Result<()> {
    for (k, entry) in file.nodes.iter().enumerate() {
        let n = entry.get_ref();
        let (node, size) =
            node(n).map_err(|(key, what)| file.entry_error("node", k, entry, key, what))?;
        let id = net
            .node(&n.name, node)
            .map_err(at_entry(file, "node", k, entry))?;
        objects.insert(n.name.clone(), (id.into(), None, size));
    }
    Ok(())
}

/// The node an entry describes and its output size; an error names the key at fault.
fn node(n: &NodeSpec) -> std::result::Result<(Node, usize), (&'static str, String)> {
    Ok(match (&n.output, n.size_in) {
        (Some(Output::Constant(values)), None) => (Node::constant(values), values.len()),
        (Some(Output::Expressions(texts)), None) => {
            let exprs = Arc::new(parse_all(texts, &["t".to_string()]).map_err(|e| ("output", e))?);
            let size = exprs.len();
            let f = move |t: f64| exprs.iter().map(|e| e.eval(&[t])).collect();
            (Node::function(size, f), size)
        }
        (None, Some(size)) => (Node::passthrough(size), size),
        (Some(_), Some(_)) => {
            return Err((
                "size_in",
                "give output or size_in (a passthrough), not both".into(),
            ))
        }
        (None, None) => {
            return Err((
                "output",
                "missing: give an output, or size_in for a passthrough".into(),
            ))
        }
    })
}

fn parse_all(texts: &[String], names: &[String]) -> std::result::Result<Vec<Expression>, String> {
    texts.iter().map(|t| Expression::parse(t, names)).collect()
}

/// Resolves `name`, `name.neurons`, `name[a:b]` or `pes[k]` to an object and its size as a
/// source (0 for a PES rule, which is only ever a target).
fn resolve(
    objects: &Objects,
    rules: &Rules,
    text: &str,
) -> std::result::Result<(NefObj, usize), String> {
    if let Some(k) = text.strip_prefix("pes[").and_then(|r| r.strip_suffix(']')) {
        let k: usize = k.parse().map_err(|_| format!("`{text}` is not pes[k]"))?;
        let rule = rules
            .get(k)
            .copied()
            .flatten()
            .ok_or_else(|| format!("`{text}`: no PES rule {k} on an earlier connection"))?;
        return Ok((rule.into(), 0));
    }
    let (name, range) = parse_slice(text)?;
    let (base, neurons) = match name.strip_suffix(".neurons") {
        Some(base) => (base, true),
        None => (name.as_str(), false),
    };
    let Some((obj, neuron_obj, dims)) = objects.get(base) else {
        let mut known: Vec<&String> = objects.keys().collect();
        known.sort();
        return Err(format!(
            "no ensemble or node named `{base}` (there are {known:?})"
        ));
    };
    let obj = match (neurons, neuron_obj) {
        (true, Some(n)) => n.clone(),
        (true, None) => return Err(format!("`{base}` is a node; only ensembles have .neurons")),
        (false, _) => obj.clone(),
    };
    Ok(match range {
        Some(r) => (obj.slice(r.clone()), r.len()),
        None => (obj, *dims),
    })
}

/// Adds the connections in file order, each followed by the PES rules that learn on it, and
/// returns the rules.
fn add_connections(
    file: &ModelFile,
    net: &mut NefNetwork,
    objects: &Objects,
) -> Result<Vec<Option<LearningRuleId>>> {
    // PES rules come before the connections that feed them; the learned connection must exist
    // first, so rules are made as soon as their connection is.
    let mut rules = vec![None; file.pes.len()];
    for (k, entry) in file.connections.iter().enumerate() {
        let c = entry.get_ref();
        let err = |key: &str, what: String| file.entry_error("connection", k, entry, key, what);
        let (pre, pre_dims) = resolve(objects, &rules, &c.pre).map_err(|e| err("pre", e))?;
        let (post, _) = resolve(objects, &rules, &c.post).map_err(|e| err("post", e))?;
        let conn = connection(c, pre_dims).map_err(|(key, what)| err(key, what))?;
        let id = net
            .connect(pre, post, conn)
            .map_err(at_entry(file, "connection", k, entry))?;
        add_pes_rules(file, net, k, id, &mut rules)?;
    }
    Ok(rules)
}

/// The connection an entry describes, from a pre of `pre_dims`; an error names the key at
/// fault.
fn connection(
    c: &ConnectionSpec,
    pre_dims: usize,
) -> std::result::Result<Connection, (&'static str, String)> {
    let mut conn = Connection::new();
    if let Some(texts) = &c.function {
        conn = with_function(conn, texts, pre_dims).map_err(|e| ("function", e))?;
    }
    match &c.transform {
        Some(TransformSpec::Scale(s)) => conn = conn.scale(*s),
        Some(TransformSpec::Matrix(rows)) => {
            conn = conn.transform(matrix(rows).map_err(|e| ("transform", e))?)
        }
        None => {}
    }
    if let Some(tau) = c.synapse {
        conn = conn.synapse(synapse(tau));
    }
    Ok(conn)
}

fn with_function(
    conn: Connection,
    texts: &[String],
    pre_dims: usize,
) -> std::result::Result<Connection, String> {
    let names: Vec<String> = if pre_dims == 1 {
        vec!["x".into(), "x0".into()]
    } else {
        (0..pre_dims).map(|i| format!("x{i}")).collect()
    };
    let exprs = Arc::new(parse_all(texts, &names)?);
    let size = exprs.len();
    Ok(conn.function(size, move |x| {
        // `x` and `x0` are the same value for a 1-D pre.
        let args: Vec<f64> = if x.len() == 1 {
            vec![x[0], x[0]]
        } else {
            x.to_vec()
        };
        exprs.iter().map(|e| e.eval(&args)).collect()
    }))
}

fn matrix(rows: &[Vec<f64>]) -> std::result::Result<ndarray::Array2<f64>, String> {
    let cols = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != cols) {
        return Err("the rows of the matrix differ in length".into());
    }
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    ndarray::Array2::from_shape_vec((rows.len(), cols), flat).map_err(|e| e.to_string())
}

/// Makes the PES rules that learn on connection `k` (now `id`).
fn add_pes_rules(
    file: &ModelFile,
    net: &mut NefNetwork,
    k: usize,
    id: ConnectionId,
    rules: &mut Rules,
) -> Result<()> {
    for (r, pes) in file.pes.iter().enumerate() {
        let p = pes.get_ref();
        if p.connection == k {
            let mut rule = Pes::new(p.learning_rate);
            if let Some(tau) = p.pre_synapse {
                rule = rule.pre_synapse(synapse(tau));
            }
            rules[r] = Some(net.pes(id, rule).map_err(at_entry(file, "pes", r, pes))?);
        }
    }
    Ok(())
}

fn add_probes(
    file: &ModelFile,
    net: &mut NefNetwork,
    objects: &Objects,
    rules: &Rules,
) -> Result<Vec<NamedNefProbe>> {
    let mut probes = Vec::new();
    for (k, entry) in file.probes.iter().enumerate() {
        let p = entry.get_ref();
        let err = |key: &str, what: String| file.entry_error("probe", k, entry, key, what);
        if p.sample_every_ms.is_some() || !matches!(p.kind.as_deref(), None | Some("decoded")) {
            return Err(err(
                "kind",
                "NEF probes record decoded values (kind = \"decoded\"), with an optional synapse"
                    .into(),
            ));
        }
        let (target, _) = resolve(objects, rules, &p.target).map_err(|e| err("target", e))?;
        let mut probe = Probe::new();
        if let Some(tau) = p.synapse {
            probe = probe.synapse(synapse(tau));
        }
        let id = net
            .probe(target, probe)
            .map_err(at_entry(file, "probe", k, entry))?;
        probes.push(NamedNefProbe {
            name: p.name.clone().unwrap_or_else(|| p.target.clone()),
            probe: id,
        });
    }
    Ok(probes)
}
