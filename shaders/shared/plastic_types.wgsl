// Structs and helpers of the plastic (STDP) kernels, mirrored by `src/lower/plastic.rs`.
// Needs `globals` (a PlasticGlobals), `decay` and shared/rounding.wgsl in scope.

struct StdpRule {
    a_plus: f32,
    a_minus: f32,
    w_min: f32,
    w_max: f32,
    pre_decay: u32,
    pre_len: u32,
    post_decay: u32,
    post_len: u32,
}

// Scales of the post neuron's excitatory and inhibitory channels: a weight goes into the
// channel of its sign, as a static synapse's does.
struct PlasticSyn {
    post: u32,
    rule: u32,
    scale: f32,
    scale_in: f32,
}

struct PlasticState {
    w: f32,
    apre: f32,
    apost: f32,
    last: u32,
}

// Set in PlasticSyn.rule of a lesioned synapse: it delivers nothing and does not learn.
const CUT: u32 = 0x80000000u;

// The factor a trace decays by over `steps` steps: a table lookup, 0 past the table.
fn trace_decay(start: u32, len: u32, steps: u32) -> f32 {
    if (steps >= len) {
        return 0.0;
    }
    return decay[start + steps];
}

// Brings a synapse's traces from the step they were last brought to up to step `now`.
// Twin: `bring` in src/kernels/plastic_post.rs.
fn bring(s: PlasticState, rule: StdpRule, now: u32) -> PlasticState {
    var out = s;
    let steps = now - s.last;
    out.apre = flush(rn(s.apre * trace_decay(rule.pre_decay, rule.pre_len, steps)));
    out.apost = flush(rn(s.apost * trace_decay(rule.post_decay, rule.post_len, steps)));
    out.last = now;
    return out;
}

// `w` within [lo, hi], by comparisons rather than min and max, which may return either zero
// when given +0 and -0. Twin: `bound` in src/kernels/plastic_post.rs.
fn bound(w: f32, lo: f32, hi: f32) -> f32 {
    return select(select(w, hi, w > hi), lo, w < lo);
}

// Set in PlasticSyn.rule of a synapse run by a user-defined synapse model (the rest of the
// field is the model's index): the STDP kernels skip it, the plastic_model kernels run it.
const MODEL: u32 = 0x40000000u;

// Where a model synapse's state variables and traces are in `model_vars`, and its pre and post
// neurons within their populations (what its snippets see as `pre` and `post`).
struct ModelSyn {
    vars: u32,
    pre: u32,
    post: u32,
}
