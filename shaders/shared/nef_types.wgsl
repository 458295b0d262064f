// Structs of the NEF kernels, mirrored by `src/lower/nef/layout.rs` (sizes are tested there).
// Every NEF kernel runs one thread per descriptor row; rows address two flat arrays, `sig`
// (vectors) and `w` (matrices).

const NEF_LIF: u32 = 0u;
const NEF_LIF_RATE: u32 = 1u;
const NEF_RELU: u32 = 2u;
const NEF_SPIKING_RELU: u32 = 3u;
// User-defined model k runs on ensembles of kind NEF_CUSTOM + k.
const NEF_CUSTOM: u32 = 16u;

struct NefGlobals {
    // Always 0; see `rn` in shared/rounding.wgsl.
    zero: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct NefControl {
    step: u32,
    chunk_start: u32,
    feed_width: u32,
    _pad: u32,
}

struct SumRow {
    dst: u32,
    first: u32,
    count: u32,
    _pad: u32,
}

struct SumEntry {
    src: u32,
    scale: f32,
}

struct MatVecRow {
    dst: u32,
    w_off: u32,
    x_off: u32,
    cols: u32,
}

struct EnsRecord {
    kind: u32,
    n: u32,
    j_enc: u32,
    neuron_in: u32,
    bias: u32,
    out: u32,
    voltage: u32,
    refractory: u32,
    dt: f32,
    tau_rc: f32,
    inv_tau_rc: f32,
    tau_ref: f32,
    min_voltage: f32,
    amplitude: f32,
    amp_over_dt: f32,
    expm1_dt: f32,
    // User-defined models: parameters, state after the first variable (variable-major),
    // refractory steps after a spike.
    params: u32,
    state: u32,
    n_ref: f32,
    _pad: u32,
}

struct NeuronRow {
    ens: u32,
    index: u32,
}

struct FilterRow {
    src: u32,
    dst: u32,
    state: u32,
    coef: u32,
}

struct FilterCoef {
    order: u32,
    d: f32,
    _pad0: u32,
    _pad1: u32,
    // a00, a01, a10, a11
    a: vec4<f32>,
    // b0, b1, c0, c1
    bc: vec4<f32>,
}

struct PesRow {
    w_off: u32,
    cols: u32,
    err: u32,
    pre: u32,
    alpha: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct RecordRow {
    src: u32,
    from_weights: u32,
    every: u32,
    rec_off: u32,
    width: u32,
    k: u32,
    _pad0: u32,
    _pad1: u32,
}

// The row this thread handles: dispatches are (x, y) grids with x = MAX_GROUPS_PER_DIM whenever
// y > 1.
fn nef_row(wg: vec3<u32>, lid: u32) -> u32 {
    return (wg.y * MAX_GROUPS_PER_DIM + wg.x) * WORKGROUP_SIZE + lid;
}

// A run of `cols` synapses of one row of a learning connection's weight matrix, for a user's
// synapse model: weights at `w_off ..`, pre neurons (columns) `pre ..`, post row `post`,
// synapse indices `syn ..` (row * columns + column, for the per-synapse state).
struct SynapseRow {
    w_off: u32,
    cols: u32,
    pre: u32,
    post: u32,
    syn: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}
