// Structs shared by the kernels, mirrored by `src/lower/layout.rs` (sizes are tested there).

const WORKGROUP_SIZE: u32 = 64u;
const MAX_GROUPS_PER_DIM: u32 = 65535u;
const KIND_LIF: u32 = 0u;
const KIND_SPIKE_SOURCE: u32 = 1u;
// The first kind of a user-defined neuron model.
const KIND_CUSTOM: u32 = 2u;
// Values in a LIF neuron's row of per-neuron parameters (PopRecord.each).
const LIF_ROW: u32 = 8u;
// Top bit of a refractory counter: the neuron is ablated (held, never spikes).
const ABLATED: u32 = 0x80000000u;
// Health check findings (Control.bad_what), and its bound on one step's input (1.5 x 2^30).
const BAD_V: u32 = 1u;
const BAD_I_EX: u32 = 2u;
const BAD_I_IN: u32 = 4u;
const BAD_INPUT_EX: u32 = 8u;
const BAD_INPUT_IN: u32 = 16u;
const INPUT_BOUND: i32 = 1610612736;

struct Globals {
    n_neurons: u32,
    n_pops: u32,
    ring_slots: u32,
    record_bits: u32,
    target_bits: u32,
    delay_bits: u32,
    weight_bits: u32,
    rec_start: u32,
    rec_count: u32,
    rec_words: u32,
    n_state_entries: u32,
    update_groups_x: u32,
    state_groups_x: u32,
    // Always 0; see `rn` in shared/rounding.wgsl.
    zero: u32,
    // The neurons this process updates (all of them in a single process).
    own_start: u32,
    own_count: u32,
}

struct PopRecord {
    start: u32,
    count: u32,
    kind: u32,
    n_ref: u32,
    p22: f32,
    p21_ex: f32,
    p21_in: f32,
    p11_ex: f32,
    p11_in: f32,
    v_th: f32,
    v_reset: f32,
    inv_scale_ex: f32,
    inv_scale_in: f32,
    poisson_start: u32,
    poisson_count: u32,
    aux: u32,
    params: u32,
    // Per-neuron parameter rows: values per neuron, 0 when the population shares one set.
    each: u32,
}

struct PoissonRecord {
    target_start: u32,
    target_count: u32,
    key: u32,
    cdf_start: u32,
    cdf_len: u32,
    k_min: u32,
    weight_q: i32,
    channel: u32,
}

struct StateEntry {
    neuron: u32,
    every_steps: u32,
    base: u32,
    _pad: u32,
}

// The GPU's own step counter and spike-list bookkeeping, so many steps run per submission. The
// neuron update of step t appends spikes to `spike_count[t % 2]`, clears the other count and
// sets `prop_step`; the propagation of step t advances `step`. Counting the steps of each
// parity apart is what lets the neuron update publish its count with no dispatch between it
// and the propagation: the count it clears was last read by the step before.
struct Control {
    step: u32,
    prop_step: u32,
    spike_count: array<atomic<u32>, 2>,
    chunk_start: u32,
    health: u32,
    bad_step: atomic<u32>,
    bad_neuron: atomic<u32>,
    bad_what: atomic<u32>,
    // Where propagate's spikes start in its spike list (0, or a step's place in the inbox).
    prop_first: u32,
    _pad1: u32,
    _pad2: u32,
}

struct SynapseChunk {
    base: u32,
    len: u32,
    _pad0: u32,
    _pad1: u32,
}

// Linear invocation index of a 1-D problem laid out on a 2-D grid of workgroups.
fn linear_index(wg: vec3<u32>, lid: u32, groups_x: u32) -> u32 {
    return (wg.y * groups_x + wg.x) * WORKGROUP_SIZE + lid;
}

// Constants of the plastic (STDP) kernels; the rest of their structs are in plastic_types.wgsl.
struct PlasticGlobals {
    n_neurons: u32,
    hist_slots: u32,
    ring_slots: u32,
    zero: u32,
    // The exchange interval on several processes (plastic_inbox), 0 in one.
    interval: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}
