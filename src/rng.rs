//! Counter-based randomness.
//!
//! Every random draw is a pure function of (seed, object key, element index): the same seed builds
//! the same network however the user groups projections or orders the building, and the GPU can
//! draw Poisson input per (neuron, step) without any state. Host-side draws use streams keyed by
//! such a triple: xoshiro256++ generators seeded from it by SplitMix64 mixing, fast enough
//! (~1 ns a draw) to draw the microcircuit's 3e8 synapses in seconds. Per-step draws on the GPU
//! use `hash3`, mirrored bit for bit in `shaders/shared/rng.wgsl`.

use rand::SeedableRng;
pub use rand_xoshiro::Xoshiro256PlusPlus as StreamRng;

/// A 32-bit integer mixer with low bias (Wellons' "lowbias32"). A bijection on u32, so distinct
/// counters never collide for a fixed key.
#[inline]
pub fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// Hash of a key and two counters; the WGSL twin is `hash3` in `shaders/shared/rng.wgsl`.
#[inline]
pub fn hash3(key: u32, a: u32, b: u32) -> u32 {
    let h = mix32(key ^ 0x9e37_79b9);
    let h = mix32(h ^ a);
    mix32(h ^ b)
}

/// SplitMix64 finaliser, used to derive stream seeds from 64-bit keys.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// An independent random stream for element `index` of the object identified by `key`.
pub fn stream(seed: u64, key: u64, index: u64) -> StreamRng {
    let a = mix64(seed ^ mix64(key));
    let b = mix64(a ^ mix64(index.wrapping_add(0x632b_e59b_d9b4_e019)));
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..16].copy_from_slice(&b.to_le_bytes());
    bytes[16..24].copy_from_slice(&mix64(b).to_le_bytes());
    bytes[24..].copy_from_slice(&mix64(a ^ b).to_le_bytes());
    StreamRng::from_seed(bytes)
}

/// A deterministic FNV-1a hasher: object keys are hashes of their content, stable across runs,
/// platforms and Rust versions (unlike `DefaultHasher`).
#[derive(Clone, Copy, Debug)]
pub struct KeyHasher(u64);

impl Default for KeyHasher {
    fn default() -> Self {
        KeyHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl KeyHasher {
    pub fn bytes(mut self, data: &[u8]) -> Self {
        for &b in data {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }
    pub fn str(self, s: &str) -> Self {
        self.u64(s.len() as u64).bytes(s.as_bytes())
    }
    pub fn u64(self, x: u64) -> Self {
        self.bytes(&x.to_le_bytes())
    }
    pub fn f64(self, x: f64) -> Self {
        self.u64(x.to_bits())
    }
    pub fn finish(self) -> u64 {
        mix64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_pure_functions_of_their_key() {
        let a: Vec<u32> = stream(1, 2, 3).random_iter().take(4).collect();
        let b: Vec<u32> = stream(1, 2, 3).random_iter().take(4).collect();
        let c: Vec<u32> = stream(1, 2, 4).random_iter().take(4).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn hash3_is_roughly_uniform() {
        let n = 100_000u32;
        let mean = (0..n)
            .map(|i| hash3(5, 9, i) as f64 / 4294967296.0)
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
    }
}
