//! Lowering a `NefNetwork` into a `NefPlan`, as Nengo's builder turns a model into signals and
//! operators: ensembles get gains, biases and scaled encoders; decoded connections get decoders
//! solved on the host; every vector gets a place in `sig` and every matrix in `w`.
//!
//! The operators of one step are grouped into levels: an operator runs in a level after every
//! operator producing one of its inputs. Values that come from a synaptic filter are state from
//! the previous step, so a network whose connections all have synapses needs only a few levels;
//! a loop of connections without synapses is refused, as Nengo refuses it. Each level runs as
//! at most one dispatch per kernel, whatever the number of ensembles and connections.

use super::layout::*;
use super::plan::*;
use super::solvers::{LstsqL2Factor, Solver};
use crate::error::{invalid, Error, Result};
use crate::model::nef::network::{
    ConnectionSpec, NefNetwork, ObjKind, ProbeWhat, RuleKind, Transform,
};
use crate::model::nef::{default_n_eval_points, Ensemble, NefDist, NefNeuron, Node, Pes, Synapse};
use crate::rng::{stream, KeyHasher};
use ndarray::{s, Array2};
use rand::Rng;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;
use std::rc::Rc;

// Learning rules with synapse models: an `impl Lowering` of their own.
mod synapse_rule;

/// Steps per chunk unless the probes need more memory than `MAX_RECORD_FLOATS` for it.
pub const NEF_CHUNK_STEPS: u32 = 1000;
/// Largest record of one chunk: 256 MiB of samples.
const MAX_RECORD_FLOATS: usize = 1 << 26;
const NO_PRODUCER: u32 = u32::MAX;
/// Columns one thread handles in a long matrix row (decoders, PES updates).
const SEGMENT: usize = 256;
/// Matrices with fewer rows than this have their long rows split into segments; with more,
/// one thread per row already fills a GPU.
const SPLIT_BELOW_ROWS: usize = 1024;

/// Elements `start .. start + len` of `sig`.
fn span(start: u32, len: u32) -> Range<u32> {
    start..start + len
}

/// Random streams of an ensemble, by purpose.
const DRAW_ENCODERS: u64 = 0;
const DRAW_MAX_RATES: u64 = 1;
const DRAW_INTERCEPTS: u64 = 2;
const DRAW_EVAL_POINTS: u64 = 3;
const DRAW_VOLTAGE: u64 = 4;
/// Which pre neurons a `Solver::Dale` with a fraction makes excitatory.
const DRAW_EXCITATORY: u64 = 5;

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
}

/// Lowers a NEF network. Deterministic: the same network and seed give the same plan.
pub fn build_nef(net: &NefNetwork) -> Result<NefPlan> {
    if !(net.dt.is_finite() && net.dt > 0.0) {
        return Err(invalid!("dt = {} s must be positive and finite", net.dt));
    }
    let mut l = Lowering {
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
    };
    let built_ensembles = net
        .ensembles
        .iter()
        .enumerate()
        .map(|(i, (name, e))| l.ensemble(i, name, e))
        .collect::<Result<Vec<_>>>()?;
    let (feed_dst, feeds) = l.nodes();
    for rule in &net.rules {
        let at = l.alloc(rule.size_in, 0.0);
        l.rule_error.push(at);
    }
    let mut built_connections = Vec::new();
    for (i, c) in net.connections.iter().enumerate() {
        built_connections.push(
            l.connection(c, &built_ensembles)
                .map_err(|e| context(e, &format!("connection {i}")))?,
        );
    }
    let mut rules = Vec::new();
    for (i, rule) in net.rules.iter().enumerate() {
        match &rule.kind {
            RuleKind::Pes(pes) => {
                l.pes_rule(i, rule.conn, pes, &built_ensembles, &built_connections)?
            }
            RuleKind::Model(model) => rules.push(l.model_rule(
                i,
                rule.conn,
                model,
                &built_ensembles,
                &built_connections,
            )?),
        }
    }
    let probe_sources = net
        .probes
        .iter()
        .map(|p| {
            l.probe_source(
                &p.what,
                p.probe.synapse,
                &built_ensembles,
                &built_connections,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    l.finish_sums();
    let levels = l.levels()?;

    // Size chunks so the record of one chunk stays within MAX_RECORD_FLOATS.
    let every: Vec<u32> = net
        .probes
        .iter()
        .map(|p| {
            p.probe
                .sample_every
                .map_or(1, |t| (t / net.dt).round() as u32)
        })
        .collect();
    let per_step: f64 = probe_sources
        .iter()
        .zip(&every)
        .map(|((_, width, _), e)| *width as f64 / *e as f64)
        .sum();
    let chunk_steps = if per_step > 0.0 {
        ((MAX_RECORD_FLOATS as f64 / per_step) as u32).clamp(1, NEF_CHUNK_STEPS)
    } else {
        NEF_CHUNK_STEPS
    };
    let mut record_rows = Vec::new();
    let mut probes = Vec::new();
    let mut record_len = 0usize;
    for ((src, width, from_weights), every) in probe_sources.into_iter().zip(every) {
        let layout = NefProbeLayout {
            rec_off: record_len,
            width,
            every,
        };
        record_len += chunk_steps.div_ceil(every) as usize * width;
        for k in 0..width {
            record_rows.push(RecordRow {
                src: src + k as u32,
                from_weights: from_weights as u32,
                every,
                rec_off: layout.rec_off as u32,
                width: width as u32,
                k: k as u32,
                _pad: [0; 2],
            });
        }
        probes.push(layout);
    }
    for (what, len) in [
        ("signals", l.sig.len()),
        ("weights", l.w.len()),
        ("probe records", record_len),
    ] {
        if len >= u32::MAX as usize {
            return Err(Error::Build(format!(
                "the model needs {len} floats of {what}, more than 32-bit indices address; \
                 make it smaller or probe less"
            )));
        }
    }

    let mut dispatches = levels;
    if !record_rows.is_empty() {
        dispatches.push(NefDispatch::Record);
    }
    if !l.pes.is_empty() {
        dispatches.push(NefDispatch::Pes { rows: l.pes });
    }
    let mut built_rules = Vec::new();
    for (rule, (built, rows)) in rules.into_iter().enumerate() {
        dispatches.push(NefDispatch::Synapse { rule, rows });
        built_rules.push(built);
    }
    if !l.filters.is_empty() {
        dispatches.push(NefDispatch::Filter { rows: l.filters });
    }
    dispatches.push(NefDispatch::Advance);
    Ok(NefPlan {
        dt: net.dt,
        sig: l.sig,
        w: l.w,
        ensembles: ensemble_records(net, &l.ens, &built_ensembles),
        filter_coefs: l.coefs.into_iter().map(|(_, c)| c).collect(),
        dispatches,
        feed_dst,
        feeds,
        record_rows,
        record_len,
        probes,
        chunk_steps,
        built_ensembles,
        built_connections,
        host_nodes: l.host_nodes,
        encoder_copies: l.encoder_copies,
        rules: built_rules,
    })
}

fn context(e: Error, what: &str) -> Error {
    match e {
        Error::Validation(m) => Error::Validation(format!("{what}: {m}")),
        Error::Build(m) => Error::Build(format!("{what}: {m}")),
        other => other,
    }
}

/// Targets of a decoded connection: `function` (or the identity) of the pre slice at every
/// eval point, `m x size_mid`.
fn eval_targets(
    eval_points: &Array2<f64>,
    pre_slice: Range<usize>,
    function: Option<&crate::model::nef::VecFn>,
    size_mid: usize,
) -> Result<Array2<f64>> {
    let m = eval_points.nrows();
    let mut targets = Array2::zeros((m, size_mid));
    for p in 0..m {
        let x: Vec<f64> = eval_points.slice(s![p, pre_slice.clone()]).to_vec();
        let y = match function {
            Some(f) => f(&x),
            None => x.clone(),
        };
        if y.len() != size_mid {
            return Err(invalid!(
                "the function returned {} values at {x:?}; the connection declared {size_mid}",
                y.len()
            ));
        }
        if let Some(bad) = y.iter().find(|v| !v.is_finite()) {
            return Err(invalid!(
                "the function returned {bad} at {x:?}; it must be finite"
            ));
        }
        targets.row_mut(p).assign(&ndarray::ArrayView1::from(&y));
    }
    Ok(targets)
}

/// Nengo's firing rates of an ensemble's neurons at the given points (rows).
pub fn ensemble_rates(ens: &BuiltEnsemble, points: &Array2<f64>) -> Array2<f64> {
    use rayon::prelude::*;
    let n = ens.gain.len();
    let rows: Vec<f64> = (0..points.nrows())
        .into_par_iter()
        .flat_map_iter(|p| {
            let point = points.row(p);
            (0..n).map(move |i| {
                let x = ens.encoders.row(i).dot(&point) / ens.radius;
                ens.neuron.rate(ens.gain[i] * x + ens.bias[i])
            })
        })
        .collect();
    Array2::from_shape_vec((points.nrows(), n), rows).expect("rows of n rates")
}

fn ensemble_records(
    net: &NefNetwork,
    sigs: &[EnsSignals],
    built: &[BuiltEnsemble],
) -> Vec<EnsRecord> {
    let dt = net.dt;
    sigs.iter()
        .zip(built)
        .map(|(s, b)| {
            let mut r = EnsRecord {
                n: b.gain.len() as u32,
                j_enc: s.j_enc,
                neuron_in: s.neuron_in,
                bias: s.out - b.gain.len() as u32,
                out: s.out,
                voltage: s.voltage,
                refractory: s.voltage + b.gain.len() as u32,
                dt: dt as f32,
                ..EnsRecord::default()
            };
            match b.neuron {
                NefNeuron::Lif(p) => {
                    r.kind = NEF_LIF;
                    r.tau_rc = p.tau_rc as f32;
                    r.inv_tau_rc = (1.0 / p.tau_rc) as f32;
                    r.tau_ref = p.tau_ref as f32;
                    r.min_voltage = p.min_voltage as f32;
                    r.amplitude = p.amplitude as f32;
                    r.amp_over_dt = (p.amplitude / dt) as f32;
                    r.expm1_dt = (-dt / p.tau_rc).exp_m1() as f32;
                }
                NefNeuron::LifRate(p) => {
                    r.kind = NEF_LIF_RATE;
                    r.tau_rc = p.tau_rc as f32;
                    r.tau_ref = p.tau_ref as f32;
                    r.amplitude = p.amplitude as f32;
                }
                NefNeuron::RectifiedLinear(p) => {
                    r.kind = NEF_RELU;
                    r.amplitude = p.amplitude as f32;
                }
                NefNeuron::SpikingRectifiedLinear(p) => {
                    r.kind = NEF_SPIKING_RELU;
                    r.amplitude = p.amplitude as f32;
                    r.amp_over_dt = (p.amplitude / dt) as f32;
                }
            }
            r
        })
        .collect()
}

impl Lowering<'_> {
    fn alloc(&mut self, n: usize, value: f32) -> u32 {
        let at = self.sig.len() as u32;
        self.sig.resize(self.sig.len() + n, value);
        at
    }

    fn alloc_values(&mut self, values: impl IntoIterator<Item = f64>) -> u32 {
        let at = self.sig.len() as u32;
        self.sig.extend(values.into_iter().map(|v| v as f32));
        at
    }

    /// Appends a matrix to `w`, row-major; returns its offset.
    fn push_matrix(&mut self, m: &Array2<f64>) -> Result<u32> {
        if m.iter().any(|x| !crate::model::nef::fits_f32(*x)) {
            return Err(Error::Build(
                "a weight matrix came out NaN or infinite in float32 (check the function, \
                 transform and gains)"
                    .into(),
            ));
        }
        let at = self.w.len() as u32;
        self.w.extend(m.iter().map(|&x| x as f32));
        Ok(at)
    }

    /// A level operator computing `dst[r] = M[r] . sig[x .. x + cols]`.
    fn matvec(&mut self, m: &Array2<f64>, x: u32, what: String) -> Result<u32> {
        let (rows, cols) = m.dim();
        let w_off = self.push_matrix(m)?;
        let dst = self.alloc(rows, 0.0);
        if cols > 2 * SEGMENT && rows < SPLIT_BELOW_ROWS {
            self.segmented_matvec(w_off, (rows, cols), x, dst, what);
            return Ok(dst);
        }
        self.ops.push(Op {
            rows: OpRows::MatVec(
                (0..rows)
                    .map(|r| MatVecRow {
                        dst: dst + r as u32,
                        w_off: w_off + (r * cols) as u32,
                        x_off: x,
                        cols: cols as u32,
                    })
                    .collect(),
            ),
            reads: vec![span(x, cols as u32)],
            writes: vec![span(dst, rows as u32)],
            what,
        });
        Ok(dst)
    }

    /// A matrix of few long rows (decoders: dimensions x neurons) as partial products over
    /// segments of `SEGMENT` columns, one thread each, then a sum of the partials in order:
    /// the GPU gets rows x segments threads instead of a handful, and the order of the
    /// additions is still fixed.
    fn segmented_matvec(
        &mut self,
        w_off: u32,
        (rows, cols): (usize, usize),
        x: u32,
        dst: u32,
        what: String,
    ) {
        let segments = cols.div_ceil(SEGMENT);
        let partial = self.alloc(rows * segments, 0.0);
        let mut parts = Vec::with_capacity(rows * segments);
        let mut sums = Vec::with_capacity(rows);
        for r in 0..rows {
            let mut entries = Vec::with_capacity(segments);
            for s in 0..segments {
                let at = partial + (r * segments + s) as u32;
                let first = s * SEGMENT;
                parts.push(MatVecRow {
                    dst: at,
                    w_off: w_off + (r * cols + first) as u32,
                    x_off: x + first as u32,
                    cols: SEGMENT.min(cols - first) as u32,
                });
                entries.push(SumEntry {
                    src: at,
                    scale: 1.0,
                });
            }
            sums.push((dst + r as u32, entries));
        }
        let partials = span(partial, (rows * segments) as u32);
        self.ops.push(Op {
            rows: OpRows::MatVec(parts),
            reads: vec![span(x, cols as u32)],
            writes: vec![partials.clone()],
            what: format!("{what} (partial products)"),
        });
        self.ops.push(Op {
            rows: OpRows::Sum(sums),
            reads: vec![partials],
            writes: vec![span(dst, rows as u32)],
            what,
        });
    }

    fn coef(&mut self, synapse: Synapse) -> Result<Option<u32>> {
        let Some(f) = synapse.discretize(self.net.dt)? else {
            return Ok(None);
        };
        if let Some(i) = self.coefs.iter().position(|(s, _)| *s == synapse) {
            return Ok(Some(i as u32));
        }
        let c = FilterCoef {
            order: f.order as u32,
            d: f.d as f32,
            _pad: [0; 2],
            a: [
                f.a[0][0] as f32,
                f.a[0][1] as f32,
                f.a[1][0] as f32,
                f.a[1][1] as f32,
            ],
            bc: [f.b[0] as f32, f.b[1] as f32, f.c[0] as f32, f.c[1] as f32],
        };
        self.coefs.push((synapse, c));
        Ok(Some(self.coefs.len() as u32 - 1))
    }

    /// Filters `sig[src .. src + n]` through `synapse`, advancing at the end of the step (Nengo's
    /// "update" mode: connection synapses and probes): returns where the filtered values are
    /// (the source itself for `Synapse::None`).
    fn filtered(&mut self, synapse: Synapse, src: u32, n: usize) -> Result<u32> {
        let Some((dst, rows)) = self.filter_rows(synapse, src, n)? else {
            return Ok(src);
        };
        self.filters.extend(rows);
        Ok(dst)
    }

    /// Filters as `filtered`, but as a level operator right after its input is computed, so
    /// the output is read in the same step (Nengo's "set" mode: PES's pre_synapse).
    fn filtered_now(&mut self, synapse: Synapse, src: u32, n: usize, what: String) -> Result<u32> {
        let Some((dst, rows)) = self.filter_rows(synapse, src, n)? else {
            return Ok(src);
        };
        self.ops.push(Op {
            rows: OpRows::Filter(rows),
            reads: vec![span(src, n as u32)],
            writes: vec![span(dst, n as u32)],
            what,
        });
        Ok(dst)
    }

    fn filter_rows(
        &mut self,
        synapse: Synapse,
        src: u32,
        n: usize,
    ) -> Result<Option<(u32, Vec<FilterRow>)>> {
        let Some(coef) = self.coef(synapse)? else {
            return Ok(None);
        };
        let dst = self.alloc(n, 0.0);
        let state = self.alloc(2 * n, 0.0);
        let rows = (0..n as u32)
            .map(|k| FilterRow {
                src: src + k,
                dst: dst + k,
                state: state + 2 * k,
                coef,
            })
            .collect();
        Ok(Some((dst, rows)))
    }

    fn ensemble(&mut self, index: usize, name: &str, e: &Ensemble) -> Result<BuiltEnsemble> {
        let ctx = |err| context(err, &format!("ensemble `{name}`"));
        let key = KeyHasher::default().str("nef-ensemble").str(name).finish();
        let seed = self.net.seed;
        let (n, d) = (e.n_neurons, e.dimensions);
        let mut encoders = e
            .encoders
            .sample(n, d, &mut stream(seed, key, DRAW_ENCODERS))
            .map_err(ctx)?;
        for (i, mut row) in encoders.rows_mut().into_iter().enumerate() {
            let norm = row.dot(&row).sqrt();
            if !(norm.is_finite() && norm > 0.0) {
                return Err(invalid!(
                    "ensemble `{name}`: encoder {i} has length {norm}; encoders must be non-zero \
                     and finite"
                ));
            }
            row /= norm;
        }
        let (gain, bias, max_rates, intercepts) = match &e.gain_bias {
            Some((g, b)) => (g.clone(), b.clone(), Vec::new(), Vec::new()),
            None => {
                let column = |dist: &NefDist, purpose| -> Result<Vec<f64>> {
                    Ok(dist
                        .sample(n, 1, &mut stream(seed, key, purpose))?
                        .column(0)
                        .to_vec())
                };
                let max_rates = column(&e.max_rates, DRAW_MAX_RATES).map_err(ctx)?;
                let intercepts = column(&e.intercepts, DRAW_INTERCEPTS).map_err(ctx)?;
                let (g, b) = e.neuron.gain_bias(&max_rates, &intercepts).map_err(ctx)?;
                (g, b, max_rates, intercepts)
            }
        };
        let m = match (&e.eval_points, e.n_eval_points) {
            (NefDist::Array(a), _) => a.nrows(),
            (_, Some(m)) => m,
            (_, None) => default_n_eval_points(n, d),
        };
        let eval_points = e
            .eval_points
            .sample(m, d, &mut stream(seed, key, DRAW_EVAL_POINTS))
            .map_err(ctx)?
            * e.radius;
        let mut scaled_encoders = encoders.clone();
        for (i, mut row) in scaled_encoders.rows_mut().into_iter().enumerate() {
            row *= gain[i] / e.radius;
        }
        // Nengo starts LIF and spiking rectified linear voltages uniform in [0, 1).
        let mut vrng = stream(seed, key, DRAW_VOLTAGE);
        let v0: Vec<f64> = match &e.initial_voltage {
            _ if !e.neuron.is_spiking() => vec![0.0; n],
            Some(dist) => dist
                .sample(n, 1, &mut vrng)
                .map_err(ctx)?
                .column(0)
                .to_vec(),
            None => (0..n).map(|_| vrng.random::<f64>()).collect(),
        };

        let input = self.alloc(d, 0.0);
        let encoders_w = self.w.len();
        let j_enc = self
            .matvec(&scaled_encoders, input, format!("encoders of `{name}`"))
            .map_err(ctx)?;
        let neuron_in = self.alloc(n, 0.0);
        let bias_at = self.alloc_values(bias.iter().copied());
        let out = self.alloc(n, 0.0);
        debug_assert_eq!(out, bias_at + n as u32, "EnsRecord.bias is out - n");
        let voltage = self.alloc_values(v0);
        let refractory = self.alloc(n, 0.0);
        // 1 for a live neuron, 0 for an ablated one (`NefSimulator::ablate`).
        let _alive = self.alloc(n, 1.0);
        debug_assert_eq!(
            refractory,
            voltage + n as u32,
            "EnsRecord.refractory is voltage + n"
        );
        self.ops.push(Op {
            rows: OpRows::Neurons(
                (0..n as u32)
                    .map(|i| NeuronRow {
                        ens: index as u32,
                        index: i,
                    })
                    .collect(),
            ),
            reads: vec![span(j_enc, n as u32), span(neuron_in, n as u32)],
            writes: vec![span(out, n as u32)],
            what: format!("neurons of `{name}`"),
        });
        self.ens.push(EnsSignals {
            input,
            j_enc,
            neuron_in,
            out,
            voltage,
        });
        Ok(BuiltEnsemble {
            name: name.to_string(),
            neuron: e.neuron.clone(),
            radius: e.radius,
            gain,
            bias,
            encoders,
            scaled_encoders,
            eval_points,
            max_rates,
            intercepts,
            input: input as usize,
            out: out as usize,
            voltage: voltage as usize,
            encoders_w,
        })
    }

    /// Allocates node outputs; function nodes get feed columns.
    fn nodes(&mut self) -> (Vec<u32>, Vec<FeedSource>) {
        let mut feed_dst = Vec::new();
        let mut feeds = Vec::new();
        for (name, node) in &self.net.nodes {
            let mut input = u32::MAX;
            let at = match node {
                Node::Constant(v) => self.alloc_values(v.iter().copied()),
                Node::Passthrough { size } => {
                    input = self.alloc(*size, 0.0);
                    input
                }
                Node::Callback {
                    size_in,
                    size_out,
                    f,
                } => {
                    input = self.alloc(*size_in, 0.0);
                    let out = self.alloc(*size_out, 0.0);
                    self.host_nodes.push(HostNode {
                        name: name.clone(),
                        f: f.clone(),
                        input,
                        size_in: *size_in,
                        output: out,
                        size_out: *size_out,
                    });
                    self.ops.push(Op {
                        rows: OpRows::Host(self.host_nodes.len() - 1),
                        reads: vec![span(input, *size_in as u32)],
                        writes: vec![span(out, *size_out as u32)],
                        what: format!("callback node `{name}`"),
                    });
                    out
                }
                Node::Function { size_out, f } => {
                    let at = self.alloc(*size_out, 0.0);
                    feeds.push(FeedSource {
                        f: f.clone(),
                        name: name.clone(),
                        first_column: feed_dst.len(),
                        width: *size_out,
                    });
                    feed_dst.extend(at..at + *size_out as u32);
                    at
                }
            };
            self.node_out.push(at);
            self.node_in.push(input);
        }
        if !feed_dst.is_empty() {
            let writes = feed_dst.iter().map(|&d| d..d + 1).collect();
            self.ops.push(Op {
                rows: OpRows::Feed,
                reads: Vec::new(),
                writes,
                what: "function nodes".into(),
            });
        }
        (feed_dst, feeds)
    }

    /// Decoders (pre neurons x function size) of a decoded connection, by Nengo's recipe.
    /// `ens` and `own_points`: the ensemble's index, and whether `eval_points` are its own;
    /// then the factorised system is shared by every decoding from it.
    #[allow(clippy::too_many_arguments)]
    fn decoders(
        &mut self,
        pre: &BuiltEnsemble,
        (ens, own_points): (usize, bool),
        pre_slice: Range<usize>,
        eval_points: &Array2<f64>,
        function: Option<&crate::model::nef::VecFn>,
        size_mid: usize,
        solver: &Solver,
    ) -> Result<Array2<f64>> {
        let reg = match *solver {
            Solver::LstsqL2 { reg, .. } => reg,
            // Sign-constrained decoders (`Nnls`): solved per connection, nothing to share.
            _ => {
                let targets = eval_targets(eval_points, pre_slice, function, size_mid)?;
                return solver.solve(&ensemble_rates(pre, eval_points), &targets);
            }
        };
        let key = (ens, reg.to_bits());
        let factor = match self.factors.get(&key) {
            Some(f) if own_points => f.clone(),
            _ => {
                let f = Rc::new(LstsqL2Factor::new(&ensemble_rates(pre, eval_points), reg)?);
                if own_points {
                    self.factors.insert(key, f.clone());
                }
                f
            }
        };
        let targets = eval_targets(eval_points, pre_slice, function, size_mid)?;
        factor.solve(&targets)
    }

    /// Post x pre neuron weights of a solver that solves them directly (`Nnls` with weights,
    /// `Dale`), fitted to the input currents the post neurons need (bias aside), `J = Y T^T E^T`
    /// (targets over the eval points, the transform, the post's scaled encoders), and the
    /// excitatory mask.
    fn neuron_weights(
        &self,
        c: &ConnectionSpec,
        pre: &BuiltEnsemble,
        pre_slice: Range<usize>,
        eval_points: &Array2<f64>,
        transform: &Array2<f64>,
        post_encoders: ndarray::ArrayView2<f64>,
    ) -> Result<(Array2<f64>, Vec<bool>)> {
        let function = c.conn.function.as_ref().map(|(_, f)| f);
        let targets = eval_targets(eval_points, pre_slice, function, c.size_mid)?;
        let currents = targets.dot(&transform.t()).dot(&post_encoders.t());
        // Keyed by the pre ensemble (its key, as `ensemble` makes it): which neurons are
        // excitatory is a property of the neurons, the same for all their connections.
        let key = KeyHasher::default()
            .str("nef-ensemble")
            .str(&pre.name)
            .finish();
        let mut rng = stream(self.net.seed, key, DRAW_EXCITATORY);
        c.conn
            .solver
            .solve_neuron_weights(&ensemble_rates(pre, eval_points), &currents, &mut rng)
    }

    fn add_sum(&mut self, target: SumTarget, dst: u32, src: u32, scale: f32) {
        self.sums
            .entry(target)
            .or_default()
            .entry(dst)
            .or_default()
            .push(SumEntry { src, scale });
    }

    fn connection(
        &mut self,
        c: &ConnectionSpec,
        built: &[BuiltEnsemble],
    ) -> Result<BuiltConnection> {
        let net = self.net;
        let pre_range = net.resolve(&c.pre, false)?;
        let post_range = net.resolve(&c.post, true)?;
        let transform = match &c.conn.transform {
            Transform::Scalar(k) => Array2::eye(c.size_out) * *k,
            Transform::Matrix(m) => m.clone(),
        };
        // Post x pre weights solved directly (`Nnls` with weights, `Dale`) and their signs.
        let mut solved = None;
        let mut excitatory = None;
        let (src, src_len, decoders) = match c.pre.kind {
            ObjKind::Ensemble(e) if c.conn.solver.solves_neuron_weights() => {
                let pre = &built[e];
                let points = match &c.conn.eval_points {
                    Some(p) => p * pre.radius,
                    None => pre.eval_points.clone(),
                };
                let ObjKind::Ensemble(post) = c.post.kind else {
                    return Err(invalid!(
                        "{:?} solves neuron weights: the connection needs an ensemble as its \
                         post",
                        c.conn.solver
                    ));
                };
                let enc = built[post]
                    .scaled_encoders
                    .slice(s![.., post_range.clone()]);
                let (w, mask) = self.neuron_weights(c, pre, pre_range, &points, &transform, enc)?;
                solved = Some(w);
                excitatory = Some(mask);
                (self.ens[e].out, pre.gain.len(), None)
            }
            ObjKind::Ensemble(e) => {
                let pre = &built[e];
                let points = match &c.conn.eval_points {
                    Some(p) => p * pre.radius,
                    None => pre.eval_points.clone(),
                };
                let function = c.conn.function.as_ref().map(|(_, f)| f);
                let own = (e, c.conn.eval_points.is_none());
                let d = self.decoders(
                    pre,
                    own,
                    pre_range,
                    &points,
                    function,
                    c.size_mid,
                    &c.conn.solver,
                )?;
                (self.ens[e].out, pre.gain.len(), Some(d))
            }
            ObjKind::Neurons(e) => (
                self.ens[e].out + pre_range.start as u32,
                pre_range.len(),
                None,
            ),
            ObjKind::Node(k) => (
                self.node_out[k] + pre_range.start as u32,
                pre_range.len(),
                None,
            ),
            ObjKind::LearningRule(_) => unreachable!("refused by NefNetwork::connect"),
        };
        let direct = solved.is_some();
        let mut weights = match (&decoders, solved) {
            (_, Some(w)) => w,
            (Some(d), None) => transform.dot(&d.t()),
            (None, None) => transform,
        };
        let full_weights = net.to_neurons(c) && matches!(c.post.kind, ObjKind::Ensemble(_));
        if full_weights && !direct {
            let ObjKind::Ensemble(e) = c.post.kind else {
                unreachable!()
            };
            let enc = built[e].scaled_encoders.slice(s![.., post_range.clone()]);
            weights = enc.dot(&weights);
        }
        let (rows, cols) = weights.dim();
        debug_assert_eq!(cols, src_len);
        let w_off = self.w.len();
        let out = self.matvec(
            &weights,
            src,
            format!("connection {:?} -> {:?}", c.pre.kind, c.post.kind),
        )?;
        let delivered = self.filtered(c.conn.synapse, out, rows)?;
        for r in 0..rows {
            let from = delivered + r as u32;
            match c.post.kind {
                ObjKind::Ensemble(e) if full_weights => {
                    let dst = self.ens[e].neuron_in + r as u32;
                    self.add_sum(SumTarget::NeuronInput(e), dst, from, 1.0);
                }
                ObjKind::Ensemble(e) => {
                    let dst = self.ens[e].input + (post_range.start + r) as u32;
                    self.add_sum(SumTarget::EnsInput(e), dst, from, 1.0);
                }
                ObjKind::Neurons(e) => {
                    // Nengo multiplies inputs to neurons by their gains, after the synapse.
                    let i = post_range.start + r;
                    let dst = self.ens[e].neuron_in + i as u32;
                    self.add_sum(
                        SumTarget::NeuronInput(e),
                        dst,
                        from,
                        built[e].gain[i] as f32,
                    );
                }
                ObjKind::Node(k) => {
                    let dst = self.node_in[k] + (post_range.start + r) as u32;
                    self.add_sum(SumTarget::NodeInput(k), dst, from, 1.0);
                }
                ObjKind::LearningRule(l) => {
                    let dst = self.rule_error[l] + (post_range.start + r) as u32;
                    self.add_sum(SumTarget::RuleError(l), dst, from, 1.0);
                }
            }
        }
        let post = match c.post.kind {
            ObjKind::Ensemble(ens) if full_weights => ConnRows::Neurons {
                ens,
                first: 0,
                gain: false,
            },
            ObjKind::Ensemble(ens) => ConnRows::EnsembleInput {
                ens,
                first: post_range.start,
            },
            ObjKind::Neurons(ens) => ConnRows::Neurons {
                ens,
                first: post_range.start,
                gain: true,
            },
            ObjKind::Node(_) | ObjKind::LearningRule(_) => ConnRows::Other,
        };
        Ok(BuiltConnection {
            excitatory,
            w_off,
            rows,
            cols,
            decoders: decoders.map(|d| d.reversed_axes()),
            pre_neurons: !matches!(c.pre.kind, ObjKind::Node(_)),
            post,
            delivered: delivered as usize,
        })
    }

    /// Where a learning rule's connection reads its pre activities (the pre slice's outputs).
    fn rule_pre_activities(&self, conn: usize) -> Result<u32> {
        let c = &self.net.connections[conn];
        let pre_range = self.net.resolve(&c.pre, false)?;
        Ok(match c.pre.kind {
            ObjKind::Ensemble(e) => self.ens[e].out,
            ObjKind::Neurons(e) => self.ens[e].out + pre_range.start as u32,
            _ => unreachable!("refused by NefNetwork::add_rule"),
        })
    }

    /// Where rule `index`'s error is, one value per row of its connection's matrix: the error
    /// itself for decoded rows, or for rows of post neurons the post's scaled encoders times
    /// the error (Nengo's PES on neuron connections).
    fn rule_row_errors(
        &mut self,
        index: usize,
        conn: usize,
        built: &[BuiltEnsemble],
        conns: &[BuiltConnection],
    ) -> Result<u32> {
        let net = self.net;
        let c = &net.connections[conn];
        let bc = &conns[conn];
        let error = self.rule_error[index];
        if !net.to_neurons(c) {
            return Ok(error);
        }
        let post_range = net.resolve(&c.post, true)?;
        let (ens, neurons, dims) = match c.post.kind {
            ObjKind::Neurons(e) => (e, post_range, 0..built[e].encoders.ncols()),
            ObjKind::Ensemble(e) => (e, 0..built[e].n_neurons(), post_range),
            _ => unreachable!("to_neurons implies an ensemble post"),
        };
        let enc = built[ens]
            .scaled_encoders
            .slice(s![neurons.clone(), dims.clone()])
            .to_owned();
        debug_assert_eq!(enc.nrows(), bc.rows);
        self.encoder_copies.push(EncoderCopy {
            ens,
            w_off: self.w.len(),
            neurons,
            dims,
        });
        self.matvec(
            &enc,
            error,
            format!("local error of the rule of connection {conn}"),
        )
    }

    fn pes_rule(
        &mut self,
        index: usize,
        conn: usize,
        pes: &Pes,
        built: &[BuiltEnsemble],
        conns: &[BuiltConnection],
    ) -> Result<()> {
        let bc = &conns[conn];
        let acts = self.rule_pre_activities(conn)?;
        let n_pre = bc.cols;
        let pre = self.filtered_now(
            pes.pre_synapse,
            acts,
            n_pre,
            format!("PES pre_synapse of connection {conn}"),
        )?;
        let alpha = (-pes.learning_rate * self.net.dt / n_pre as f64) as f32;
        let err_rows = self.rule_row_errors(index, conn, built, conns)?;
        // One thread per segment of a row: every weight is still updated by exactly one thread.
        for r in 0..bc.rows {
            for first in (0..bc.cols).step_by(SEGMENT) {
                self.pes.push(PesRow {
                    w_off: (bc.w_off + r * bc.cols + first) as u32,
                    cols: SEGMENT.min(bc.cols - first) as u32,
                    err: err_rows + r as u32,
                    pre: pre + first as u32,
                    alpha,
                    _pad: [0; 3],
                });
            }
        }
        Ok(())
    }

    /// Where a probe reads: (offset, width, whether in `w`).
    fn probe_source(
        &mut self,
        what: &ProbeWhat,
        synapse: Synapse,
        built: &[BuiltEnsemble],
        conns: &[BuiltConnection],
    ) -> Result<(u32, usize, bool)> {
        let (src, width) = match what {
            ProbeWhat::Output(obj) => {
                let range = self.net.resolve(obj, false)?;
                match obj.kind {
                    ObjKind::Ensemble(e) => {
                        // As Nengo: a hidden decoded connection for the identity.
                        let pre = &built[e];
                        let d = self.decoders(
                            pre,
                            (e, true),
                            range.clone(),
                            &pre.eval_points,
                            None,
                            range.len(),
                            &Solver::default(),
                        )?;
                        let out = self.matvec(
                            &d.reversed_axes(),
                            self.ens[e].out,
                            format!("probe of `{}`", pre.name),
                        )?;
                        (out, range.len())
                    }
                    ObjKind::Neurons(e) => (self.ens[e].out + range.start as u32, range.len()),
                    ObjKind::Node(k) => (self.node_out[k] + range.start as u32, range.len()),
                    ObjKind::LearningRule(_) => unreachable!("refused by NefNetwork::probe"),
                }
            }
            ProbeWhat::Voltage(e) => (self.ens[*e].voltage, built[*e].gain.len()),
            ProbeWhat::Weights(c) => {
                let bc = &conns[*c];
                return Ok((bc.w_off as u32, bc.rows * bc.cols, true));
            }
        };
        Ok((self.filtered(synapse, src, width)?, width, false))
    }

    /// Turns the collected contributions into one sum operator per target vector.
    fn finish_sums(&mut self) {
        for (target, rows) in std::mem::take(&mut self.sums) {
            let writes = rows.keys().map(|&d| d..d + 1).collect();
            let reads = rows.values().flatten().map(|e| e.src..e.src + 1).collect();
            self.ops.push(Op {
                rows: OpRows::Sum(rows.into_iter().collect()),
                reads,
                writes,
                what: format!("inputs of {target:?}"),
            });
        }
    }

    /// Orders the operators into levels (longest path from the step's start) and merges each
    /// level's operators into one dispatch per kernel.
    fn levels(&mut self) -> Result<Vec<NefDispatch>> {
        let ops = std::mem::take(&mut self.ops);
        let mut producer = vec![NO_PRODUCER; self.sig.len()];
        for (i, op) in ops.iter().enumerate() {
            for r in &op.writes {
                for e in r.clone() {
                    debug_assert_eq!(producer[e as usize], NO_PRODUCER, "two writers of sig[{e}]");
                    producer[e as usize] = i as u32;
                }
            }
        }
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
        let mut pending = vec![0usize; ops.len()];
        for (i, op) in ops.iter().enumerate() {
            let mut deps: Vec<u32> = op
                .reads
                .iter()
                .flat_map(|r| r.clone())
                .map(|e| producer[e as usize])
                .filter(|&p| p != NO_PRODUCER)
                .collect();
            deps.sort_unstable();
            deps.dedup();
            pending[i] = deps.len();
            for p in deps {
                users[p as usize].push(i);
            }
        }
        let mut level = vec![0usize; ops.len()];
        let mut queue: VecDeque<usize> = (0..ops.len()).filter(|&i| pending[i] == 0).collect();
        let mut done = 0;
        while let Some(i) = queue.pop_front() {
            done += 1;
            level[i] += 1;
            for &u in &users[i] {
                level[u] = level[u].max(level[i]);
                pending[u] -= 1;
                if pending[u] == 0 {
                    queue.push_back(u);
                }
            }
        }
        if done < ops.len() {
            let stuck: Vec<&str> = (0..ops.len())
                .filter(|&i| pending[i] > 0)
                .map(|i| ops[i].what.as_str())
                .take(4)
                .collect();
            return Err(invalid!(
                "connections without a synapse form a loop (through {}); give at least one \
                 connection of the loop a synapse, as Nengo requires",
                stuck.join(", ")
            ));
        }
        let depth = level.iter().copied().max().unwrap_or(0);
        let mut by_level: HashMap<usize, Vec<Op>> = HashMap::new();
        for (op, l) in ops.into_iter().zip(level) {
            by_level.entry(l).or_default().push(op);
        }
        let mut dispatches = Vec::new();
        for l in 1..=depth {
            let ops = by_level.remove(&l).unwrap_or_default();
            let mut feed = false;
            let (mut sums, mut entries, mut matvec) = (Vec::new(), Vec::new(), Vec::new());
            let (mut neurons, mut filters, mut hosts) = (Vec::new(), Vec::new(), Vec::new());
            for op in ops {
                match op.rows {
                    OpRows::Feed => feed = true,
                    OpRows::Sum(rows) => {
                        for (dst, e) in rows {
                            sums.push(SumRow {
                                dst,
                                first: entries.len() as u32,
                                count: e.len() as u32,
                                _pad: 0,
                            });
                            entries.extend(e);
                        }
                    }
                    OpRows::MatVec(rows) => matvec.extend(rows),
                    OpRows::Neurons(rows) => neurons.extend(rows),
                    OpRows::Host(i) => hosts.push(NefDispatch::Host { node: i }),
                    OpRows::Filter(rows) => filters.extend(rows),
                }
            }
            if feed {
                dispatches.push(NefDispatch::Feed);
            }
            if !sums.is_empty() {
                dispatches.push(NefDispatch::Sum {
                    rows: sums,
                    entries,
                });
            }
            if !matvec.is_empty() {
                dispatches.push(NefDispatch::MatVec { rows: matvec });
            }
            if !neurons.is_empty() {
                dispatches.push(NefDispatch::Neurons { rows: neurons });
            }
            if !filters.is_empty() {
                dispatches.push(NefDispatch::Filter { rows: filters });
            }
            dispatches.extend(hosts);
        }
        Ok(dispatches)
    }
}
