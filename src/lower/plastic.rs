//! Plastic projections (STDP), lowered apart from the packed records: each synapse keeps a
//! float weight and its traces, which `plastic_pre` and `plastic_post` update. Synapses are
//! ordered by pre neuron, then delay (so that the spikes of one past step that arrive now are
//! one segment of each row), then as drawn; a second index lists each post neuron's synapses.

use super::csr::Census;
use super::fixed_point::ChannelScale;
use super::synapses::{BucketSource, Buckets, Synapses};
use crate::error::{Error, Result};
use crate::model::{Network, Stdp};
use bytemuck::{Pod, Zeroable};

/// A rule as the kernels read it: increments and bounds in pA, and where its trace decay
/// tables are in `decay`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct StdpRule {
    pub a_plus: f32,
    pub a_minus: f32,
    pub w_min: f32,
    pub w_max: f32,
    pub pre_decay: u32,
    pub pre_len: u32,
    pub post_decay: u32,
    pub post_len: u32,
}

/// A plastic synapse's constants: its post neuron, its rule (`CUT` set while lesioned) and
/// the fixed-point scale (a power of two) of its post neuron's excitatory channel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct PlasticSyn {
    pub post: u32,
    pub rule: u32,
    pub scale: f32,
}

/// Set in `PlasticSyn::rule` of a lesioned synapse: it delivers nothing and does not learn.
pub const CUT: u32 = 1 << 31;

/// A plastic synapse's state: weight (pA), traces, and the step they were last brought to.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct PlasticState {
    pub w: f32,
    pub apre: f32,
    pub apost: f32,
    pub last: u32,
}

/// Constants of the plastic kernels.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct PlasticGlobals {
    pub n_neurons: u32,
    /// Steps of spike lists kept: the longest plastic delay.
    pub hist_slots: u32,
    pub ring_slots: u32,
    /// Always 0; see `rn` in shaders/shared/rounding.wgsl.
    pub zero: u32,
}

/// Traces decay by a factor per step looked up here; past the table (20 time constants) a
/// trace is gone.
const DECAY_TAUS: f64 = 20.0;

/// The plastic projections of a network, lowered.
#[derive(Clone, Debug, PartialEq)]
pub struct PlasticPlan {
    pub rules: Vec<StdpRule>,
    pub decay: Vec<f32>,
    /// The longest delay of a plastic synapse, in steps (at least 1).
    pub max_delay: u32,
    /// Synapses of pre neuron `p` with delay `d` (1..=max_delay):
    /// `delay_ptr[p * max_delay + d - 1] .. delay_ptr[p * max_delay + d]`.
    pub delay_ptr: Vec<u32>,
    pub syns: Vec<PlasticSyn>,
    pub initial: Vec<PlasticState>,
    /// Synapses onto post neuron `i`: `by_post[post_ptr[i] .. post_ptr[i + 1]]`.
    pub post_ptr: Vec<u32>,
    pub by_post: Vec<u32>,
    /// Per synapse: its pre neuron, delay in steps and projection.
    pub pre: Vec<u32>,
    pub delay: Vec<u32>,
    pub projection: Vec<u32>,
}

/// A drawn plastic synapse, before ordering.
struct Drawn {
    pre: u32,
    post: u32,
    w: f32,
    delay: u32,
    projection: u32,
}

/// Draws the synapses of every projection with STDP (each from the same streams as a static
/// projection of the same blocks), ordered; `None` when there are none. Weights outside their
/// rule's bounds are refused.
pub fn lower(net: &Network, starts: &[u32], n: u32) -> Result<Option<PlasticDraw>> {
    let mut drawn = Vec::new();
    for (k, proj) in net.projections.iter().enumerate() {
        let Some(rule) = &proj.stdp else { continue };
        let synapses = Synapses::new(net, starts, Buckets::for_neurons(n), |j| j == k)?;
        for b in 0..synapses.buckets().count {
            let first = synapses.buckets().range(b).start;
            synapses.for_each_in_bucket(b, |pre_offset, post, w, delay| {
                if !(rule.w_min_pa..=rule.w_max_pa).contains(&(w as f64)) {
                    return Err(Error::Validation(format!(
                        "projection #{k} has STDP with weights in [{}, {}] pA, but synapse {} -> \
                         {post} starts at {w} pA; draw the weights within the bounds",
                        rule.w_min_pa,
                        rule.w_max_pa,
                        first + pre_offset
                    )));
                }
                drawn.push(Drawn {
                    pre: first + pre_offset,
                    post,
                    w,
                    delay: delay as u32,
                    projection: k as u32,
                });
                Ok(())
            })?;
        }
    }
    if drawn.is_empty() {
        return Ok(None);
    }
    // Stable: within a (pre, delay) segment, synapses stay in the order they were drawn.
    drawn.sort_by_key(|s| (s.pre, s.delay));
    Ok(Some(PlasticDraw { drawn, n }))
}

/// Plastic synapses drawn and ordered, waiting for the scales of their post neurons.
pub struct PlasticDraw {
    drawn: Vec<Drawn>,
    n: u32,
}

impl PlasticDraw {
    /// Counts every plastic synapse at its largest weight into its post neuron's excitatory
    /// channel, so the fixed-point scale leaves room for whatever weight it learns.
    pub fn add_to_census(&self, census: &mut Census, pop_index: &[u32], net: &Network) {
        for s in &self.drawn {
            let w_max = rule_of(net, s.projection).w_max_pa;
            let p = pop_index[s.post as usize] as usize;
            census.bound[s.post as usize][0] += w_max;
            census.typical[p][0].0 += w_max;
            census.typical[p][0].1 += 1;
            census.largest[p][0] = census.largest[p][0].max(w_max);
        }
    }

    /// The plan, with each synapse's scale from its post neuron's population and the rules'
    /// decay tables for steps of `dt_ms`.
    pub fn finish(
        self,
        net: &Network,
        scales: &[[ChannelScale; 2]],
        pop_index: &[u32],
    ) -> Result<PlasticPlan> {
        let n = self.n as usize;
        let max_delay = self.drawn.iter().map(|s| s.delay).max().unwrap_or(1).max(1);
        let (mut rules, mut decay, mut rule_of_proj) = (Vec::new(), Vec::new(), Vec::new());
        for (k, proj) in net.projections.iter().enumerate() {
            let Some(rule) = &proj.stdp else {
                rule_of_proj.push(u32::MAX);
                continue;
            };
            rule_of_proj.push(rules.len() as u32);
            let mut table = |tau_ms: f64| -> Result<(u32, u32)> {
                let len = (DECAY_TAUS * tau_ms / net.dt_ms).ceil() as usize + 1;
                if len > 1 << 22 {
                    return Err(Error::Build(format!(
                        "projection #{k}: an STDP time constant of {tau_ms} ms is {} steps of \
                         dt = {} ms; the trace tables hold at most 2^22 / 20 steps",
                        tau_ms / net.dt_ms,
                        net.dt_ms
                    )));
                }
                let start = decay.len() as u32;
                decay.extend((0..len).map(|s| (-(s as f64) * net.dt_ms / tau_ms).exp() as f32));
                Ok((start, len as u32))
            };
            let (pre_decay, pre_len) = table(rule.tau_pre_ms)?;
            let (post_decay, post_len) = table(rule.tau_post_ms)?;
            rules.push(StdpRule {
                a_plus: rule.a_plus_pa as f32,
                a_minus: rule.a_minus_pa as f32,
                w_min: rule.w_min_pa as f32,
                w_max: rule.w_max_pa as f32,
                pre_decay,
                pre_len,
                post_decay,
                post_len,
            });
        }
        let h = max_delay as usize;
        let mut delay_ptr = vec![0u32; n * h + 1];
        for s in &self.drawn {
            delay_ptr[s.pre as usize * h + s.delay as usize] += 1;
        }
        for i in 1..delay_ptr.len() {
            delay_ptr[i] += delay_ptr[i - 1];
        }
        let mut post_ptr = vec![0u32; n + 1];
        for s in &self.drawn {
            post_ptr[s.post as usize + 1] += 1;
        }
        for i in 1..post_ptr.len() {
            post_ptr[i] += post_ptr[i - 1];
        }
        let mut next = post_ptr.clone();
        let mut by_post = vec![0u32; self.drawn.len()];
        for (j, s) in self.drawn.iter().enumerate() {
            by_post[next[s.post as usize] as usize] = j as u32;
            next[s.post as usize] += 1;
        }
        let syns = (self.drawn.iter())
            .map(|s| PlasticSyn {
                post: s.post,
                rule: rule_of_proj[s.projection as usize],
                scale: scales[pop_index[s.post as usize] as usize][0].scale() as f32,
            })
            .collect();
        let initial = (self.drawn.iter())
            .map(|s| PlasticState {
                w: s.w,
                ..PlasticState::default()
            })
            .collect();
        Ok(PlasticPlan {
            rules,
            decay,
            max_delay,
            delay_ptr,
            syns,
            initial,
            post_ptr,
            by_post,
            pre: self.drawn.iter().map(|s| s.pre).collect(),
            delay: self.drawn.iter().map(|s| s.delay).collect(),
            projection: self.drawn.iter().map(|s| s.projection).collect(),
        })
    }
}

/// The STDP rule of projection `k` (which has one).
fn rule_of(net: &Network, k: u32) -> &Stdp {
    net.projections[k as usize]
        .stdp
        .as_ref()
        .expect("only plastic projections are drawn here")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn sizes_match_the_wgsl_structs() {
        // WGSL's layout of the structs in shaders/shared/plastic_types.wgsl and types.wgsl:
        // 4-byte scalars, no padding; a 12-byte PlasticSyn has an array stride of 12.
        assert_eq!(size_of::<StdpRule>(), 32);
        assert_eq!(size_of::<PlasticSyn>(), 12);
        assert_eq!(size_of::<PlasticState>(), 16);
        assert_eq!(size_of::<PlasticGlobals>(), 16);
        let wgsl = include_str!("../../shaders/shared/plastic_types.wgsl");
        assert!(wgsl.contains(&format!("const CUT: u32 = 0x{CUT:08x}u;")));
    }
}
