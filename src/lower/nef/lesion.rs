//! Lesions: cutting synapses of built connections, as a rewrite of a plan's tables.
//!
//! A lesion is a mask over a connection's synapses, post neurons x pre neurons (the shape of
//! its full weight matrix). It is applied to the plan as built, so lifting one is rewriting
//! from the original again, and it touches no kernel:
//!
//! - Weights of a weight connection (neuron -> neuron, or a weight solver) are zeroed by the
//!   simulator, and the PES and synapse-model rows of the plan are split around the cut
//!   synapses, so no learning rule writes them again: a cut synapse stays exactly zero.
//! - A factored (decoded) connection has no per-synapse weights: post neuron k gets
//!   `gain_k e_k . (sum of decoded inputs)`. Cutting whole pre neurons zeroes their decoder
//!   columns, and PES skips those columns. Cutting whole post neurons gives each group of
//!   neurons that lost the same connections its own copy of the decoded input, summed without
//!   those connections, and points their encoder rows at it: the cut connection never enters
//!   their current, while the other inputs are summed in the same order as before. A mask
//!   that cuts single synapses of a factored connection cannot be expressed this way; it is
//!   refused with a pointer to `Solver` `weights: true`.

use super::layout::{PesRow, SumEntry, SumRow, SynapseRow};
use super::plan::{BuiltConnection, BuiltEnsemble, ConnRows, NefDispatch, NefPlan};
use crate::error::{Error, Result};
use ndarray::Array2;
use std::collections::BTreeMap;

/// A connection's lesion: `mask[[post, pre]]` is true for every cut synapse.
#[derive(Clone, Debug, PartialEq)]
pub struct Cut {
    pub conn: usize,
    pub mask: Array2<bool>,
}

/// The synapse shape of a connection: (post neurons, pre neurons), or `None` for a connection
/// into a node or a learning rule.
pub fn synapse_shape(plan: &NefPlan, c: &BuiltConnection) -> Option<(usize, usize)> {
    match c.post {
        ConnRows::Neurons { .. } => Some((c.rows, c.cols)),
        ConnRows::EnsembleInput { ens, .. } => {
            Some((plan.built_ensembles[ens].n_neurons(), c.cols))
        }
        ConnRows::Other => None,
    }
}

/// Post rows and pre columns that a mask cuts whole.
fn whole_rows_and_cols(mask: &Array2<bool>) -> (Vec<bool>, Vec<bool>) {
    let rows = mask
        .rows()
        .into_iter()
        .map(|r| r.iter().all(|&x| x))
        .collect();
    let cols = mask
        .columns()
        .into_iter()
        .map(|c| c.iter().all(|&x| x))
        .collect();
    (rows, cols)
}

/// Indices into `w` that a cut zeroes (row-major order), for the connection's weights.
pub fn cut_weights(plan: &NefPlan, cut: &Cut) -> Vec<usize> {
    let c = &plan.built_connections[cut.conn];
    match c.post {
        ConnRows::Neurons { .. } => cut
            .mask
            .indexed_iter()
            .filter(|(_, &x)| x)
            .map(|((r, k), _)| c.w_off + r * c.cols + k)
            .collect(),
        ConnRows::EnsembleInput { .. } => {
            let (_, cols) = whole_rows_and_cols(&cut.mask);
            (0..c.rows)
                .flat_map(|r| {
                    let cols = &cols;
                    (0..c.cols)
                        .filter(move |&k| cols[k])
                        .map(move |k| c.w_off + r * c.cols + k)
                })
                .collect()
        }
        ConnRows::Other => Vec::new(),
    }
}

/// `base` with every cut applied to its tables (and `sig` grown by the decoded inputs that
/// factored post lesions need). The caller zeroes the weights `cut_weights` names.
pub fn lesioned_plan(base: &NefPlan, cuts: &[Cut]) -> Result<NefPlan> {
    let mut plan = base.clone();
    // Per weight row of each cut connection (by where it starts in `w`), its width and the
    // columns PES must not touch.
    let mut frozen: BTreeMap<usize, (usize, Vec<bool>)> = BTreeMap::new();
    // Per ensemble, per post neuron, the factored connections cut from it.
    let mut excluded: BTreeMap<usize, BTreeMap<usize, Vec<usize>>> = BTreeMap::new();
    for cut in cuts {
        let c = &base.built_connections[cut.conn];
        let shape = synapse_shape(base, c);
        if shape != Some(cut.mask.dim()) {
            return Err(Error::Simulation(format!(
                "connection {}: a lesion mask of shape {:?} does not fit its synapses ({shape:?})",
                cut.conn,
                cut.mask.dim()
            )));
        }
        match c.post {
            ConnRows::Neurons { .. } => {
                for (r, row) in cut.mask.rows().into_iter().enumerate() {
                    if row.iter().any(|&x| x) {
                        frozen.insert(c.w_off + r * c.cols, (c.cols, row.to_vec()));
                    }
                }
            }
            ConnRows::EnsembleInput { ens, .. } => {
                let (rows, cols) = whole_rows_and_cols(&cut.mask);
                if let Some(((r, k), _)) = cut
                    .mask
                    .indexed_iter()
                    .find(|((r, k), &x)| x && !rows[*r] && !cols[*k])
                {
                    return Err(Error::Simulation(format!(
                        "connection {} is factored (decoders, then the post encoders), so a lesion \
                         can cut whole pre neurons or whole post neurons, but not the single \
                         synapse ({r}, {k}); build it with a solver with `weights: true` to cut \
                         single synapses",
                        cut.conn
                    )));
                }
                if cols.iter().any(|&x| x) {
                    for r in 0..c.rows {
                        frozen.insert(c.w_off + r * c.cols, (c.cols, cols.clone()));
                    }
                }
                for (k, _) in rows.iter().enumerate().filter(|(_, &x)| x) {
                    excluded
                        .entry(ens)
                        .or_default()
                        .entry(k)
                        .or_default()
                        .push(cut.conn);
                }
            }
            ConnRows::Other => unreachable!("refused by the shape check"),
        }
    }
    if !frozen.is_empty() {
        split_learning_rows(&mut plan, &frozen);
    }
    for (ens, by_neuron) in excluded {
        reroute_encoders(&mut plan, base, ens, by_neuron)?;
    }
    Ok(plan)
}

/// Splits PES rows and synapse-model rows into runs of columns that are not cut. Every other
/// weight is still updated by exactly one thread with the same arithmetic, so learning
/// elsewhere is unchanged bit for bit, and no rule writes a cut weight (nor a cut synapse's
/// model state) again.
fn split_learning_rows(plan: &mut NefPlan, frozen: &BTreeMap<usize, (usize, Vec<bool>)>) {
    for d in &mut plan.dispatches {
        match d {
            NefDispatch::Pes { rows } => {
                *rows = split(
                    rows,
                    frozen,
                    |r| (r.w_off, r.cols),
                    |r, j, run| PesRow {
                        w_off: r.w_off + j,
                        cols: run,
                        pre: r.pre + j,
                        ..*r
                    },
                );
            }
            NefDispatch::Synapse { rows, .. } => {
                *rows = split(
                    rows,
                    frozen,
                    |r| (r.w_off, r.cols),
                    |r, j, run| SynapseRow {
                        w_off: r.w_off + j,
                        cols: run,
                        pre: r.pre + j,
                        syn: r.syn + j,
                        ..*r
                    },
                );
            }
            _ => {}
        }
    }
}

/// `rows` with each row cut into its runs of columns that `frozen` does not cut: `span` gives
/// a row's first weight and column count, `run(row, j, n)` the row of columns `j .. j + n`.
fn split<R: Copy>(
    rows: &[R],
    frozen: &BTreeMap<usize, (usize, Vec<bool>)>,
    span: impl Fn(&R) -> (u32, u32),
    run: impl Fn(&R, u32, u32) -> R,
) -> Vec<R> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (w_off, cols) = span(row);
        let w = w_off as usize;
        let Some((&start, (width, cut))) = frozen.range(..=w).next_back() else {
            out.push(*row);
            continue;
        };
        if w >= start + width {
            out.push(*row);
            continue;
        }
        let first = w - start;
        let mut j = 0;
        while j < cols as usize {
            if cut[first + j] {
                j += 1;
                continue;
            }
            let n = (j..cols as usize).take_while(|&i| !cut[first + i]).count();
            out.push(run(row, j as u32, n as u32));
            j += n;
        }
    }
    out
}

/// Gives each group of `ens`'s neurons that lost the same factored connections a decoded input
/// summed without them, and points those neurons' encoder rows at it.
fn reroute_encoders(
    plan: &mut NefPlan,
    base: &NefPlan,
    ens: usize,
    by_neuron: BTreeMap<usize, Vec<usize>>,
) -> Result<()> {
    let e = &base.built_ensembles[ens];
    let (at, input_rows) = decoded_input_sum(plan, e)?;
    let mut reroute: BTreeMap<usize, u32> = BTreeMap::new(); // neuron -> its input copy
    for (conns, neurons) in groups_by_cuts(by_neuron) {
        let cut: Vec<(usize, usize)> = conns
            .iter()
            .map(|&c| {
                let bc = &base.built_connections[c];
                (bc.delivered, bc.delivered + bc.rows)
            })
            .collect();
        let copy = add_input_copy(plan, at, &input_rows, e.encoders.ncols(), &cut);
        for k in neurons {
            reroute.insert(k, copy);
        }
    }
    point_encoders_at(plan, e, &reroute);
    Ok(())
}

/// Neurons grouped by the (sorted, distinct) connections cut from them.
fn groups_by_cuts(by_neuron: BTreeMap<usize, Vec<usize>>) -> BTreeMap<Vec<usize>, Vec<usize>> {
    let mut groups: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
    for (k, mut conns) in by_neuron {
        conns.sort_unstable();
        conns.dedup();
        groups.entry(conns).or_default().push(k);
    }
    groups
}

/// The sum dispatch that computes the ensemble's decoded input, and its entries by dimension:
/// the copies go there, since they read the same values.
fn decoded_input_sum(
    plan: &NefPlan,
    e: &BuiltEnsemble,
) -> Result<(usize, BTreeMap<u32, Vec<SumEntry>>)> {
    let input = e.input as u32;
    plan.dispatches
        .iter()
        .enumerate()
        .find_map(|(i, d)| match d {
            NefDispatch::Sum { rows, entries } => {
                let mine: BTreeMap<u32, Vec<SumEntry>> = rows
                    .iter()
                    .filter(|r| (input..input + e.encoders.ncols() as u32).contains(&r.dst))
                    .map(|r| {
                        let first = r.first as usize;
                        (
                            r.dst - input,
                            entries[first..first + r.count as usize].to_vec(),
                        )
                    })
                    .collect();
                (!mine.is_empty()).then_some((i, mine))
            }
            _ => None,
        })
        .ok_or_else(|| {
            Error::Simulation(format!(
                "ensemble `{}` has no decoded input to lesion a factored connection from",
                e.name
            ))
        })
}

/// A copy of the decoded input (`d` values, new in `sig`) summed by sum dispatch `at` from
/// the same entries in the same order, less those reading the `cut` ranges of `sig`; returns
/// where it is.
fn add_input_copy(
    plan: &mut NefPlan,
    at: usize,
    input_rows: &BTreeMap<u32, Vec<SumEntry>>,
    d: usize,
    cut: &[(usize, usize)],
) -> u32 {
    let copy = plan.sig.len() as u32;
    plan.sig.resize(plan.sig.len() + d, 0.0);
    let NefDispatch::Sum { rows, entries } = &mut plan.dispatches[at] else {
        unreachable!("found by decoded_input_sum")
    };
    for i in 0..d as u32 {
        let kept: Vec<SumEntry> = input_rows
            .get(&i)
            .map(|es| {
                es.iter()
                    .filter(|en| {
                        let s = en.src as usize;
                        !cut.iter().any(|&(a, b)| (a..b).contains(&s))
                    })
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        rows.push(SumRow {
            dst: copy + i,
            first: entries.len() as u32,
            count: kept.len() as u32,
            _pad: 0,
        });
        entries.extend(kept);
    }
    copy
}

/// Points the encoder rows of the rerouted neurons of `e` at their input copies.
fn point_encoders_at(plan: &mut NefPlan, e: &BuiltEnsemble, reroute: &BTreeMap<usize, u32>) {
    let d = e.encoders.ncols();
    let input = e.input as u32;
    let (enc_start, enc_end) = (e.encoders_w, e.encoders_w + e.n_neurons() * d);
    for disp in &mut plan.dispatches {
        let NefDispatch::MatVec { rows } = disp else {
            continue;
        };
        for row in rows.iter_mut() {
            let w = row.w_off as usize;
            let reads_input = (input..input + d as u32).contains(&row.x_off);
            if !(enc_start..enc_end).contains(&w) || !reads_input {
                continue;
            }
            if let Some(&copy) = reroute.get(&((w - enc_start) / d)) {
                row.x_off = copy + (row.x_off - input);
            }
        }
    }
}
