//! Plastic projections (STDP, user-defined synapse models), lowered apart from the packed
//! records: each synapse keeps a float weight and its traces, which `plastic_pre` and
//! `plastic_post` update (`plastic_model_pre` and `plastic_model_post` for a model's synapses,
//! whose state variables and traces are in `model_vars`). Synapses are
//! ordered by pre neuron, then delay (so that the spikes of one past step that arrive now are
//! one segment of each row), then as drawn; a second index lists each post neuron's synapses.

use super::csr::Census;
use super::fixed_point::ChannelScale;
use super::synapses::{BucketSource, Buckets, Synapses};
use crate::error::{Error, Result};
use crate::model::plasticity::spiking::ModelLayout;
use crate::model::plasticity::{StateInit, SynapseModel};
use crate::model::Network;
use crate::rng::{stream, KeyHasher};
use bytemuck::{Pod, Zeroable};
use rand::Rng;

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
/// the fixed-point scales (powers of two) of its post neuron's excitatory and inhibitory
/// channels. As a static synapse, it delivers into the channel of its weight's sign.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct PlasticSyn {
    pub post: u32,
    pub rule: u32,
    pub scale: f32,
    pub scale_in: f32,
}

impl PlasticSyn {
    /// Weight `w` in the fixed point of the post neuron's channel of its sign, and that
    /// channel (0 excitatory, 1 inhibitory). Twin of the WGSL in `plastic_pre.wgsl` and
    /// `plastic_model_pre.wgsl`.
    pub fn fixed(&self, w: f32) -> (i32, usize) {
        let inhibitory = w < 0.0;
        let scale = if inhibitory {
            self.scale_in
        } else {
            self.scale
        };
        (
            (w * scale).round_ties_even() as i32,
            usize::from(inhibitory),
        )
    }
}

/// Set in `PlasticSyn::rule` of a lesioned synapse: it delivers nothing and does not learn.
pub const CUT: u32 = 1 << 31;
/// Set in `PlasticSyn::rule` of a synapse of a user-defined model (the rest of the field is
/// the model's index): the STDP kernels skip it, the `plastic_model` kernels run it.
pub const MODEL: u32 = 1 << 30;

/// Where a model synapse's state variables and traces are in `model_vars` (its first), and its
/// pre and post neurons within their populations.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct ModelSyn {
    pub vars: u32,
    pub pre: u32,
    pub post: u32,
}

/// A user-defined synapse model of one projection, lowered.
#[derive(Clone, Debug)]
pub struct ModelPlan {
    pub model: SynapseModel,
    pub projection: u32,
    pub max_weight: f32,
    /// Offset of its first parameter in `model_params`.
    pub param_off: u32,
    /// Per trace (pre traces first): its decay table's start and length in `decay`.
    pub traces: Vec<(u32, u32)>,
}

impl ModelPlan {
    /// Where the model's values are, for the kernel generator.
    pub fn layout(&self) -> ModelLayout<'_> {
        ModelLayout {
            model: &self.model,
            param_off: self.param_off,
            traces: &self.traces,
            max_weight: self.max_weight,
        }
    }
}

impl PartialEq for ModelPlan {
    /// Equal declarations and snippets (the Rust twin, a closure, is not compared).
    fn eq(&self, other: &Self) -> bool {
        format!("{:?}", self.model) == format!("{:?}", other.model)
            && (self.projection, self.max_weight, self.param_off)
                == (other.projection, other.max_weight, other.param_off)
            && self.traces == other.traces
    }
}

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
    /// On several processes, the exchange interval: other processes' spikes arrive in the
    /// inbox this many steps after they were fired (`plastic_inbox`); 0 in one process.
    pub interval: u32,
    pub _pad: [u32; 3],
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
    /// Per synapse, its place among the synapses of its projection in the whole network, and
    /// per projection (by index) how many plastic synapses it has there: on one process the
    /// plan's own order; on several, each keeps the synapses onto its own neurons, and these
    /// put their values in the order of one process.
    pub rank: Vec<u32>,
    pub projection_sizes: Vec<u32>,
    /// Per projection (by index), the rule its synapses have (`MODEL | index` for a synapse
    /// model; `u32::MAX` when it is not plastic).
    pub rule_of_projection: Vec<u32>,
    /// The user-defined synapse models (`PlasticSyn::rule` of their synapses is
    /// `MODEL | index`); the rest is empty when there are none.
    pub models: Vec<ModelPlan>,
    /// Per plastic synapse, where its model's values are (zeros for STDP synapses).
    pub model_syn: Vec<ModelSyn>,
    /// The model synapses' state variables and traces, initial.
    pub model_vars: Vec<f32>,
    pub model_params: Vec<f32>,
    /// The `plastic_model_post` and `plastic_model_pre` kernels with the models spliced in.
    pub model_kernels: Vec<(&'static str, String)>,
}

/// A drawn plastic synapse, before ordering.
struct Drawn {
    pre: u32,
    post: u32,
    w: f32,
    delay: u32,
    projection: u32,
    /// Once ordered: its place among the synapses of its projection in the whole network.
    rank: u64,
}

/// Whether projection `k` is plastic: STDP or a user-defined synapse model.
pub fn is_plastic(net: &Network, k: usize) -> bool {
    let p = &net.projections[k];
    p.stdp.is_some() || p.model.is_some()
}

/// The bounds a plastic projection's weights start within and the largest weight it delivers
/// (pA), and what the bounds are, for messages.
fn weight_bounds(net: &Network, k: usize) -> (f64, f64, &'static str) {
    let p = &net.projections[k];
    match (&p.stdp, &p.model) {
        (Some(rule), _) => (rule.w_min_pa, rule.w_max_pa, "its STDP bounds"),
        (None, Some(m)) => (-m.max_weight_pa, m.max_weight_pa, "± its max_weight_pa"),
        (None, None) => unreachable!("only plastic projections have bounds"),
    }
}

/// Draws the synapses of every plastic projection (each from the same streams as a static
/// projection of the same blocks), ordered; `None` when there are none. Weights outside their
/// rule's bounds are refused.
pub fn lower(net: &Network, starts: &[u32], n: u32) -> Result<Option<PlasticDraw>> {
    let mut drawn = Vec::new();
    for k in 0..net.projections.len() {
        if !is_plastic(net, k) {
            continue;
        }
        let (lo, hi, what) = weight_bounds(net, k);
        let synapses = Synapses::new(net, starts, Buckets::for_neurons(n), |j| j == k)?;
        for b in 0..synapses.buckets().count {
            let first = synapses.buckets().range(b).start;
            synapses.for_each_in_bucket(b, |pre_offset, post, w, delay| {
                if !(lo..=hi).contains(&(w as f64)) {
                    return Err(Error::Validation(format!(
                        "projection #{k} is plastic with weights in [{lo}, {hi}] pA ({what}), \
                         but synapse {} -> {post} starts at {w} pA; draw the weights within \
                         the bounds",
                        first + pre_offset
                    )));
                }
                drawn.push(Drawn {
                    pre: first + pre_offset,
                    post,
                    w,
                    delay: delay as u32,
                    projection: k as u32,
                    rank: 0,
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
    let mut sizes = vec![0u64; net.projections.len()];
    for s in drawn.iter_mut() {
        s.rank = sizes[s.projection as usize];
        sizes[s.projection as usize] += 1;
    }
    let max_delay = drawn.iter().map(|s| s.delay).max().unwrap_or(1).max(1);
    Ok(Some(PlasticDraw {
        drawn,
        n,
        max_delay,
        projection_sizes: sizes.into_iter().map(|c| c as u32).collect(),
    }))
}

/// Plastic synapses drawn and ordered, waiting for the scales of their post neurons.
pub struct PlasticDraw {
    drawn: Vec<Drawn>,
    n: u32,
    /// The longest delay and the plastic synapses per projection in the whole network, kept
    /// when a process keeps only the synapses onto its own neurons.
    max_delay: u32,
    projection_sizes: Vec<u32>,
}

impl PlasticDraw {
    /// The shortest delay of a plastic synapse between neurons of two processes, which
    /// `owner` tells apart.
    pub fn shortest_between(&self, owner: impl Fn(u32) -> u32) -> Option<u32> {
        (self.drawn.iter())
            .filter(|s| owner(s.pre) != owner(s.post))
            .map(|s| s.delay)
            .min()
    }

    /// Keeps only the synapses onto `posts` (one process's neurons), after the census has
    /// counted every one of them.
    pub fn keep_onto(&mut self, posts: std::ops::Range<u32>) {
        self.drawn.retain(|s| posts.contains(&s.post));
    }

    /// Counts every plastic synapse at its largest weight of each sign into its post neuron's
    /// channel of that sign (excitatory up to its upper bound, inhibitory down to its lower
    /// one), so the fixed-point scales leave room for whatever weight it learns.
    pub fn add_to_census(&self, census: &mut Census, pop_index: &[u32], net: &Network) {
        for s in &self.drawn {
            let (lo, hi, _) = weight_bounds(net, s.projection as usize);
            let p = pop_index[s.post as usize] as usize;
            for (channel, reach) in [(0, hi), (1, -lo)] {
                if reach <= 0.0 {
                    continue;
                }
                census.bound[s.post as usize][channel] += reach;
                census.typical[p][channel].0 += reach;
                census.typical[p][channel].1 += 1;
                census.largest[p][channel] = census.largest[p][channel].max(reach);
            }
        }
    }

    /// The plan, with each synapse's scale from its post neuron's population and the rules'
    /// decay tables for steps of `dt_ms`.
    pub fn finish(
        self,
        net: &Network,
        scales: &[[ChannelScale; 2]],
        pop_index: &[u32],
        starts: &[u32],
    ) -> Result<PlasticPlan> {
        let n = self.n as usize;
        let max_delay = self.max_delay;
        let (mut rules, mut decay, mut rule_of_proj) = (Vec::new(), Vec::new(), Vec::new());
        let (mut models, mut model_params) = (Vec::new(), Vec::new());
        for (k, proj) in net.projections.iter().enumerate() {
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
            if let Some(m) = &proj.model {
                rule_of_proj.push(MODEL | models.len() as u32);
                let model = &m.model;
                // Synapse models give their traces' time constants in seconds, as on NEF
                // connections.
                let traces = (model.pre_traces.iter().chain(&model.post_traces))
                    .map(|(_, tau_s)| table(tau_s * 1e3))
                    .collect::<Result<Vec<_>>>()?;
                models.push(ModelPlan {
                    model: model.clone(),
                    projection: k as u32,
                    max_weight: m.max_weight_pa as f32,
                    param_off: model_params.len() as u32,
                    traces,
                });
                model_params.extend(model.params.iter().map(|(_, v)| *v as f32));
                continue;
            }
            let Some(rule) = &proj.stdp else {
                rule_of_proj.push(u32::MAX);
                continue;
            };
            rule_of_proj.push(rules.len() as u32);
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
                scale_in: scales[pop_index[s.post as usize] as usize][1].scale() as f32,
            })
            .collect();
        let initial = (self.drawn.iter())
            .map(|s| PlasticState {
                w: s.w,
                ..PlasticState::default()
            })
            .collect();
        let (model_syn, model_vars) = model_values(net, &self.drawn, &models, starts, pop_index);
        let model_kernels = match models.is_empty() {
            true => Vec::new(),
            false => {
                let layouts: Vec<_> = models.iter().map(ModelPlan::layout).collect();
                let dt = (net.dt_ms * 1e-3) as f32;
                crate::model::plasticity::spiking::generate(&layouts, dt)
                    .map(|(name, source)| (name, source.text))
                    .into_iter()
                    .collect()
            }
        };
        Ok(PlasticPlan {
            models,
            model_syn,
            model_vars,
            model_params,
            model_kernels,
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
            rank: self.drawn.iter().map(|s| s.rank as u32).collect(),
            projection_sizes: self.projection_sizes,
            rule_of_projection: rule_of_proj,
        })
    }
}

/// Per plastic synapse where its model's values are, and the model synapses' initial state
/// variables and traces (traces start at 0). Uniform initial values are drawn per synapse from
/// the projection's index, the variable's name and the synapse's rank in its projection, so
/// they do not depend on the rest of the network.
fn model_values(
    net: &Network,
    drawn: &[Drawn],
    models: &[ModelPlan],
    starts: &[u32],
    pop_index: &[u32],
) -> (Vec<ModelSyn>, Vec<f32>) {
    if models.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let model_of = |k: u32| models.iter().find(|m| m.projection == k);
    let local = |i: u32| i - starts[pop_index[i as usize] as usize];
    let (mut syns, mut vars) = (Vec::with_capacity(drawn.len()), Vec::new());
    for s in drawn {
        let Some(m) = model_of(s.projection) else {
            syns.push(ModelSyn::default());
            continue;
        };
        syns.push(ModelSyn {
            vars: vars.len() as u32,
            pre: local(s.pre),
            post: local(s.post),
        });
        let r = s.rank;
        for (name, init) in &m.model.state {
            vars.push(match *init {
                StateInit::Constant(v) => v as f32,
                StateInit::Uniform { low, high } => {
                    let key = KeyHasher::default()
                        .str("spiking synapse state")
                        .u64(s.projection as u64)
                        .str(name)
                        .finish();
                    let u: f64 = stream(net.seed(), key, r).random();
                    (low + (high - low) * u) as f32
                }
            });
        }
        vars.extend(std::iter::repeat_n(0.0, m.traces.len()));
    }
    (syns, vars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn sizes_match_the_wgsl_structs() {
        // WGSL's layout of the structs in shaders/shared/plastic_types.wgsl and types.wgsl:
        // 4-byte scalars, no padding.
        assert_eq!(size_of::<StdpRule>(), 32);
        assert_eq!(size_of::<PlasticSyn>(), 16);
        assert_eq!(size_of::<PlasticState>(), 16);
        assert_eq!(size_of::<PlasticGlobals>(), 32);
        assert_eq!(size_of::<ModelSyn>(), 12);
        let wgsl = include_str!("../../shaders/shared/plastic_types.wgsl");
        assert!(wgsl.contains(&format!("const CUT: u32 = 0x{CUT:08x}u;")));
        assert!(wgsl.contains(&format!("const MODEL: u32 = 0x{MODEL:08x}u;")));
    }
}
