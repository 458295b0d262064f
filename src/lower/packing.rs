//! Bit-packed synapse records: target, delay and weight of a synapse in 48 bits (64 when the
//! fields need it), so the full Potjans-Diesmann microcircuit (3e8 synapses) takes 6 bytes per
//! synapse on the device. Records are laid out back to back in a u32 array, little end first;
//! `read_bits` in shaders/propagate.wgsl decodes them exactly as [`SynapseFormat::decode`] does.

use crate::error::{Error, Result};

/// The widths of the fields of a record. From the least significant bit: target, delay, weight
/// (two's complement).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynapseFormat {
    pub record_bits: u32,
    pub target_bits: u32,
    pub delay_bits: u32,
    pub weight_bits: u32,
}

/// Fewest weight bits accepted: a step of 2^-19 of the largest weight into a channel.
const MIN_WEIGHT_BITS: u32 = 20;
/// Records start at word boundaries every this many records (48 * 64 bits = 96 words), so the
/// synapse arrays can be split into chunks there.
pub const RECORD_ALIGNMENT: u64 = 64;

fn bits_for(max_value: u64) -> u32 {
    (64 - max_value.leading_zeros()).max(1)
}

impl SynapseFormat {
    /// The narrowest format for targets below `n_neurons` and delays up to `max_delay` steps.
    pub fn for_model(n_neurons: u32, max_delay: u32) -> Result<SynapseFormat> {
        let target_bits = bits_for(n_neurons.saturating_sub(1) as u64);
        let delay_bits = bits_for(max_delay as u64);
        for record_bits in [48, 64] {
            if target_bits + delay_bits + MIN_WEIGHT_BITS <= record_bits {
                let weight_bits = (record_bits - target_bits - delay_bits).min(32);
                return Ok(SynapseFormat {
                    record_bits,
                    target_bits,
                    delay_bits,
                    weight_bits,
                });
            }
        }
        Err(Error::Build(format!(
            "{n_neurons} neurons ({target_bits} bits) and delays up to {max_delay} steps ({delay_bits} bits) leave fewer than {MIN_WEIGHT_BITS} bits for weights in a 64-bit synapse record; shorten the longest delay or use a larger dt"
        )))
    }

    /// Largest |weight| a record holds, in fixed-point units.
    pub fn max_weight_q(&self) -> i64 {
        (1i64 << (self.weight_bits - 1)) - 1
    }

    /// u32 words for `records` records, plus one so that a record's second word always exists.
    pub fn words_for(&self, records: u64) -> u64 {
        (records * self.record_bits as u64).div_ceil(32) + 1
    }

    /// Writes record `index`. The bits it covers must be zero.
    pub fn encode(&self, words: &mut [u32], index: u64, target: u32, delay: u32, weight_q: i32) {
        self.encode_at(
            words,
            index * self.record_bits as u64,
            target,
            delay,
            weight_q,
        );
    }

    /// Writes a record at bit offset `off`. The bits it covers must be zero.
    pub fn encode_at(&self, words: &mut [u32], off: u64, target: u32, delay: u32, weight_q: i32) {
        let mask = |bits: u32| {
            if bits >= 32 {
                u32::MAX
            } else {
                (1u32 << bits) - 1
            }
        };
        let (tb, db, wb) = (self.target_bits, self.delay_bits, self.weight_bits);
        write_bits(words, off, tb, target & mask(tb));
        write_bits(words, off + tb as u64, db, delay & mask(db));
        write_bits(
            words,
            off + (tb + db) as u64,
            wb,
            weight_q as u32 & mask(wb),
        );
    }

    /// Reads record `index` of a chunk starting at record 0 of `words`: (target, delay, weight).
    /// The twin of `decode` in shaders/propagate.wgsl.
    pub fn decode(&self, words: &[u32], index: u64) -> (u32, u32, i32) {
        let off = index * self.record_bits as u64;
        let target = read_bits(words, off, self.target_bits);
        let delay = read_bits(words, off + self.target_bits as u64, self.delay_bits);
        let raw = read_bits(
            words,
            off + (self.target_bits + self.delay_bits) as u64,
            self.weight_bits,
        );
        let shift = 32 - self.weight_bits;
        let weight = ((raw << shift) as i32) >> shift;
        (target, delay, weight)
    }
}

impl SynapseFormat {
    /// The bits (from the start of the record array) of record `index`'s weight field: clearing
    /// them sets the weight to 0, which delivers nothing.
    pub fn weight_field(&self, index: u64) -> std::ops::Range<u64> {
        let start = index * self.record_bits as u64 + (self.target_bits + self.delay_bits) as u64;
        start..start + self.weight_bits as u64
    }

    /// The words (first, last) holding record `index`.
    pub fn words_of(&self, index: u64) -> (u64, u64) {
        let start = index * self.record_bits as u64;
        (start / 32, (start + self.record_bits as u64 - 1) / 32)
    }
}

/// Clears `bits` (counted from the start of the record array) in `words`, a copy of the words
/// from word `first_word` on; bits outside it are left alone.
pub fn clear_bits(words: &mut [u32], first_word: u64, bits: std::ops::Range<u64>) {
    let lo = bits.start.max(first_word * 32);
    let hi = bits.end.min((first_word + words.len() as u64) * 32);
    for b in lo..hi {
        words[(b / 32 - first_word) as usize] &= !(1u32 << (b % 32));
    }
}

/// ORs the `len`-bit `value` into the bits from `off`, touching the next word only when the
/// field crosses into it.
fn write_bits(words: &mut [u32], off: u64, len: u32, value: u32) {
    let w = (off / 32) as usize;
    let s = (off % 32) as u32;
    words[w] |= value << s;
    if s + len > 32 {
        words[w + 1] |= ((value as u64) >> (32 - s)) as u32;
    }
}

/// `len` bits from bit `off`, as the kernel reads them: two words, shifted and masked.
fn read_bits(words: &[u32], off: u64, len: u32) -> u32 {
    let w = (off >> 5) as usize;
    let s = (off & 31) as u32;
    let lo = words[w] >> s;
    let hi = if s != 0 { words[w + 1] << (32 - s) } else { 0 };
    let mask = if len >= 32 {
        u32::MAX
    } else {
        (1u32 << len) - 1
    };
    (lo | hi) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_at_every_alignment() {
        let f = SynapseFormat::for_model(77_169, 60).unwrap();
        assert_eq!(f.record_bits, 48);
        assert_eq!((f.target_bits, f.delay_bits, f.weight_bits), (17, 6, 25));
        let n = 200u64;
        let mut words = vec![0u32; f.words_for(n) as usize];
        let rec = |k: u64| {
            (
                (k * 7919 % 77_169) as u32,
                (k % 61) as u32,
                (k as i32 - 100) * 40_000,
            )
        };
        for k in 0..n {
            let (t, d, w) = rec(k);
            f.encode(&mut words, k, t, d, w);
        }
        for k in 0..n {
            assert_eq!(f.decode(&words, k), rec(k), "record {k}");
        }
    }

    #[test]
    fn wide_models_fall_back_to_64_bit_records() {
        let f = SynapseFormat::for_model(1 << 24, 1000).unwrap();
        assert_eq!(f.record_bits, 64);
        assert_eq!(f.weight_bits, 30);
        let mut words = vec![0u32; f.words_for(3) as usize];
        f.encode(&mut words, 1, (1 << 24) - 1, 1000, -(1 << 28));
        assert_eq!(f.decode(&words, 1), ((1 << 24) - 1, 1000, -(1 << 28)));
        assert!(SynapseFormat::for_model(u32::MAX, 1 << 20).is_err());
    }
}
