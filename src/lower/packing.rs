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
/// synapse arrays can be split into chunks there, and a record's first word is found from its
/// block of 64 without multiplying its index by its width (see [`SynapseFormat::record_start`]).
pub const RECORD_ALIGNMENT: u64 = 64;
/// Most bytes of one part of the record array that a kernel binds (the largest binding a
/// Vulkan adapter reports is 4 GiB - 1). Word indices within a part then stay below 2^30, so
/// the kernel's u32 arithmetic in [`SynapseFormat::record_start`] cannot overflow.
pub const MAX_PART_BYTES: u64 = 1 << 32;

/// How many records of `record_bits` bits one part holds when it may take `max_part_bytes`
/// (a multiple of `RECORD_ALIGNMENT`, so parts start at word boundaries; the part also holds
/// the word after its last record, which decoding may read).
pub fn records_per_part(max_part_bytes: u64, record_bits: u32) -> u64 {
    let words = (max_part_bytes.min(MAX_PART_BYTES) / 4).saturating_sub(1);
    (words * 32 / record_bits as u64 / RECORD_ALIGNMENT * RECORD_ALIGNMENT).max(RECORD_ALIGNMENT)
}

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

    /// Where record `r` of a part starts, as (word, bit) from the part's first word, in u32
    /// arithmetic exactly as shaders/propagate.wgsl computes it: the record's block of
    /// `RECORD_ALIGNMENT` records (each block is `2 * record_bits` words) and its place in the
    /// block. Its bit offset, `r * record_bits`, passes 2^32 at 512 MiB of records; the word
    /// index stays below 2^30 in any part of at most `MAX_PART_BYTES`.
    pub fn record_start(&self, r: u32) -> (u32, u32) {
        const BLOCK: u32 = RECORD_ALIGNMENT as u32;
        let words_per_block = BLOCK * self.record_bits / 32;
        let within = (r % BLOCK) * self.record_bits;
        ((r / BLOCK) * words_per_block + within / 32, within % 32)
    }

    /// Reads record `r` of a part whose first word is `words[0]`: (target, delay, weight). The
    /// propagation kernel's decoding written out in Rust: [`SynapseFormat::record_start`], then
    /// each field from where the one before it ended; its tests show that the kernel's u32
    /// addressing reads every record of a part as [`SynapseFormat::decode`] does (the CPU twin
    /// itself reads through [`SynapseFormat::decode_window`]).
    pub fn decode_in_part(&self, words: &[u32], r: u32) -> (u32, u32, i32) {
        let mut at = self.record_start(r);
        let target = next_field(words, &mut at, self.target_bits);
        let delay = next_field(words, &mut at, self.delay_bits);
        let raw = next_field(words, &mut at, self.weight_bits);
        let shift = 32 - self.weight_bits;
        (target, delay, ((raw << shift) as i32) >> shift)
    }

    /// Reads record `index` of the whole array (the CPU twin's reader in propagation): the same
    /// (target, delay, weight) as [`SynapseFormat::decode`], from one 64-bit window. Records
    /// are 48 or 64 bits and start on a 16-bit boundary, so a record always lies within the two
    /// words from the one holding its first bit.
    #[inline]
    pub fn decode_window(&self, words: &[u32], index: u64) -> (u32, u32, i32) {
        let off = index * self.record_bits as u64;
        let w = (off >> 5) as usize;
        let window = (words[w] as u64 | (words[w + 1] as u64) << 32) >> (off & 31);
        let field = |from: u32, len: u32| ((window >> from) as u32) & (u32::MAX >> (32 - len));
        let target = field(0, self.target_bits);
        let delay = field(self.target_bits, self.delay_bits);
        let raw = field(self.target_bits + self.delay_bits, self.weight_bits);
        let shift = 32 - self.weight_bits;
        (target, delay, ((raw << shift) as i32) >> shift)
    }

    /// Reads record `index` of the whole array from its bit offset in u64 (the host's reader:
    /// lesions, tests): (target, delay, weight), as [`SynapseFormat::decode_in_part`] reads it.
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

/// The `len`-bit field at (word, bit) `at`, which then moves past it. The twin of
/// `next_field` in shaders/propagate.wgsl.
fn next_field(words: &[u32], at: &mut (u32, u32), len: u32) -> u32 {
    let (w, s) = *at;
    let value = read_bits(&words[w as usize..], s as u64, len);
    let end = s + len;
    *at = (w + end / 32, end % 32);
    value
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
    fn the_window_decoder_reads_what_the_field_decoder_reads() {
        // Both record widths, fields of every width, records at every 16-bit offset.
        for (n, delay) in [(77_169, 60), (100, 1), (3_000_000_000, 900), (2, 255)] {
            let f = SynapseFormat::for_model(n, delay).unwrap();
            let records = 300u64;
            let mut words = vec![0u32; f.words_for(records) as usize];
            for j in 0..records {
                let target = (j as u32).wrapping_mul(2_654_435_761) % n.max(1);
                let w = ((j as i64 * 7919) % f.max_weight_q() - f.max_weight_q() / 2) as i32;
                f.encode(&mut words, j, target, (j as u32 * 13) % (delay + 1), w);
            }
            for j in 0..records {
                assert_eq!(
                    f.decode_window(&words, j),
                    f.decode(&words, j),
                    "{f:?} record {j}"
                );
            }
        }
    }

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
    fn a_part_is_read_as_the_whole_array_is() {
        for f in [
            SynapseFormat::for_model(77_169, 60).unwrap(),
            SynapseFormat::for_model(1 << 24, 1000).unwrap(),
        ] {
            let n = 300u64;
            let mut words = vec![0u32; f.words_for(n) as usize];
            for k in 0..n {
                f.encode(
                    &mut words,
                    k,
                    (k * 31 % 1000) as u32,
                    (k % 50) as u32,
                    k as i32 - 150,
                );
            }
            // A part starting at record 128 (a multiple of RECORD_ALIGNMENT).
            let first_word = (128 * f.record_bits as u64 / 32) as usize;
            for k in 128..n {
                let r = (k - 128) as u32;
                assert_eq!(
                    f.decode_in_part(&words[first_word..], r),
                    f.decode(&words, k),
                    "record {k}"
                );
            }
        }
    }

    /// The kernel's u32 addressing, at record counts whose bit offsets straddle 2^32 and up
    /// to the last record of the largest part, equals the bit offset computed in u64: a part
    /// may hold up to `MAX_PART_BYTES`, not 512 MiB. (Arithmetic only: no such array is made.)
    #[test]
    fn record_addresses_are_exact_past_two_to_the_32_bits() {
        for f in [
            SynapseFormat::for_model(77_169, 60).unwrap(),
            SynapseFormat::for_model(1 << 24, 1000).unwrap(),
        ] {
            let bits = f.record_bits as u64;
            let last = records_per_part(MAX_PART_BYTES, f.record_bits) - 1;
            let straddle = (1u64 << 32) / bits;
            let around = |c: u64| c.saturating_sub(200)..(c + 200).min(last + 1);
            for r in around(straddle).chain(around(last)).chain(0..200) {
                let off = r * bits;
                let (w, b) = f.record_start(r as u32);
                assert_eq!((w as u64, b as u64), (off / 32, off % 32), "record {r}");
                // The part's last word is inside it.
                assert!((w as u64 + 2) * 4 <= MAX_PART_BYTES, "record {r}");
            }
            assert!(straddle < last, "a part holds records past 2^32 bits");
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
