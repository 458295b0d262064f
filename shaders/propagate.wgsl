// Event-driven propagation over the step's spike list, all projections at once: one workgroup
// per spike (striding when there are more spikes than workgroups), its invocations striding over
// the spike's outgoing synapses in this chunk. Each synapse adds its fixed-point weight into the
// delay ring slot of step + delay with an i32 atomic: integer addition is associative, so the
// result does not depend on the order in which invocations run.
// CPU twin: src/kernels/propagate.rs.

@group(0) @binding(0) var<uniform> globals: Globals;
@group(0) @binding(1) var<uniform> chunk: SynapseChunk;
@group(0) @binding(2) var<storage, read_write> control: Control;
@group(0) @binding(3) var<storage, read> spikes: array<u32>;
@group(0) @binding(4) var<storage, read> row_ptr: array<u32>;
// This chunk's bit-packed synapse records (target, delay, weight; see src/lower/packing.rs).
@group(0) @binding(5) var<storage, read> syn_words: array<u32>;
@group(0) @binding(6) var<storage, read_write> ring: array<atomic<i32>>;

// Where record `r` of the chunk starts, as (word, bit). Records start at a word boundary every
// 64 (RECORD_ALIGNMENT), so the word is found from the record's block of 64 (2 * record_bits
// words) and its place in it: its bit offset r * record_bits would pass 2^32 at 512 MiB of
// records, while its word index stays below 2^30 in a chunk of up to 4 GiB (MAX_PART_BYTES).
// Twin: SynapseFormat::record_start in src/lower/packing.rs.
fn record_start(r: u32) -> vec2<u32> {
    let within = (r & 63u) * globals.record_bits;
    return vec2<u32>((r >> 6u) * (2u * globals.record_bits) + (within >> 5u), within & 31u);
}

// The `len`-bit field at (word, bit) `at`: two words, shifted and masked.
// Twin: read_bits in src/lower/packing.rs.
fn read_field(at: vec2<u32>, len: u32) -> u32 {
    let w = at.x;
    let s = at.y;
    let lo = syn_words[w] >> s;
    // A shift by 32 would wrap to a shift by 0, hence the select.
    let hi = select(0u, syn_words[w + 1u] << (32u - s), s != 0u);
    let mask = select((1u << len) - 1u, 0xffffffffu, len >= 32u);
    return (lo | hi) & mask;
}

// (word, bit) just past a `len`-bit field at `at`. Twin: next_field in src/lower/packing.rs.
fn past(at: vec2<u32>, len: u32) -> vec2<u32> {
    let end = at.y + len;
    return vec2<u32>(at.x + (end >> 5u), end & 31u);
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let step = control.prop_step;
    let count = atomicLoad(&control.spike_count[step % 2u]);
    if (all(wg == vec3(0u)) && lid == 0u) {
        // Nothing else reads the counter until the next step's neuron update; every part's
        // launch writes the same value. (The inbox's control block is never read for it.)
        control.step = step + 1u;
    }
    let lo = chunk.base;
    let hi = chunk.base + chunk.len;
    for (var s = wg.x; s < count; s += groups.x) {
        let pre = spikes[control.prop_first + s];
        let first = max(row_ptr[pre], lo);
        let last = min(row_ptr[pre + 1u], hi);
        for (var j = first + lid; j < last; j += WORKGROUP_SIZE) {
            let at_target = record_start(j - lo);
            let post = read_field(at_target, globals.target_bits);
            let at_delay = past(at_target, globals.target_bits);
            let delay = read_field(at_delay, globals.delay_bits);
            let raw = read_field(past(at_delay, globals.delay_bits), globals.weight_bits);
            let shift = 32u - globals.weight_bits;
            let w = i32(raw << shift) >> shift;
            let slot = ((step + delay) % globals.ring_slots) * globals.n_neurons + post;
            atomicAdd(&ring[slot * 2u + select(0u, 1u, w < 0)], w);
        }
    }
}
