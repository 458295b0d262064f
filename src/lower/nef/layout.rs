//! `#[repr(C)]` structs of the NEF kernels, mirrored in `shaders/shared/nef_types.wgsl`; the
//! tests pin their sizes so the two cannot drift.
//!
//! Every NEF kernel runs one thread per row of a descriptor table. A row names offsets into
//! two flat f32 arrays: `sig` (every vector of the model: inputs, currents, activities,
//! voltages, filter states, node outputs) and `w` (every matrix: scaled encoders, decoders,
//! weights, the encoders PES uses).

use bytemuck::{Pod, Zeroable};

/// `EnsRecord.kind` values.
pub const NEF_LIF: u32 = 0;
pub const NEF_LIF_RATE: u32 = 1;
pub const NEF_RELU: u32 = 2;
pub const NEF_SPIKING_RELU: u32 = 3;
/// User-defined model `k` (`NefPlan::neuron_models[k]`) runs on ensembles of kind
/// `NEF_CUSTOM + k`.
pub const NEF_CUSTOM: u32 = 16;

/// Uniform of every NEF kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct NefGlobals {
    /// Always 0; see `rn` in shaders/shared/rounding.wgsl.
    pub zero: u32,
    pub _pad: [u32; 3],
}

/// Step counters, advanced on the device by `nef_advance` so that many steps go into one
/// submission.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct NefControl {
    /// Index of the step being computed (0 for the first step).
    pub step: u32,
    /// Step index at which the current chunk began.
    pub chunk_start: u32,
    /// Columns of the feed table (outputs of function nodes).
    pub feed_width: u32,
    pub _pad: u32,
}

/// `sig[dst] = sum of scale * sig[src]` over `entries[first .. first + count]`, in order.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct SumRow {
    pub dst: u32,
    pub first: u32,
    pub count: u32,
    pub _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct SumEntry {
    pub src: u32,
    pub scale: f32,
}

/// `sig[dst] = sum over j < cols of w[w_off + j] * sig[x_off + j]`, in order of j.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct MatVecRow {
    pub dst: u32,
    pub w_off: u32,
    pub x_off: u32,
    pub cols: u32,
}

/// One ensemble's neurons: where their signals are and the neuron type's constants.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct EnsRecord {
    pub kind: u32,
    pub n: u32,
    /// Offsets in `sig` of the per-neuron vectors.
    pub j_enc: u32,
    pub neuron_in: u32,
    pub bias: u32,
    pub out: u32,
    pub voltage: u32,
    /// Refractory times; `refractory + n` holds each neuron's live mask (1, or 0 if ablated).
    pub refractory: u32,
    pub dt: f32,
    pub tau_rc: f32,
    /// 1 / tau_rc, so the kernel multiplies instead of dividing.
    pub inv_tau_rc: f32,
    pub tau_ref: f32,
    pub min_voltage: f32,
    pub amplitude: f32,
    /// amplitude / dt: the output at a spike.
    pub amp_over_dt: f32,
    /// expm1(-dt / tau_rc), computed on the host in f64: the usual full-step decay.
    pub expm1_dt: f32,
    /// A user-defined model's parameters in `sig`.
    pub params: u32,
    /// A user-defined model's state after its first variable (which is at `voltage`), in
    /// `sig`, variable-major: variable `q` of neuron `i` at `state + (q - 1) * n + i`.
    pub state: u32,
    /// A user-defined model's refractory steps after a spike (a whole number).
    pub n_ref: f32,
    pub _pad: u32,
}

/// Neuron `index` of ensemble `ens`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct NeuronRow {
    pub ens: u32,
    pub index: u32,
}

/// One element of a filtered signal: reads `sig[src]`, keeps its state at `sig[state..state+2]`
/// and writes the filtered value to `sig[dst]`, with `coefs[coef]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct FilterRow {
    pub src: u32,
    pub dst: u32,
    pub state: u32,
    pub coef: u32,
}

/// A discretised synapse in state-space form (order 1 or 2), in f32.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct FilterCoef {
    pub order: u32,
    pub d: f32,
    pub _pad: [u32; 2],
    /// A row-major: a00, a01, a10, a11.
    pub a: [f32; 4],
    /// b0, b1, c0, c1.
    pub bc: [f32; 4],
}

/// One row of a learned matrix: `w[w_off + j] += alpha * sig[err] * sig[pre + j]`, j < cols.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct PesRow {
    pub w_off: u32,
    pub cols: u32,
    pub err: u32,
    pub pre: u32,
    pub alpha: f32,
    pub _pad: [u32; 3],
}

/// A run of `cols` synapses of one row of a learning connection's weight matrix, for a user's
/// synapse model (`model::plasticity`): weights at `w_off ..`, pre neurons (columns) `pre ..`,
/// post row `post`, synapse indices `syn ..` (row * columns + column: where the per-synapse
/// state is). Each synapse is in exactly one row, so one thread updates it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct SynapseRow {
    pub w_off: u32,
    pub cols: u32,
    pub pre: u32,
    pub post: u32,
    pub syn: u32,
    pub _pad: [u32; 3],
}

/// Element `k` of a probe: every `every` steps, copies `sig[src]` (or `w[src]` when
/// `from_weights` is 1) to `record[rec_off + sample_row * width + k]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct RecordRow {
    pub src: u32,
    pub from_weights: u32,
    pub every: u32,
    pub rec_off: u32,
    pub width: u32,
    pub k: u32,
    pub _pad: [u32; 2],
}

/// The record row of a sample taken after step `step` (0-based) of a chunk that began at
/// `chunk_start`, or `None` when no sample is due. Probes sample when the number of steps
/// done is a multiple of `every`, as Nengo's `n_steps % period < 1`.
pub fn sample_row(step: u32, chunk_start: u32, every: u32) -> Option<u32> {
    let done = step + 1;
    done.is_multiple_of(every)
        .then(|| done / every - 1 - chunk_start / every)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn sizes_match_the_wgsl_structs() {
        assert_eq!(size_of::<NefGlobals>(), 16);
        assert_eq!(size_of::<NefControl>(), 16);
        assert_eq!(size_of::<SumRow>(), 16);
        assert_eq!(size_of::<SumEntry>(), 8);
        assert_eq!(size_of::<MatVecRow>(), 16);
        assert_eq!(size_of::<EnsRecord>(), 80);
        assert_eq!(size_of::<NeuronRow>(), 8);
        assert_eq!(size_of::<FilterRow>(), 16);
        assert_eq!(size_of::<FilterCoef>(), 48);
        assert_eq!(size_of::<PesRow>(), 32);
        assert_eq!(size_of::<SynapseRow>(), 32);
        assert_eq!(size_of::<RecordRow>(), 32);
    }

    #[test]
    fn samples_fall_on_multiples_of_the_period() {
        // every 3 steps, chunk of steps 4..10: samples after steps 6 and 9 (done = 6, 9) are
        // the 2nd and 3rd of the run; one (done = 3) came before the chunk.
        let rows: Vec<_> = (4..10).filter_map(|s| sample_row(s, 4, 3)).collect();
        assert_eq!(rows, vec![0, 1]);
        assert_eq!(sample_row(2, 0, 3), Some(0));
        assert_eq!(sample_row(0, 0, 1), Some(0));
    }
}
