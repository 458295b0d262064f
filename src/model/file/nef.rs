//! NEF model files: ensembles, nodes, connections, PES and probes, built into a [`NefNetwork`].
//! Node outputs and connection functions are expressions (exmex): of `t` (seconds) for nodes,
//! of `x` (1-D) or `x0`, `x1`, ... for connections, with `sin`, `cos`, `exp`, `ln`, `sqrt`,
//! `abs`, `PI`, `^` and the usual operators; they are evaluated on the host.

use super::values::parse_slice;
use super::{at_entry, ModelFile, RunSpec};
use crate::error::Error;
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
    /// argument indices); `example` is an accepted expression, shown when `text` is not one.
    fn parse(
        text: &str,
        names: &[String],
        example: &str,
    ) -> std::result::Result<Expression, String> {
        let ex = exmex::parse::<f64>(&with_plain_numbers(text)).map_err(|e| {
            format!(
                "`{text}` is not an expression: {}; write e.g. \"{example}\"",
                what_is_wrong(text, e.msg())
            )
        })?;
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

/// `text` with numbers in exponent notation (`1e-3`, `2.5E4`) written out (`0.001`, `25000`):
/// the expression parser reads only plain decimals, and users write exponents.
fn with_plain_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let digits = |mut i: usize| {
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_number =
            (chars[i].is_ascii_digit() || chars[i] == '.') && (i == 0 || !word(chars[i - 1]));
        if !starts_number {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut end = digits(i);
        if end < chars.len() && chars[end] == '.' {
            end = digits(end + 1);
        }
        let mut exp = end;
        if exp < chars.len() && matches!(chars[exp], 'e' | 'E') {
            exp += 1;
            if exp < chars.len() && matches!(chars[exp], '+' | '-') {
                exp += 1;
            }
            let after = digits(exp);
            let literal: String = chars[i..after].iter().collect();
            let whole = after > exp && (after == chars.len() || !word(chars[after]));
            if let Some(x) = literal
                .parse::<f64>()
                .ok()
                .filter(|x| whole && x.is_finite())
            {
                out.push_str(&format!("{x}"));
                i = after;
                continue;
            }
        }
        out.extend(&chars[i..end]);
        i = end.max(i + 1);
    }
    out
}

/// What is wrong with an expression the parser refused, in plain words where it can be told
/// from the text, else the parser's own words.
fn what_is_wrong(text: &str, parser: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return "it is empty".into();
    }
    let mut depth = 0i64;
    for c in t.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return "a `)` closes a `(` that was never opened".into(),
            ')' => depth -= 1,
            _ => {}
        }
    }
    if depth > 0 {
        return "a `(` is not closed".into();
    }
    let operators = ['+', '-', '*', '/', '^', '%'];
    if let Some(c) = t.chars().last().filter(|c| operators.contains(c)) {
        return format!("it ends with `{c}`, which needs a value after it");
    }
    if let Some(c) = t
        .chars()
        .next()
        .filter(|c| ['*', '/', '^', '%'].contains(c))
    {
        return format!("it starts with `{c}`, which needs a value before it");
    }
    if t.contains("**") {
        return "`**` is not an operator; powers are written with `^`, as x^2".into();
    }
    let chars: Vec<char> = t.chars().collect();
    if let Some(w) = chars.windows(2).find(|w| {
        w[0].is_ascii_digit() && (w[1].is_alphabetic() || w[1] == '(') && !matches!(w[1], 'e' | 'E')
    }) {
        return format!(
            "a number is followed directly by `{}` (a product is written {}*{})",
            w[1], w[0], w[1]
        );
    }
    if let Some(w) = chars.windows(3).find(|w| {
        let value = |c: char| c.is_alphanumeric() || c == '_' || c == '.' || c == ')';
        value(w[0]) && w[1].is_whitespace() && (value(w[2]) || w[2] == '(')
    }) {
        return format!("`{}` and `{}` have no operator between them", w[0], w[2]);
    }
    let known = [
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
        "atanh", "exp", "ln", "log", "log2", "log10", "sqrt", "cbrt", "abs", "signum", "floor",
        "round", "ceil", "trunc", "fract",
    ];
    if let Some(name) = unknown_function(t, &known) {
        return format!(
            "`{name}` is not a function; the functions are {}",
            known.join(", ")
        );
    }
    format!("the parser says: {parser}")
}

/// The first name written as a call, `name(`, that is not among `known`.
fn unknown_function<'a>(text: &'a str, known: &[&str]) -> Option<&'a str> {
    text.match_indices('(').find_map(|(i, _)| {
        let before = text[..i].trim_end();
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |j| j + 1);
        let name = &before[start..];
        let is_name = name.chars().next().is_some_and(char::is_alphabetic);
        (is_name && !known.contains(&name)).then_some(name)
    })
}

fn synapse(tau: f64) -> Synapse {
    if tau == 0.0 {
        Synapse::None
    } else {
        Synapse::lowpass(tau)
    }
}

/// Ensembles and nodes by their names in the file: the object, its neurons (ensembles only),
/// and its size as a source; and the names of those that could not be made, whose problem is
/// already reported, so that what refers to them adds no second one.
#[derive(Default)]
struct Objects {
    built: HashMap<String, (NefObj, Option<NefObj>, usize)>,
    failed: std::collections::HashSet<String>,
}

/// Where each `[[pes]]` entry stands while the connections are made.
#[derive(Clone, Copy)]
enum Rule {
    /// Its connection is not made yet.
    Pending,
    Made(LearningRuleId),
    /// It, or its connection, has a problem already reported.
    Failed,
}

/// Builds the network, pushing every problem found onto `problems` and going on past it.
pub(super) fn build(file: &ModelFile, run: RunSpec, problems: &mut Vec<Error>) -> Option<NefModel> {
    file.refuse_foreign(
        &[
            ("population", file.populations.len()),
            ("projection", file.projections.len()),
            ("projection_table", file.projection_tables.len()),
            ("poisson", file.poisson.len()),
            ("current", file.currents.len()),
        ],
        problems,
    );
    let mut rules = check_pes_connections(file, problems);
    let mut net = NefNetwork::new().with_seed(file.network.seed);
    if let Some(dt) = file.network.dt_ms {
        if dt.is_finite() && dt > 0.0 {
            net = net.with_dt(dt * 1e-3);
        } else {
            problems.push(Error::Validation(format!(
                "{}: network.dt_ms = {dt}: the time step must be a positive number of milliseconds; write e.g. dt_ms = 1.0 (Nengo's default, 1 ms)",
                file.source.key("network.dt_ms")
            )));
        }
    }
    let mut objects = Objects::default();
    add_ensembles(file, &mut net, &mut objects, problems);
    add_nodes(file, &mut net, &mut objects, problems);
    add_connections(file, &mut net, &objects, &mut rules, problems);
    let probes = add_probes(file, &mut net, &objects, &rules, problems);
    if run.reference_rates.is_some() {
        problems.push(Error::Validation(format!(
            "{}: run.reference_rates: only spiking models have rates",
            file.source.key("run.reference_rates")
        )));
    }
    problems.is_empty().then_some(NefModel {
        network: net,
        probes,
        run,
    })
}

/// Refuses each `[[pes]]` entry whose connection is not in the file, before anything is
/// built; returns the rules' starting states.
fn check_pes_connections(file: &ModelFile, problems: &mut Vec<Error>) -> Vec<Rule> {
    let mut rules = vec![Rule::Pending; file.pes.len()];
    for (r, entry) in file.pes.iter().enumerate() {
        let k = entry.get_ref().connection;
        if k >= file.connections.len() {
            rules[r] = Rule::Failed;
            problems.push(file.entry_error(
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
    rules
}

fn add_ensembles(
    file: &ModelFile,
    net: &mut NefNetwork,
    objects: &mut Objects,
    problems: &mut Vec<Error>,
) {
    for (k, entry) in file.ensembles.iter().enumerate() {
        let e = entry.get_ref();
        let added = ensemble(e)
            .map_err(|(key, what)| file.entry_error("ensemble", k, entry, key, what))
            .and_then(|ens| {
                net.ensemble(&e.name, ens)
                    .map_err(at_entry(file, "ensemble", k, entry))
            });
        match added {
            Ok(id) => {
                objects.built.insert(
                    e.name.clone(),
                    (id.into(), Some(id.neurons()), e.dimensions),
                );
            }
            Err(err) => {
                problems.push(err);
                if !objects.built.contains_key(&e.name) {
                    objects.failed.insert(e.name.clone());
                }
            }
        }
    }
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
    for (key, range) in [("max_rates", e.max_rates), ("intercepts", e.intercepts)] {
        if let Some([low, high]) = range {
            if low > high {
                return Err((
                    key,
                    format!(
                        "{key} = [{low}, {high}]: the low bound comes first: write [{high}, {low}]"
                    ),
                ));
            }
        }
    }
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

fn add_nodes(
    file: &ModelFile,
    net: &mut NefNetwork,
    objects: &mut Objects,
    problems: &mut Vec<Error>,
) {
    for (k, entry) in file.nodes.iter().enumerate() {
        let n = entry.get_ref();
        let added = node(n)
            .map_err(|(key, what)| file.entry_error("node", k, entry, key, what))
            .and_then(|(node, size)| {
                net.node(&n.name, node)
                    .map(|id| (id, size))
                    .map_err(at_entry(file, "node", k, entry))
            });
        match added {
            Ok((id, size)) => {
                objects
                    .built
                    .insert(n.name.clone(), (id.into(), None, size));
            }
            Err(err) => {
                problems.push(err);
                if !objects.built.contains_key(&n.name) {
                    objects.failed.insert(n.name.clone());
                }
            }
        }
    }
}

/// The node an entry describes and its output size; an error names the key at fault.
fn node(n: &NodeSpec) -> std::result::Result<(Node, usize), (&'static str, String)> {
    Ok(match (&n.output, n.size_in) {
        (Some(Output::Constant(values)), None) => (Node::constant(values), values.len()),
        (Some(Output::Expressions(texts)), None) => {
            let exprs = Arc::new(
                parse_all(texts, &["t".to_string()], "0.8*sin(2*PI*t)")
                    .map_err(|e| ("output", e))?,
            );
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

fn parse_all(
    texts: &[String],
    names: &[String],
    example: &str,
) -> std::result::Result<Vec<Expression>, String> {
    texts
        .iter()
        .map(|t| Expression::parse(t, names, example))
        .collect()
}

/// Resolves `name`, `name.neurons`, `name[a:b]` or `pes[k]` to an object and its size as a
/// source (0 for a PES rule, which is only ever a target); `None` for one whose problem is
/// already reported.
fn resolve(
    objects: &Objects,
    rules: &[Rule],
    text: &str,
) -> std::result::Result<Option<(NefObj, usize)>, String> {
    if let Some(k) = text.strip_prefix("pes[").and_then(|r| r.strip_suffix(']')) {
        let k: usize = k.parse().map_err(|_| format!("`{text}` is not pes[k]"))?;
        return match rules.get(k) {
            Some(Rule::Made(rule)) => Ok(Some(((*rule).into(), 0))),
            Some(Rule::Failed) => Ok(None),
            _ => Err(format!(
                "`{text}`: no PES rule {k} on an earlier connection"
            )),
        };
    }
    let (name, range) = parse_slice(text)?;
    let (base, neurons) = match name.strip_suffix(".neurons") {
        Some(base) => (base, true),
        None => (name.as_str(), false),
    };
    let Some((obj, neuron_obj, dims)) = objects.built.get(base) else {
        if objects.failed.contains(base) {
            return Ok(None);
        }
        let mut known: Vec<&String> = objects.built.keys().collect();
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
    Ok(Some(match range {
        Some(r) => (obj.slice(r.clone()), r.len()),
        None => (obj, *dims),
    }))
}

/// Adds the connections in file order, each followed by the PES rules that learn on it.
fn add_connections(
    file: &ModelFile,
    net: &mut NefNetwork,
    objects: &Objects,
    rules: &mut [Rule],
    problems: &mut Vec<Error>,
) {
    // PES rules come before the connections that feed them; the learned connection must exist
    // first, so rules are made as soon as their connection is.
    for (k, entry) in file.connections.iter().enumerate() {
        let c = entry.get_ref();
        let err = |key: &str, what: String| file.entry_error("connection", k, entry, key, what);
        let made = (|| {
            let pre = resolve(objects, rules, &c.pre).map_err(|e| err("pre", e))?;
            let post = resolve(objects, rules, &c.post).map_err(|e| err("post", e))?;
            let (Some((pre, pre_dims)), Some((post, _))) = (pre, post) else {
                return Ok(None);
            };
            let conn = connection(c, pre_dims).map_err(|(key, what)| err(key, what))?;
            net.connect(pre, post, conn)
                .map(Some)
                .map_err(at_entry(file, "connection", k, entry))
        })();
        match made {
            Ok(Some(id)) => add_pes_rules(file, net, k, id, rules, problems),
            Ok(None) => fail_pes_rules(file, k, rules),
            Err(e) => {
                problems.push(e);
                fail_pes_rules(file, k, rules);
            }
        }
    }
}

/// Marks the PES rules on connection `k`, which could not be made, as failed: their problem
/// is the connection's.
fn fail_pes_rules(file: &ModelFile, k: usize, rules: &mut [Rule]) {
    for (r, pes) in file.pes.iter().enumerate() {
        if pes.get_ref().connection == k {
            rules[r] = Rule::Failed;
        }
    }
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
    let example = if pre_dims == 1 { "x^2" } else { "x0*x1" };
    let exprs = Arc::new(parse_all(texts, &names, example)?);
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
    rules: &mut [Rule],
    problems: &mut Vec<Error>,
) {
    for (r, pes) in file.pes.iter().enumerate() {
        let p = pes.get_ref();
        if p.connection == k {
            let mut rule = Pes::new(p.learning_rate);
            if let Some(tau) = p.pre_synapse {
                rule = rule.pre_synapse(synapse(tau));
            }
            rules[r] = match net.pes(id, rule) {
                Ok(made) => Rule::Made(made),
                Err(e) => {
                    problems.push(at_entry(file, "pes", r, pes)(e));
                    Rule::Failed
                }
            };
        }
    }
}

fn add_probes(
    file: &ModelFile,
    net: &mut NefNetwork,
    objects: &Objects,
    rules: &[Rule],
    problems: &mut Vec<Error>,
) -> Vec<NamedNefProbe> {
    let mut probes = Vec::new();
    for (k, entry) in file.probes.iter().enumerate() {
        let p = entry.get_ref();
        let err = |key: &str, what: String| file.entry_error("probe", k, entry, key, what);
        if p.sample_every_ms.is_some() || !matches!(p.kind.as_deref(), None | Some("decoded")) {
            problems.push(err(
                "kind",
                "NEF probes record decoded values (kind = \"decoded\"), with an optional synapse"
                    .into(),
            ));
            continue;
        }
        let target = match resolve(objects, rules, &p.target) {
            Ok(Some((target, _))) => target,
            Ok(None) => continue,
            Err(e) => {
                problems.push(err("target", e));
                continue;
            }
        };
        let mut probe = Probe::new();
        if let Some(tau) = p.synapse {
            probe = probe.synapse(synapse(tau));
        }
        match net.probe(target, probe) {
            Ok(id) => probes.push(NamedNefProbe {
                name: p.name.clone().unwrap_or_else(|| p.target.clone()),
                probe: id,
            }),
            Err(e) => problems.push(at_entry(file, "probe", k, entry)(e)),
        }
    }
    probes
}
