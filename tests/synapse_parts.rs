//! Synapse records split into parts at any record count give the spikes of one part: the GPU
//! with its binding limit capped so that the parts' size lands just below, at and just above
//! the model's record count (one part, one part exactly full, two parts with a short second
//! one), against the CPU twin. The cap stands in for an adapter's
//! `max_storage_buffer_binding_size`, which the parts now reach (up to 4 GiB: records are
//! addressed by word, not by a u32 bit offset); the addressing past 2^32 bits within a part is
//! tested on the arithmetic itself in `lower::packing`'s unit tests, without allocating 512 MiB.

mod common;
use common::assert_same_spikes;
use lamina::lower::packing::records_per_part;
use lamina::prelude::*;

/// The cap in bytes under which a part holds exactly `records` records (a multiple of 64).
fn cap_for(records: u64, record_bits: u32) -> u64 {
    (records * record_bits as u64 / 32 + 1) * 4
}

#[test]
fn parts_that_straddle_the_record_count_give_the_spikes_of_one_part() -> Result<()> {
    let Some(BackendChoice::Gpu(opts)) = common::gpu_or_skip() else {
        return Ok(());
    };
    let (net, spikes, ..) = common::recurrent(11)?;
    let steps = 1_500;
    let mut cpu = Simulator::new(&net, BackendChoice::Cpu)?;
    cpu.run_steps(steps)?;
    let reference = cpu.spikes(&spikes)?.clone();
    assert!(
        reference.steps.len() > 500,
        "{} spikes",
        reference.steps.len()
    );
    let (records, bits) = (
        cpu.plan().synapse_count(),
        cpu.plan().syn_format.record_bits,
    );
    let whole = records.div_ceil(64) * 64;
    assert!(
        whole > records,
        "the count should not be a multiple of 64 here"
    );
    // (records per part, parts): one part with room to spare, one exactly as long as the
    // records rounded up to a block, two parts with the last block alone in the second.
    for (per_part, parts) in [(whole + 64, 1), (whole, 1), (whole - 64, 2)] {
        let cap = cap_for(per_part, bits);
        assert_eq!(records_per_part(cap, bits), per_part);
        let mut capped = opts.clone();
        capped.synapse_chunk_bytes = Some(cap);
        let mut gpu = Simulator::new(&net, BackendChoice::Gpu(capped))?;
        // record_state, neuron_update, one propagation per part.
        assert_eq!(
            gpu.dispatches_per_step(),
            2 + parts,
            "{per_part} records a part"
        );
        gpu.run_steps(steps)?;
        assert_same_spikes(
            &format!("{per_part} records a part against the CPU twin"),
            &reference,
            gpu.spikes(&spikes)?,
        );
    }
    Ok(())
}
