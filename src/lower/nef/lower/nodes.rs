//! Nodes: constants in `sig`, function nodes as columns of the feed table, passthrough nodes as
//! a sum of their inputs, callback nodes as host calls between dispatches.

use super::{span, Lowering, Op, OpRows};
use crate::lower::nef::plan::{FeedSource, HostNode};
use crate::model::nef::{HostFn, Node};

impl Lowering<'_> {
    /// Allocates node outputs; function nodes get feed columns.
    pub(super) fn nodes(&mut self) -> (Vec<u32>, Vec<FeedSource>) {
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
                    let (node_in, out) = self.callback_node(name, f, *size_in, *size_out);
                    input = node_in;
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

    /// A callback node's input and output; returns where they are.
    fn callback_node(
        &mut self,
        name: &str,
        f: &HostFn,
        size_in: usize,
        size_out: usize,
    ) -> (u32, u32) {
        let input = self.alloc(size_in, 0.0);
        let out = self.alloc(size_out, 0.0);
        self.host_nodes.push(HostNode {
            name: name.to_string(),
            f: f.clone(),
            input,
            size_in,
            output: out,
            size_out,
        });
        self.ops.push(Op {
            rows: OpRows::Host(self.host_nodes.len() - 1),
            reads: vec![span(input, size_in as u32)],
            writes: vec![span(out, size_out as u32)],
            what: format!("callback node `{name}`"),
        });
        (input, out)
    }
}

#[cfg(test)]
mod tests {
    use crate::lower::nef::layout::{MatVecRow, SumEntry, SumRow};
    use crate::lower::nef::{build_nef, ConnRows, NefDispatch};
    use crate::model::nef::{Connection, NefNetwork, Node, Synapse};

    #[test]
    fn node_inputs_are_sums_and_a_callback_runs_after_its_input() {
        let mut net = NefNetwork::new();
        let stim = net.node("stim", Node::function(1, |t| vec![t])).unwrap();
        let pass = net.node("pass", Node::passthrough(2)).unwrap();
        let cb = net
            .node("cb", Node::callback(2, 1, |_, x| vec![x[0] + x[1]]))
            .unwrap();
        let direct = || Connection::new().synapse(Synapse::None);
        net.connect(stim, pass.slice(1..2), direct()).unwrap();
        net.connect(pass, cb, direct()).unwrap();
        let plan = build_nef(&net).unwrap();
        // stim's output sig[0] (a feed column); pass's input and output sig[1..3]; cb's input
        // sig[3..5] and output sig[5]; then the connections' products, sig[6] and sig[7..9].
        assert_eq!(plan.feed_dst, [0]);
        assert_eq!((plan.feeds[0].first_column, plan.feeds[0].width), (0, 1));
        let host = &plan.host_nodes[0];
        assert_eq!(
            (host.input, host.size_in, host.output, host.size_out),
            (3, 2, 5, 1)
        );
        assert_eq!(plan.sig.len(), 9);
        for c in &plan.built_connections {
            assert_eq!(c.post, ConnRows::Other);
            assert!(!c.pre_neurons && c.decoders.is_none());
        }
        let one = |src| SumEntry { src, scale: 1.0 };
        let sum_row = |dst, first| SumRow {
            dst,
            first,
            count: 1,
            _pad: 0,
        };
        // Each step waits for the one before: the feed, stim -> pass, pass's input (its
        // element 1), pass -> cb, cb's input, the call.
        assert_eq!(
            plan.dispatches,
            [
                NefDispatch::Feed,
                NefDispatch::MatVec {
                    rows: vec![MatVecRow {
                        dst: 6,
                        w_off: 0,
                        x_off: 0,
                        cols: 1
                    }]
                },
                NefDispatch::Sum {
                    rows: vec![sum_row(2, 0)],
                    entries: vec![one(6)]
                },
                NefDispatch::MatVec {
                    rows: (0..2)
                        .map(|r| MatVecRow {
                            dst: 7 + r,
                            w_off: 1 + 2 * r,
                            x_off: 1,
                            cols: 2
                        })
                        .collect()
                },
                NefDispatch::Sum {
                    rows: vec![sum_row(3, 0), sum_row(4, 1)],
                    entries: vec![one(7), one(8)]
                },
                NefDispatch::Host { node: 0 },
                NefDispatch::Advance
            ]
        );
    }
}
