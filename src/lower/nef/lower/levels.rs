//! Ordering a step's operators: each runs in the level after the last of its producers, and
//! each level's operators merge into one dispatch per kernel.

use super::{Lowering, Op, OpRows};
use crate::error::{invalid, Result};
use crate::lower::nef::layout::SumRow;
use crate::lower::nef::plan::NefDispatch;
use std::collections::VecDeque;

const NO_PRODUCER: u32 = u32::MAX;

impl Lowering<'_> {
    /// Turns the collected contributions into one sum operator per target vector.
    pub(super) fn finish_sums(&mut self) {
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
    pub(super) fn levels(&mut self) -> Result<Vec<NefDispatch>> {
        let ops = std::mem::take(&mut self.ops);
        let producer = producers(&ops, self.sig.len());
        let level = level_of_each(&ops, &producer)?;
        Ok(by_level(ops, level)
            .into_iter()
            .flat_map(merge_level)
            .collect())
    }
}

/// The operator that writes each element of `sig`, if any.
fn producers(ops: &[Op], sig_len: usize) -> Vec<u32> {
    let mut producer = vec![NO_PRODUCER; sig_len];
    for (i, op) in ops.iter().enumerate() {
        for r in &op.writes {
            for e in r.clone() {
                debug_assert_eq!(producer[e as usize], NO_PRODUCER, "two writers of sig[{e}]");
                producer[e as usize] = i as u32;
            }
        }
    }
    producer
}

/// For each operator, the operators that read what it writes, and how many distinct
/// operators it reads from.
fn dependencies(ops: &[Op], producer: &[u32]) -> (Vec<Vec<usize>>, Vec<usize>) {
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
    (users, pending)
}

/// Each operator's level, from 1: one more than the deepest of its producers (Kahn's order).
/// Operators left over form a loop, which is refused.
fn level_of_each(ops: &[Op], producer: &[u32]) -> Result<Vec<usize>> {
    let (users, mut pending) = dependencies(ops, producer);
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
    Ok(level)
}

/// The operators of levels 1, 2, ..., each level's in the order they were made.
fn by_level(ops: Vec<Op>, level: Vec<usize>) -> Vec<Vec<Op>> {
    let depth = level.iter().copied().max().unwrap_or(0);
    let mut levels: Vec<Vec<Op>> = (0..depth).map(|_| Vec::new()).collect();
    for (op, l) in ops.into_iter().zip(level) {
        levels[l - 1].push(op);
    }
    levels
}

/// One level's operators as one dispatch per kernel, in a fixed order of kernels; callback
/// nodes last, each a host call of its own.
fn merge_level(ops: Vec<Op>) -> Vec<NefDispatch> {
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
    let mut dispatches = Vec::new();
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
    dispatches
}

#[cfg(test)]
mod tests {
    use crate::lower::nef::{build_nef, NefDispatch};
    use crate::model::nef::{Connection, Ensemble, NefNetwork, Node, Synapse};

    #[test]
    fn a_level_runs_after_its_producers_with_one_dispatch_per_kernel_in_kernel_order() {
        let mut net = NefNetwork::new();
        let stim = net.node("stim", Node::function(1, |t| vec![t])).unwrap();
        let a = net.ensemble("a", Ensemble::new(5, 1)).unwrap();
        let b = net.ensemble("b", Ensemble::new(6, 1)).unwrap();
        net.connect(stim, a, Connection::new()).unwrap();
        net.connect(stim, b, Connection::new()).unwrap();
        let plan = build_nef(&net).unwrap();
        // Level 1: the feed, and the inputs (from last step's filters); level 2: both
        // encoders and both node connections in one matrix dispatch; level 3: all neurons.
        let shape: Vec<(&str, usize)> = plan
            .dispatches
            .iter()
            .map(|d| match d {
                NefDispatch::Sum { rows, .. } => ("nef_sum", rows.len()),
                NefDispatch::MatVec { rows } => ("nef_matvec", rows.len()),
                NefDispatch::Neurons { rows } => ("nef_neurons", rows.len()),
                NefDispatch::Filter { rows } => ("nef_filter", rows.len()),
                d => (d.kernel(), 0),
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("nef_feed", 0),
                ("nef_sum", 2),
                ("nef_matvec", 5 + 6 + 2),
                ("nef_neurons", 11),
                ("nef_filter", 2),
                ("nef_advance", 0)
            ]
        );
    }

    #[test]
    fn a_loop_without_synapses_is_refused_naming_its_operators() {
        let mut net = NefNetwork::new();
        let p = net.node("p", Node::passthrough(1)).unwrap();
        let x = net.ensemble("x", Ensemble::new(10, 1)).unwrap();
        let direct = || Connection::new().synapse(Synapse::None);
        net.connect(p, x, direct()).unwrap();
        net.connect(x, p, direct()).unwrap();
        let err = build_nef(&net).err().unwrap().to_string();
        assert!(
            err.contains("connections without a synapse form a loop (through encoders of `x`"),
            "{err}"
        );
        assert!(
            err.contains("give at least one connection of the loop a synapse"),
            "{err}"
        );
    }
}
