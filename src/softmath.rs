//! Deterministic exp, expm1, ln, ln1p, reciprocal and division, twinned by
//! `shaders/shared/softmath.wgsl`.
//!
//! GPU `exp`, `log` and even `/` are not correctly rounded, and each adapter rounds them its own
//! way, so a kernel that used them could not agree bit for bit with its CPU twin. These versions
//! are built only from f32 `+`, `-`, `*` (each correctly rounded by IEEE 754 on every backend),
//! comparisons, `floor`, and integer operations on the bits. The WGSL twin performs the same
//! operations in the same order, each product and sum passed through `rn` so no driver fuses them,
//! so the two give the same bits for every input.
//!
//! Conventions, shared by the WGSL twin:
//! - Subnormal inputs are read as zero of the same sign (GPUs may flush them), except by `ln`,
//!   which normalises them with integer operations. Results that would be subnormal are flushed
//!   to zero of the same sign.
//! - Every NaN result is the quiet NaN `0x7fc0_0000`.
//! - Special inputs (NaN, infinities, zeros, out-of-range) are recognised from their bits, never
//!   by float comparisons (drivers may assume no NaN or infinity), and replaced by a harmless
//!   value before the arithmetic, whose result is then overridden.
//! - Constants are given by their bits, so both languages use the same f32.

/// log2(e).
const LOG2E: f32 = f32::from_bits(0x3fb8_aa3b);
/// ln 2 split in two (Cody-Waite): `LN2_HI` has 9 significant bits, so `k * LN2_HI` is exact for
/// every `k` used here; `LN2_HI + LN2_LO` = ln 2 to about 2^-33.
const LN2_HI: f32 = f32::from_bits(0x3f31_8000); // 0.693359375
const LN2_LO: f32 = f32::from_bits(0xb95e_8083); // -2.12194440e-4

/// 1/n! for n = 2..=9: Taylor coefficients of expm1, enough for |r| <= 0.5.
const E2: f32 = f32::from_bits(0x3f00_0000);
const E3: f32 = f32::from_bits(0x3e2a_aaab);
const E4: f32 = f32::from_bits(0x3d2a_aaab);
const E5: f32 = f32::from_bits(0x3c08_8889);
const E6: f32 = f32::from_bits(0x3ab6_0b61);
const E7: f32 = f32::from_bits(0x3950_0d01);
const E8: f32 = f32::from_bits(0x37d0_0d01);
const E9: f32 = f32::from_bits(0x3638_ef1d);

/// Minimax coefficients of (ln(1+f) - f + f^2/2) / f^3 on [sqrt(1/2)-1, sqrt(2)-1] (Cephes
/// `logf`), highest degree first.
const L9: f32 = f32::from_bits(0x3d90_21bb); // 7.0376836292e-2
const L8: f32 = f32::from_bits(0xbdeb_d1b8); // -1.1514610310e-1
const L7: f32 = f32::from_bits(0x3def_251a); // 1.1676998740e-1
const L6: f32 = f32::from_bits(0xbdfe_5d4f); // -1.2420140846e-1
const L5: f32 = f32::from_bits(0x3e11_e9bf); // 1.4249322787e-1
const L4: f32 = f32::from_bits(0xbe2a_ae50); // -1.6668057665e-1
const L3: f32 = f32::from_bits(0x3e4c_ceac); // 2.0000714765e-1
const L2: f32 = f32::from_bits(0xbe7f_fffc); // -2.4999993993e-1
const L1: f32 = f32::from_bits(0x3eaa_aaaa); // 3.3333331174e-1

/// Bits of the largest x with exp(x) finite: 88.7228317.
const EXP_MAX_BITS: i32 = 0x42b1_7217;
/// Bits of -87.5: below it exp(x) < 2^-126 is flushed to zero.
const EXP_MIN_BITS: u32 = 0xc2af_0000;
/// Bits of -30.0: below it expm1(x) rounds to -1.
const EXPM1_MIN_BITS: u32 = 0xc1f0_0000;
/// Bits of 0.5: below it in magnitude expm1 uses its Taylor polynomial directly.
const EXPM1_DIRECT_BITS: u32 = 0x3f00_0000;
/// Bits of sqrt(2) (rounded down): mantissas from it up are halved, into [sqrt(1/2), sqrt(2)).
const SQRT2_BITS: u32 = 0x3fb5_04f3;
/// Seed of the reciprocal (Lomont): bits(1/m) ~= RECIP_MAGIC - bits(m), within 12%.
const RECIP_MAGIC: u32 = 0x7ef3_11c3;

const SIGN: u32 = 0x8000_0000;
const ABS: u32 = 0x7fff_ffff;
const INF_BITS: u32 = 0x7f80_0000;
const NAN_BITS: u32 = 0x7fc0_0000;
const ONE_BITS: u32 = 0x3f80_0000;
const MANTISSA: u32 = 0x007f_ffff;

fn is_nan(bits: u32) -> bool {
    bits & ABS > INF_BITS
}

/// Zero or subnormal: exponent field 0.
fn is_tiny(bits: u32) -> bool {
    bits & INF_BITS == 0
}

/// `y * 2^k` by adding `k` to the exponent field: exact, flushed to signed zero below the normal
/// range and signed infinity above it. `y` is normal.
fn scale2(y: f32, k: i32) -> f32 {
    let b = y.to_bits();
    let e = ((b >> 23) & 0xff) as i32 + k;
    let sign = b & SIGN;
    if e <= 0 {
        f32::from_bits(sign)
    } else if e >= 255 {
        f32::from_bits(sign | INF_BITS)
    } else {
        f32::from_bits((b & (SIGN | MANTISSA)) | ((e as u32) << 23))
    }
}

/// expm1(r) = r + r^2 * P(r) for |r| <= 0.5: Taylor to r^9 (truncation under 1e-9 relative),
/// Horner.
fn expm1_poly(r: f32) -> f32 {
    let mut p = E9;
    p = E8 + r * p;
    p = E7 + r * p;
    p = E6 + r * p;
    p = E5 + r * p;
    p = E4 + r * p;
    p = E3 + r * p;
    p = E2 + r * p;
    let r2 = r * r;
    let q = r2 * p;
    r + q
}

/// Range reduction: `x = k ln2 + r` with `k = floor(x log2e + 0.5)`, |r| <= ln2/2 (to rounding).
fn reduce(x: f32) -> (f32, f32) {
    let k = (x * LOG2E + 0.5).floor();
    let r1 = x - k * LN2_HI;
    let r = r1 - k * LN2_LO;
    (k, r)
}

/// e^x within 1 ulp (checked over every f32 input; the tests assert 4), deterministic across CPU
/// and GPU (the GPU's `exp` is not). Overflows to +inf for x > 88.7228317; results below 2^-126
/// (for x < -87.34) flush to 0. Subnormal x gives 1; NaN gives NaN.
pub fn exp(x: f32) -> f32 {
    let bits = x.to_bits();
    let nan = is_nan(bits);
    let over = bits as i32 > EXP_MAX_BITS;
    let under = bits > EXP_MIN_BITS;
    let xs = if nan || over || under || is_tiny(bits) {
        0.0
    } else {
        x
    };
    let (k, r) = reduce(xs);
    let y = 1.0 + expm1_poly(r);
    let mut out = scale2(y, k as i32);
    if under {
        out = 0.0;
    }
    if over {
        out = f32::from_bits(INF_BITS);
    }
    if nan {
        out = f32::from_bits(NAN_BITS);
    }
    out
}

/// e^x - 1 within 1 ulp (checked over every f32 input), also for tiny |x| where `exp(x) - 1` would
/// lose every digit: for |x| < 0.5 a polynomial in x directly, else `2^k (expm1(r) + (1 - 2^-k))`
/// after the reduction of `exp`. Deterministic across CPU and GPU. Overflows to +inf for
/// x > 88.7228317; -1 for x < -30; subnormal x gives zero of its sign; NaN gives NaN.
pub fn expm1(x: f32) -> f32 {
    let bits = x.to_bits();
    let nan = is_nan(bits);
    let over = bits as i32 > EXP_MAX_BITS;
    let under = bits > EXPM1_MIN_BITS;
    let tiny = is_tiny(bits);
    let xs = if nan || over || under || tiny { 0.0 } else { x };
    let mut out = if xs.to_bits() & ABS < EXPM1_DIRECT_BITS {
        expm1_poly(xs)
    } else {
        let (k, r) = reduce(xs);
        let ki = k as i32;
        // 2^-k, k capped at 30: from k = 25 on, 1 - 2^-k rounds to 1 anyway.
        let t = f32::from_bits(((127 - ki.min(30)) as u32) << 23);
        let c = 1.0 - t;
        let s = expm1_poly(r) + c;
        scale2(s, ki)
    };
    if tiny {
        out = f32::from_bits(bits & SIGN);
    }
    if under {
        out = -1.0;
    }
    if over {
        out = f32::from_bits(INF_BITS);
    }
    if nan {
        out = f32::from_bits(NAN_BITS);
    }
    out
}

/// ln(1+f) + e ln2 for f in [sqrt(1/2)-1, sqrt(2)-1] (Cephes `logf`, no division).
fn ln_core(e: f32, f: f32) -> f32 {
    let z = f * f;
    let mut p = L9;
    p = p * f + L8;
    p = p * f + L7;
    p = p * f + L6;
    p = p * f + L5;
    p = p * f + L4;
    p = p * f + L3;
    p = p * f + L2;
    p = p * f + L1;
    let mut y = p * f;
    y *= z;
    y += e * LN2_LO;
    y -= 0.5 * z;
    let r = f + y;
    r + e * LN2_HI
}

/// Splits the bits of a positive normal or subnormal float into `e` and a mantissa `m` in
/// [sqrt(1/2), sqrt(2)), `x = m 2^e`; returns (e, bits of m).
fn split_log(bits: u32) -> (i32, u32) {
    let mut field = ((bits >> 23) & 0xff) as i32;
    let mut mant = bits & MANTISSA;
    if field == 0 && mant != 0 {
        // Subnormal: shift the leading 1 up to the implicit bit.
        let shift = mant.leading_zeros() - 8;
        mant = (mant << shift) & MANTISSA;
        field = 1 - shift as i32;
    }
    let mut e = field - 127;
    let mut m = mant | ONE_BITS;
    if m >= SQRT2_BITS {
        m -= 0x0080_0000;
        e += 1;
    }
    (e, m)
}

/// Natural logarithm within 1 ulp (checked over every f32 input), deterministic across CPU and GPU
/// (the GPU's `log` is not). The exponent and mantissa come from the bits (subnormals included),
/// the mantissa is brought into [sqrt(1/2), sqrt(2)) and a polynomial in m - 1 added to e ln2.
/// ln(+-0) = -inf, ln(+inf) = +inf, negative or NaN x gives NaN.
pub fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    let nan = is_nan(bits) || (bits > SIGN);
    let zero = bits & ABS == 0;
    let inf = bits == INF_BITS;
    let xb = if nan || zero || inf { ONE_BITS } else { bits };
    let (e, m) = split_log(xb);
    let f = f32::from_bits(m) - 1.0;
    let mut out = ln_core(e as f32, f);
    if zero {
        out = f32::from_bits(SIGN | INF_BITS);
    }
    if inf {
        out = f32::from_bits(INF_BITS);
    }
    if nan {
        out = f32::from_bits(NAN_BITS);
    }
    out
}

/// ln(1+x) within 1 ulp (checked over every f32 input), also for tiny |x| where `ln(1 + x)` would
/// lose every digit: with 1 + x ~= m 2^e, the polynomial of `ln` gets f = m - 1 computed from x
/// itself (f = x when e = 0). Deterministic across CPU and GPU. ln1p(-1) = -inf, ln1p(+inf) = +inf,
/// x < -1 or NaN gives NaN, subnormal x gives zero of its sign.
pub fn ln1p(x: f32) -> f32 {
    let bits = x.to_bits();
    let nan = is_nan(bits) || bits > 0xbf80_0000;
    let m_one = bits == 0xbf80_0000;
    let inf = bits == INF_BITS;
    let tiny = is_tiny(bits);
    let xs = if nan || m_one || inf || tiny { 0.0 } else { x };
    let u = 1.0 + xs;
    let (e, m) = split_log(u.to_bits());
    let f = if e >= 25 {
        // 1 + x = x to within 2^-25: the mantissa of u is all there is.
        f32::from_bits(m) - 1.0
    } else {
        // f = (1 + x) 2^-e - 1 = (2^-e - 1) + x 2^-e: both terms exact, one rounding.
        let s = f32::from_bits(((127 - e) as u32) << 23);
        let a = s - 1.0;
        a + xs * s
    };
    let mut out = ln_core(e as f32, f);
    if tiny {
        out = f32::from_bits(bits & SIGN);
    }
    if m_one {
        out = f32::from_bits(SIGN | INF_BITS);
    }
    if inf {
        out = f32::from_bits(INF_BITS);
    }
    if nan {
        out = f32::from_bits(NAN_BITS);
    }
    out
}

/// 1/m for m in [1, 2): bit-trick seed, then four Newton steps y += y (1 - m y).
fn recip_mantissa(m: f32) -> f32 {
    let mut y = f32::from_bits(RECIP_MAGIC - m.to_bits());
    for _ in 0..4 {
        let t = m * y;
        let d = 1.0 - t;
        let c = y * d;
        y += c;
    }
    y
}

/// Mantissa of a positive normal float in [1, 2), and its exponent field.
fn split_mantissa(abs_bits: u32) -> (f32, i32) {
    (
        f32::from_bits((abs_bits & MANTISSA) | ONE_BITS),
        (abs_bits >> 23) as i32,
    )
}

/// 1/x within 1 ulp (checked over every f32 input), deterministic across CPU and GPU (the GPU's
/// `1.0 / x` is not): the reciprocal of the mantissa by Newton's method from a bit-trick seed, the
/// exponent negated on the bits. recip(+-0) = +-inf (subnormals too), recip(+-inf) = +-0, NaN gives
/// NaN; results below 2^-126 (|x| > 2^126) flush to zero of the sign of x.
pub fn recip(x: f32) -> f32 {
    let bits = x.to_bits();
    let sign = bits & SIGN;
    let mag = bits & ABS;
    let nan = is_nan(bits);
    let tiny = is_tiny(bits);
    let inf = mag == INF_BITS;
    let xb = if nan || tiny || inf { ONE_BITS } else { mag };
    let (m, field) = split_mantissa(xb);
    let y = recip_mantissa(m);
    let mut out = f32::from_bits(scale2(y, 127 - field).to_bits() | sign);
    if tiny {
        out = f32::from_bits(sign | INF_BITS);
    }
    if inf {
        out = f32::from_bits(sign);
    }
    if nan {
        out = f32::from_bits(NAN_BITS);
    }
    out
}

/// a / b within 1 ulp (over 4e8 random pairs), deterministic across CPU and GPU (the GPU's `/` is
/// not): on the mantissas, q = ma recip(mb), then one residual step q += (ma - q mb) recip(mb); the
/// exponents are subtracted on the bits, so no intermediate overflows or underflows. IEEE special
/// cases (x/0 = +-inf, 0/0 = inf/inf = NaN, x/inf = +-0), subnormal a or b read as zero, results
/// below 2^-126 flushed to signed zero.
pub fn div(a: f32, b: f32) -> f32 {
    let ab = a.to_bits();
    let bb = b.to_bits();
    let sign = (ab ^ bb) & SIGN;
    let (amag, bmag) = (ab & ABS, bb & ABS);
    let (a_zero, b_zero) = (is_tiny(ab), is_tiny(bb));
    let (a_inf, b_inf) = (amag == INF_BITS, bmag == INF_BITS);
    let nan = is_nan(ab) || is_nan(bb) || (a_zero && b_zero) || (a_inf && b_inf);
    let special = nan || a_zero || b_zero || a_inf || b_inf;
    let (ma, fa) = split_mantissa(if special { ONE_BITS } else { amag });
    let (mb, fb) = split_mantissa(if special { ONE_BITS } else { bmag });
    let yb = recip_mantissa(mb);
    let q = ma * yb;
    let p = q * mb;
    let r = ma - p;
    let c = r * yb;
    let q2 = q + c;
    let mut out = f32::from_bits(scale2(q2, fa - fb).to_bits() | sign);
    if a_zero || b_inf {
        out = f32::from_bits(sign);
    }
    if a_inf || b_zero {
        out = f32::from_bits(sign | INF_BITS);
    }
    if nan {
        out = f32::from_bits(NAN_BITS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN_NORMAL: f32 = f32::MIN_POSITIVE;

    /// SplitMix-style generator: deterministic inputs without a dependency.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        /// Uniform in [lo, hi).
        fn uniform(&mut self, lo: f64, hi: f64) -> f32 {
            let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
            (lo + (hi - lo) * u) as f32
        }
        /// Random bits of a float with |x| in [2^lo, 2^hi), random sign if `signed`.
        fn log_uniform(&mut self, lo: i32, hi: i32, signed: bool) -> f32 {
            let r = self.next();
            let e = lo + (r % (hi - lo) as u64) as i32;
            let mant = (r >> 32) as u32 & MANTISSA;
            let sign = if signed { ((r >> 63) as u32) << 31 } else { 0 };
            f32::from_bits(sign | (((e + 127) as u32) << 23) | mant)
        }
    }

    fn edges() -> Vec<f32> {
        let mut v = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            2.0,
            MIN_NORMAL,
            -MIN_NORMAL,
            f32::from_bits(1),
            f32::from_bits(0x8000_0001),
            f32::from_bits(0x007f_ffff),
            1e-30,
            -1e-30,
            1e-7,
            -1e-7,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7f80_0001),
            88.72283,
            88.72284,
            -87.3,
            -87.34,
            -87.5,
            -88.0,
            -30.0,
            -17.0,
            0.9999999,
            1.0000001,
            f32::from_bits(0x3fb5_04f3),
            f32::from_bits(0x3fb5_04f2),
            f32::from_bits(0xbf7f_ffff),
            -0.9999,
            2f32.powi(126),
            2f32.powi(127),
            2f32.powi(-126),
        ];
        for k in -126..=127 {
            v.push(2f32.powi(k));
        }
        v
    }

    /// Distance in representable floats (0 and -0 are one apart).
    fn ulps(a: f32, b: f32) -> u64 {
        let key = |x: f32| {
            let b = x.to_bits() as i64;
            if b < 0x8000_0000 {
                b
            } else {
                0x7fff_ffff - b
            }
        };
        (key(a) - key(b)).unsigned_abs()
    }

    /// The f64 reference rounded to f32, subnormal results flushed to zero of their sign.
    fn flushed(r: f64) -> f32 {
        let f = r as f32;
        if f != 0.0 && f.abs() < MIN_NORMAL {
            0.0f32.copysign(f)
        } else {
            f
        }
    }

    /// Max ulp error of `f` against `reference` over `inputs`; NaN must match NaN (and be the
    /// canonical quiet NaN). Where the unflushed reference lies within 4 ulp of the normal range
    /// a result of 0 or +-2^-126 is accepted, as rounding decides which side of the flush it lands.
    fn max_ulps(
        name: &str,
        inputs: &[f32],
        f: impl Fn(f32) -> f32,
        reference: impl Fn(f64) -> f64,
    ) -> u64 {
        let mut worst = (0u64, 0.0f32);
        for &x in inputs {
            let got = f(x);
            // Subnormal inputs are read as zero (except by ln, whose reference is unaffected
            // as it handles them exactly).
            let xr = if name != "ln" && x != 0.0 && x.abs() < MIN_NORMAL {
                0.0f32.copysign(x)
            } else {
                x
            };
            let r = reference(xr as f64);
            let want = flushed(r);
            if want.is_nan() {
                assert_eq!(got.to_bits(), NAN_BITS, "{name}({x:e}) = {got:e}, want NaN");
                continue;
            }
            let near_flush = (got == 0.0
                && (r as f32).abs() < MIN_NORMAL * (1.0 + 4.0 * f32::EPSILON))
                || (got.abs() == MIN_NORMAL && (r as f32).abs() < MIN_NORMAL);
            let e = if near_flush { 0 } else { ulps(got, want) };
            if want == 0.0 && got == 0.0 {
                assert_eq!(
                    got.is_sign_negative(),
                    want.is_sign_negative(),
                    "{name}({x:e}): sign of zero"
                );
            }
            if e > worst.0 {
                worst = (e, x);
            }
        }
        println!("{name}: max {} ulp (at x = {:e})", worst.0, worst.1);
        worst.0
    }

    fn sweep(gen: &mut Gen, n: usize, mut f: impl FnMut(&mut Gen) -> f32) -> Vec<f32> {
        let mut v = edges();
        v.extend((0..n).map(|_| f(gen)));
        v
    }

    const N: usize = 200_000;
    const MAX_ULP: u64 = 4;

    /// Every constant of shaders/shared/softmath.wgsl, as naga reads it, has the bits of its Rust
    /// twin.
    #[test]
    fn wgsl_constants_are_the_rust_constants() {
        use crate::wgsl::shared_source;
        let src = [
            "shared/types.wgsl",
            "shared/rounding.wgsl",
            "shared/softmath.wgsl",
        ]
        .map(|p| shared_source(p).unwrap())
        .join("\n")
            + "\n@group(0) @binding(0) var<uniform> globals: Globals;\n";
        let module = naga::front::wgsl::parse_str(&src).unwrap();
        let wgsl: std::collections::HashMap<String, u32> = module
            .constants
            .iter()
            .filter_map(|(_, c)| {
                let bits = match module.global_expressions[c.init] {
                    naga::Expression::Literal(naga::Literal::F32(v)) => v.to_bits(),
                    naga::Expression::Literal(naga::Literal::U32(v)) => v,
                    naga::Expression::Literal(naga::Literal::I32(v)) => v as u32,
                    _ => return None,
                };
                Some((c.name.clone()?, bits))
            })
            .collect();
        let rust = [
            ("SM_LOG2E", LOG2E.to_bits()),
            ("SM_LN2_HI", LN2_HI.to_bits()),
            ("SM_LN2_LO", LN2_LO.to_bits()),
            ("SM_E2", E2.to_bits()),
            ("SM_E3", E3.to_bits()),
            ("SM_E4", E4.to_bits()),
            ("SM_E5", E5.to_bits()),
            ("SM_E6", E6.to_bits()),
            ("SM_E7", E7.to_bits()),
            ("SM_E8", E8.to_bits()),
            ("SM_E9", E9.to_bits()),
            ("SM_L9", L9.to_bits()),
            ("SM_L8", L8.to_bits()),
            ("SM_L7", L7.to_bits()),
            ("SM_L6", L6.to_bits()),
            ("SM_L5", L5.to_bits()),
            ("SM_L4", L4.to_bits()),
            ("SM_L3", L3.to_bits()),
            ("SM_L2", L2.to_bits()),
            ("SM_L1", L1.to_bits()),
            ("SM_EXP_MAX_BITS", EXP_MAX_BITS as u32),
            ("SM_EXP_MIN_BITS", EXP_MIN_BITS),
            ("SM_EXPM1_MIN_BITS", EXPM1_MIN_BITS),
            ("SM_EXPM1_DIRECT_BITS", EXPM1_DIRECT_BITS),
            ("SM_SQRT2_BITS", SQRT2_BITS),
            ("SM_RECIP_MAGIC", RECIP_MAGIC),
            ("SM_SIGN", SIGN),
            ("SM_ABS", ABS),
            ("SM_INF_BITS", INF_BITS),
            ("SM_NAN_BITS", NAN_BITS),
            ("SM_ONE_BITS", ONE_BITS),
            ("SM_MANTISSA", MANTISSA),
        ];
        for (name, bits) in rust {
            let got = wgsl
                .get(name)
                .unwrap_or_else(|| panic!("{name} not in softmath.wgsl"));
            assert_eq!(*got, bits, "{name}: WGSL 0x{got:08x}, Rust 0x{bits:08x}");
        }
        let in_wgsl = wgsl.keys().filter(|k| k.starts_with("SM_")).count();
        assert_eq!(
            in_wgsl,
            rust.len(),
            "a constant of softmath.wgsl is not checked"
        );
    }

    #[test]
    fn exp_within_4_ulp() {
        let mut g = Gen(1);
        let xs = sweep(&mut g, N, |g| match g.next() % 3 {
            0 => g.uniform(-90.0, 90.0),
            1 => g.uniform(-1.0, 1.0),
            _ => g.log_uniform(-40, 7, true),
        });
        let u = max_ulps("exp", &xs, exp, f64::exp);
        assert!(u <= MAX_ULP, "exp: max {u} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f32::from_bits(0x42b1_7217)).is_finite());
        assert_eq!(exp(f32::from_bits(0x42b1_7218)), f32::INFINITY);
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
    }

    #[test]
    fn expm1_within_4_ulp_and_relative_near_zero() {
        let mut g = Gen(2);
        let xs = sweep(&mut g, N, |g| match g.next() % 3 {
            0 => g.uniform(-32.0, 90.0),
            1 => g.uniform(-1.0, 1.0),
            _ => g.log_uniform(-40, 7, true),
        });
        let u = max_ulps("expm1", &xs, expm1, f64::exp_m1);
        assert!(u <= MAX_ULP, "expm1: max {u} ulp");
        let mut rel = 0.0f64;
        for _ in 0..N {
            let x = g.log_uniform(-60, -1, true);
            let want = (x as f64).exp_m1();
            rel = rel.max(((expm1(x) as f64 - want) / want).abs());
        }
        println!("expm1: max relative error {rel:e} for |x| < 0.5");
        assert!(rel < 4.0 * f32::EPSILON as f64, "expm1 near 0: {rel:e}");
        assert_eq!(expm1(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(expm1(f32::NEG_INFINITY), -1.0);
    }

    #[test]
    fn ln_within_4_ulp() {
        let mut g = Gen(3);
        let xs = sweep(&mut g, N, |g| match g.next() % 3 {
            0 => g.log_uniform(-126, 128, false),
            1 => g.uniform(0.5, 2.0),
            _ => f32::from_bits(g.next() as u32 & MANTISSA), // subnormal
        });
        let u = max_ulps("ln", &xs, ln, f64::ln);
        assert!(u <= MAX_ULP, "ln: max {u} ulp");
        assert_eq!(ln(1.0).to_bits(), 0);
        assert_eq!(ln(0.0), f32::NEG_INFINITY);
        assert_eq!(ln(-0.0), f32::NEG_INFINITY);
        assert_eq!(ln(f32::INFINITY), f32::INFINITY);
        assert_eq!(ln(-1.0).to_bits(), NAN_BITS);
        assert_eq!(ln(f32::NEG_INFINITY).to_bits(), NAN_BITS);
    }

    #[test]
    fn ln1p_within_4_ulp_and_relative_near_zero() {
        let mut g = Gen(4);
        let xs = sweep(&mut g, N, |g| match g.next() % 4 {
            0 => g.uniform(-1.0, 1.0),
            1 => g.uniform(-1.0, 100.0),
            2 => g.log_uniform(-40, 128, false),
            _ => g.log_uniform(-40, 0, true),
        });
        let u = max_ulps("ln1p", &xs, ln1p, f64::ln_1p);
        assert!(u <= MAX_ULP, "ln1p: max {u} ulp");
        let mut rel = 0.0f64;
        for _ in 0..N {
            let x = g.log_uniform(-60, -1, true);
            let want = (x as f64).ln_1p();
            rel = rel.max(((ln1p(x) as f64 - want) / want).abs());
        }
        println!("ln1p: max relative error {rel:e} for |x| < 0.5");
        assert!(rel < 4.0 * f32::EPSILON as f64, "ln1p near 0: {rel:e}");
        assert_eq!(ln1p(-1.0), f32::NEG_INFINITY);
        assert_eq!(ln1p(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(ln1p(-2.0).to_bits(), NAN_BITS);
    }

    #[test]
    fn recip_within_4_ulp() {
        let mut g = Gen(5);
        let xs = sweep(&mut g, N, |g| match g.next() % 2 {
            0 => g.log_uniform(-126, 128, true),
            _ => g.uniform(-4.0, 4.0),
        });
        let u = max_ulps("recip", &xs, recip, |x| 1.0 / x);
        assert!(u <= MAX_ULP, "recip: max {u} ulp");
        for k in -126..=125 {
            assert_eq!(recip(2f32.powi(k)), 2f32.powi(-k), "recip(2^{k})");
        }
        assert_eq!(recip(0.0), f32::INFINITY);
        assert_eq!(recip(-0.0), f32::NEG_INFINITY);
        assert_eq!(recip(f32::NEG_INFINITY).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn div_within_4_ulp() {
        let mut g = Gen(6);
        let mut worst = (0u64, 0.0f32, 0.0f32);
        let mut edge_pairs = Vec::new();
        for &a in &edges() {
            for &b in &edges() {
                edge_pairs.push((a, b));
            }
        }
        let random = (0..N).map(|_| match g.next() % 3 {
            0 => (
                g.log_uniform(-126, 128, true),
                g.log_uniform(-126, 128, true),
            ),
            1 => (g.log_uniform(-60, 60, true), g.log_uniform(-60, 60, true)),
            _ => (g.uniform(-10.0, 10.0), g.uniform(-10.0, 10.0)),
        });
        for (a, b) in edge_pairs.into_iter().chain(random) {
            let got = div(a, b);
            let r = a as f64 / b as f64;
            let want = flushed(r);
            if want.is_nan() {
                assert_eq!(got.to_bits(), NAN_BITS, "div({a:e}, {b:e}) = {got:e}");
                continue;
            }
            // Subnormal operands are read as zero.
            let sub = |x: f32| x != 0.0 && x.abs() < MIN_NORMAL;
            if sub(a) || sub(b) {
                continue;
            }
            let e = if (got == 0.0 || got.abs() == MIN_NORMAL)
                && (r.abs() as f32) < MIN_NORMAL * (1.0 + 4.0 * f32::EPSILON)
            {
                0
            } else {
                ulps(got, want)
            };
            if e > worst.0 {
                worst = (e, a, b);
            }
        }
        println!(
            "div: max {} ulp (at {:e} / {:e})",
            worst.0, worst.1, worst.2
        );
        assert!(worst.0 <= MAX_ULP, "div: max {} ulp", worst.0);
        assert_eq!(div(6.0, 3.0), 2.0);
        assert_eq!(div(1.0, 0.0), f32::INFINITY);
        assert_eq!(div(-1.0, 0.0), f32::NEG_INFINITY);
        assert_eq!(div(0.0, 0.0).to_bits(), NAN_BITS);
        assert_eq!(div(f32::MAX, f32::MAX), 1.0);
        assert_eq!(div(f32::MAX, 0.5), f32::INFINITY);
    }
}
