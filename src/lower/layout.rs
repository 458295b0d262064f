//! `#[repr(C)]` structs shared with the WGSL kernels. Each is mirrored in
//! `shaders/shared/types.wgsl`; the tests below pin sizes and offsets so the two cannot drift.

use bytemuck::{Pod, Zeroable};

/// Workgroup size of every kernel (the WGSL files use the same literal).
pub const WORKGROUP_SIZE: u32 = 64;
/// Largest workgroup count per dimension that every adapter accepts.
pub const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// `PopRecord.kind` values.
pub const KIND_LIF: u32 = 0;
pub const KIND_SPIKE_SOURCE: u32 = 1;
/// The first kind of a user-defined neuron model: `KIND_CUSTOM + k` runs the plan's
/// `neuron_models[k]` (see `model::neuron_model::kernel`).
pub const KIND_CUSTOM: u32 = 2;
/// Top bit of a neuron's refractory counter: set while it is ablated (held as if refractory,
/// never spiking). The counter itself never comes near it.
pub const ABLATED: u32 = 1 << 31;

/// `Control.bad_what` bits of the health check: which state became NaN or infinite, or which
/// channel's summed input left the fixed-point range the build sized it for.
pub const BAD_V: u32 = 1;
pub const BAD_I_EX: u32 = 2;
pub const BAD_I_IN: u32 = 4;
pub const BAD_INPUT_EX: u32 = 8;
pub const BAD_INPUT_IN: u32 = 16;
/// The health check's bound on one step's summed input to a channel, in fixed-point units. The
/// build chooses each channel's scale so that the worst case (every synapse at once plus the
/// largest Poisson count) is at most 2^30 units, plus half a unit of rounding per synapse
/// (`lower::fixed_point`); an i32 sum wraps at 2^31. A sum of 1.5 x 2^30 or more is therefore
/// never the network as built: the tables were changed, or the sum is on its way to wrapping.
pub const INPUT_BOUND: i32 = 3 << 29;

/// One population in the merged neuron-update dispatch.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct PopRecord {
    /// Global index of the first neuron, and the neuron count.
    pub start: u32,
    pub count: u32,
    pub kind: u32,
    /// Refractory period in steps, round(t_ref/dt).
    pub n_ref: u32,
    /// Exact propagators (host-computed, see `lower::propagators`).
    pub p22: f32,
    pub p21_ex: f32,
    pub p21_in: f32,
    pub p11_ex: f32,
    pub p11_in: f32,
    pub v_th: f32,
    pub v_reset: f32,
    /// Fixed-point to pA for the two synaptic channels (exact powers of two).
    pub inv_scale_ex: f32,
    pub inv_scale_in: f32,
    /// This population's Poisson inputs: `poisson[poisson_start .. poisson_start + poisson_count]`.
    pub poisson_start: u32,
    pub poisson_count: u32,
    /// Spike sources: index in the aux table of this population's first per-neuron pointer.
    /// User-defined models: index in `v` of the state variables after the first (which is
    /// `v[neuron]`), neuron-major: neuron `k`'s are `aux + k * (vars - 1) ..`.
    pub aux: u32,
    /// User-defined models: index in `v` of this population's parameters. LIF populations
    /// with per-neuron parameters: index in `v_drive` of their rows (see `each`).
    pub params: u32,
    /// Values per neuron of this population's per-neuron parameter rows, or 0 when all its
    /// neurons share one set (this record's for LIF, `v[params..]` for a user-defined model).
    /// Neuron `k`'s row starts at `params + k * each`: in `v_drive` for LIF (`LIF_ROW`
    /// values: p22, p21_ex, p21_in, p11_ex, p11_in, v_th, v_reset, n_ref), in `v` for a
    /// user-defined model (its parameters in order). A flag read once per neuron, so a
    /// population without per-neuron parameters runs exactly the arithmetic it always did.
    pub each: u32,
}

/// Values in a LIF neuron's row of per-neuron parameters (see `PopRecord.each`).
pub const LIF_ROW: u32 = 8;

/// One Poisson input into a range of neurons of one population.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct PoissonRecord {
    /// Global index range of the targets.
    pub target_start: u32,
    pub target_count: u32,
    /// Counter-based key: draws are hash3(key, pop-local neuron index, step).
    pub key: u32,
    /// The binomial inverse CDF: `cdf[cdf_start .. cdf_start + cdf_len]`, see `lower::poisson`.
    pub cdf_start: u32,
    pub cdf_len: u32,
    pub k_min: u32,
    /// Weight per input spike in the target's fixed-point units, and channel (0 ex, 1 in).
    pub weight_q: i32,
    pub channel: u32,
}

/// One recorded neuron of a state probe.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct StateEntry {
    pub neuron: u32,
    pub every_steps: u32,
    /// First float of this entry's rows in the per-chunk state record (3 floats a row).
    pub base: u32,
    pub _pad: u32,
}

/// Constants of a built model, one uniform for every kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct Globals {
    pub n_neurons: u32,
    pub n_pops: u32,
    pub ring_slots: u32,
    /// Synapse record layout (see `lower::packing`).
    pub record_bits: u32,
    pub target_bits: u32,
    pub delay_bits: u32,
    pub weight_bits: u32,
    pub rec_start: u32,
    pub rec_count: u32,
    pub rec_words: u32,
    pub n_state_entries: u32,
    /// Workgroups along x of the neuron dispatch (the grid may be 2-D past 65,535 groups).
    pub update_groups_x: u32,
    pub state_groups_x: u32,
    /// Always 0: the opaque operand of `rn` in shaders/shared/rounding.wgsl.
    pub zero: u32,
    /// The neurons this process updates, `own_start .. own_start + own_count`: all of them
    /// in a single process; a part of them when a network runs on several (`lower::part`).
    pub own_start: u32,
    pub own_count: u32,
}

/// The GPU's own step counter and spike-list bookkeeping, so many steps can be recorded in one
/// submission without host writes between them. The neuron update of step t appends its spikes
/// to `spike_count[t % 2]`, clears the other count and sets `prop_step`; the propagation of
/// step t advances `step`. Counts of odd and even steps apart let the neuron update publish
/// its count with no dispatch between it and the propagation (see `Groups::IndirectByParity`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct Control {
    /// The step the neuron update is about to compute.
    pub step: u32,
    /// The step whose spikes `propagate` is delivering.
    pub prop_step: u32,
    /// Spikes appended by the neuron update of even and odd steps (atomic in WGSL).
    pub spike_count: [u32; 2],
    /// First step of the chunk being recorded (written by the host per chunk).
    pub chunk_start: u32,
    /// Nonzero: the neuron update checks every state it computes (written by the host).
    pub health: u32,
    /// The health check's findings in the chunk: the first step where a check failed (u32::MAX
    /// while none has), the lowest neuron that failed at that step, and the `BAD_*` bits of
    /// every failure at that step (atomic in WGSL).
    pub bad_step: u32,
    pub bad_neuron: u32,
    pub bad_what: u32,
    /// Where `propagate`'s spikes start in its spike list: 0 for the step's own spikes; the
    /// step's place in the inbox for spikes from other processes (`prepare_inbox`).
    pub prop_first: u32,
    pub _pad: [u32; 2],
}

impl Control {
    /// How many spikes `propagate` delivers: those of step `prop_step`.
    pub fn prop_count(&self) -> u32 {
        self.spike_count[(self.prop_step % 2) as usize]
    }

    /// The control block the host writes at the start of a chunk.
    pub fn chunk(first_step: u32, health: bool) -> Control {
        Control {
            step: first_step,
            chunk_start: first_step,
            health: health as u32,
            bad_step: u32::MAX,
            bad_neuron: u32::MAX,
            ..Default::default()
        }
    }
}

/// Per-chunk constants of the propagation dispatch (synapse arrays may be split into chunks that
/// each fit one storage binding).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct SynapseChunk {
    pub base: u32,
    pub len: u32,
    pub _pad: [u32; 2],
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn constants_match_the_wgsl_ones() {
        let wgsl = include_str!("../../shaders/shared/types.wgsl");
        let value = |name: &str| -> i64 {
            let line = wgsl
                .lines()
                .find(|l| l.starts_with(&format!("const {name}:")))
                .unwrap_or_else(|| panic!("types.wgsl has no const {name}"));
            let literal = line.split('=').nth(1).unwrap().trim().trim_end_matches(';');
            let digits = literal.trim_end_matches(['u', 'i']);
            match digits.strip_prefix("0x") {
                Some(hex) => i64::from_str_radix(hex, 16).unwrap(),
                None => digits.parse().unwrap(),
            }
        };
        assert_eq!(value("ABLATED"), ABLATED as i64);
        assert_eq!(value("KIND_LIF"), KIND_LIF as i64);
        assert_eq!(value("KIND_SPIKE_SOURCE"), KIND_SPIKE_SOURCE as i64);
        assert_eq!(value("KIND_CUSTOM"), KIND_CUSTOM as i64);
        assert_eq!(value("LIF_ROW"), LIF_ROW as i64);
        assert_eq!(value("INPUT_BOUND"), INPUT_BOUND as i64);
        for (name, bit) in [
            ("BAD_V", BAD_V),
            ("BAD_I_EX", BAD_I_EX),
            ("BAD_I_IN", BAD_I_IN),
            ("BAD_INPUT_EX", BAD_INPUT_EX),
            ("BAD_INPUT_IN", BAD_INPUT_IN),
        ] {
            assert_eq!(value(name), bit as i64, "{name}");
        }
    }

    #[test]
    fn sizes_and_offsets_match_the_wgsl_structs() {
        // Sizes follow WGSL's layout rules for the mirrored structs in shaders/shared/types.wgsl.
        assert_eq!(size_of::<PopRecord>(), 72);
        assert_eq!(offset_of!(PopRecord, p22), 16);
        assert_eq!(offset_of!(PopRecord, inv_scale_in), 48);
        assert_eq!(offset_of!(PopRecord, aux), 60);
        assert_eq!(offset_of!(PopRecord, params), 64);
        assert_eq!(offset_of!(PopRecord, each), 68);
        assert_eq!(size_of::<PoissonRecord>(), 32);
        assert_eq!(offset_of!(PoissonRecord, weight_q), 24);
        assert_eq!(size_of::<StateEntry>(), 16);
        assert_eq!(size_of::<Globals>(), 64);
        assert_eq!(offset_of!(Globals, rec_start), 28);
        assert_eq!(offset_of!(Globals, update_groups_x), 44);
        assert_eq!(offset_of!(Globals, zero), 52);
        assert_eq!(size_of::<Control>(), 48);
        assert_eq!(offset_of!(Control, chunk_start), 16);
        assert_eq!(offset_of!(Control, bad_what), 32);
        assert_eq!(size_of::<SynapseChunk>(), 16);
    }
}
