// Needs `rn` (shared/rounding.wgsl) and `globals` (shared/types.wgsl) in scope.
// Deterministic exp, expm1, ln, ln1p, reciprocal and division: the twin of
// src/softmath.rs, which documents each function and the conventions.
//
// The built-in exp, log and even `/` are not correctly rounded and differ between adapters, so a
// kernel using them could not agree bit for bit with its CPU twin. These use only f32 `+`, `-`,
// `*` (correctly rounded), comparisons, floor, select and integer operations on the bits, in the
// same order as the Rust twin, each product and sum passed through `rn` so no driver fuses or
// reorders them. Special inputs are recognised from their bits (drivers may assume no NaN or
// infinity), and NaN and infinity results are built from bits XOR `globals.zero`, so that no
// compiler folds them. Float constants are exact hexadecimal literals of the f32 the Rust twin
// builds from bits (the bits are in the comments; a unit test of the twin checks each one).

const SM_LOG2E: f32 = 0x1.715476p+0f; // 0x3fb8aa3b = 1.4426950216293335
const SM_LN2_HI: f32 = 0x1.63p-1f; // 0x3f318000 = 0.693359375
const SM_LN2_LO: f32 = -0x1.bd0106p-13f; // 0xb95e8083 = -0.00021219444170128554

const SM_E2: f32 = 0x1.0p-1f; // 0x3f000000 = 0.5
const SM_E3: f32 = 0x1.555556p-3f; // 0x3e2aaaab = 0.1666666716337204
const SM_E4: f32 = 0x1.555556p-5f; // 0x3d2aaaab = 0.0416666679084301
const SM_E5: f32 = 0x1.111112p-7f; // 0x3c088889 = 0.008333333767950535
const SM_E6: f32 = 0x1.6c16c2p-10f; // 0x3ab60b61 = 0.0013888889225199819
const SM_E7: f32 = 0x1.a01a02p-13f; // 0x39500d01 = 0.00019841270113829523
const SM_E8: f32 = 0x1.a01a02p-16f; // 0x37d00d01 = 2.4801587642286904e-05
const SM_E9: f32 = 0x1.71de3ap-19f; // 0x3638ef1d = 2.7557318844628753e-06

const SM_L9: f32 = 0x1.204376p-4f; // 0x3d9021bb = 0.07037683576345444
const SM_L8: f32 = -0x1.d7a37p-4f; // 0xbdebd1b8 = -0.11514610052108765
const SM_L7: f32 = 0x1.de4a34p-4f; // 0x3def251a = 0.11676998436450958
const SM_L6: f32 = -0x1.fcba9ep-4f; // 0xbdfe5d4f = -0.12420140951871872
const SM_L5: f32 = 0x1.23d37ep-3f; // 0x3e11e9bf = 0.14249323308467865
const SM_L4: f32 = -0x1.555cap-3f; // 0xbe2aae50 = -0.16668057441711426
const SM_L3: f32 = 0x1.999d58p-3f; // 0x3e4cceac = 0.2000071406364441
const SM_L2: f32 = -0x1.fffff8p-3f; // 0xbe7ffffc = -0.24999994039535522
const SM_L1: f32 = 0x1.555554p-2f; // 0x3eaaaaaa = 0.3333333134651184

const SM_EXP_MAX_BITS: i32 = 0x42b17217i;
const SM_EXP_MIN_BITS: u32 = 0xc2af0000u;
const SM_EXPM1_MIN_BITS: u32 = 0xc1f00000u;
const SM_EXPM1_DIRECT_BITS: u32 = 0x3f000000u;
const SM_SQRT2_BITS: u32 = 0x3fb504f3u;
const SM_RECIP_MAGIC: u32 = 0x7ef311c3u;

const SM_SIGN: u32 = 0x80000000u;
const SM_ABS: u32 = 0x7fffffffu;
const SM_INF_BITS: u32 = 0x7f800000u;
const SM_NAN_BITS: u32 = 0x7fc00000u;
const SM_ONE_BITS: u32 = 0x3f800000u;
const SM_MANTISSA: u32 = 0x007fffffu;

// A float from bits the compiler cannot see: for NaN and infinity results.
fn sm_bits(b: u32) -> f32 {
    return bitcast<f32>(b ^ globals.zero);
}

fn sm_is_nan(b: u32) -> bool {
    return (b & SM_ABS) > SM_INF_BITS;
}

fn sm_is_tiny(b: u32) -> bool {
    return (b & SM_INF_BITS) == 0u;
}

fn sm_scale2(y: f32, k: i32) -> f32 {
    let b = bitcast<u32>(y);
    let e = i32((b >> 23u) & 0xffu) + k;
    let sign = b & SM_SIGN;
    if e <= 0 {
        return sm_bits(sign);
    } else if e >= 255 {
        return sm_bits(sign | SM_INF_BITS);
    }
    return bitcast<f32>((b & (SM_SIGN | SM_MANTISSA)) | (u32(e) << 23u));
}

fn sm_expm1_poly(r: f32) -> f32 {
    var p = SM_E9;
    p = rn(SM_E8 + rn(r * p));
    p = rn(SM_E7 + rn(r * p));
    p = rn(SM_E6 + rn(r * p));
    p = rn(SM_E5 + rn(r * p));
    p = rn(SM_E4 + rn(r * p));
    p = rn(SM_E3 + rn(r * p));
    p = rn(SM_E2 + rn(r * p));
    let r2 = rn(r * r);
    let q = rn(r2 * p);
    return rn(r + q);
}

// x = k ln2 + r; returns (k, r).
fn sm_reduce(x: f32) -> vec2<f32> {
    let k = floor(rn(rn(x * SM_LOG2E) + 0.5));
    let r1 = rn(x - rn(k * SM_LN2_HI));
    let r = rn(r1 - rn(k * SM_LN2_LO));
    return vec2<f32>(k, r);
}

fn soft_exp(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let nan = sm_is_nan(bits);
    let over = bitcast<i32>(bits) > SM_EXP_MAX_BITS;
    let under = bits > SM_EXP_MIN_BITS;
    let xs = select(x, 0.0, nan || over || under || sm_is_tiny(bits));
    let kr = sm_reduce(xs);
    let y = rn(1.0 + sm_expm1_poly(kr.y));
    var out = sm_scale2(y, i32(kr.x));
    if under {
        out = 0.0;
    }
    if over {
        out = sm_bits(SM_INF_BITS);
    }
    if nan {
        out = sm_bits(SM_NAN_BITS);
    }
    return out;
}

fn soft_expm1(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let nan = sm_is_nan(bits);
    let over = bitcast<i32>(bits) > SM_EXP_MAX_BITS;
    let under = bits > SM_EXPM1_MIN_BITS;
    let tiny = sm_is_tiny(bits);
    let xs = select(x, 0.0, nan || over || under || tiny);
    var out: f32;
    if (bitcast<u32>(xs) & SM_ABS) < SM_EXPM1_DIRECT_BITS {
        out = sm_expm1_poly(xs);
    } else {
        let kr = sm_reduce(xs);
        let ki = i32(kr.x);
        let t = bitcast<f32>(u32(127 - min(ki, 30)) << 23u);
        let c = rn(1.0 - t);
        let s = rn(sm_expm1_poly(kr.y) + c);
        out = sm_scale2(s, ki);
    }
    if tiny {
        out = sm_bits(bits & SM_SIGN);
    }
    if under {
        out = -1.0;
    }
    if over {
        out = sm_bits(SM_INF_BITS);
    }
    if nan {
        out = sm_bits(SM_NAN_BITS);
    }
    return out;
}

fn sm_ln_core(e: f32, f: f32) -> f32 {
    let z = rn(f * f);
    var p = SM_L9;
    p = rn(rn(p * f) + SM_L8);
    p = rn(rn(p * f) + SM_L7);
    p = rn(rn(p * f) + SM_L6);
    p = rn(rn(p * f) + SM_L5);
    p = rn(rn(p * f) + SM_L4);
    p = rn(rn(p * f) + SM_L3);
    p = rn(rn(p * f) + SM_L2);
    p = rn(rn(p * f) + SM_L1);
    var y = rn(p * f);
    y = rn(y * z);
    y = rn(y + rn(e * SM_LN2_LO));
    y = rn(y - rn(0.5 * z));
    let r = rn(f + y);
    return rn(r + rn(e * SM_LN2_HI));
}

// (e, bits of m) with x = m 2^e, m in [sqrt(1/2), sqrt(2)); subnormals normalised.
fn sm_split_log(bits: u32) -> vec2<u32> {
    var field = i32((bits >> 23u) & 0xffu);
    var mant = bits & SM_MANTISSA;
    if field == 0 && mant != 0u {
        let shift = countLeadingZeros(mant) - 8u;
        mant = (mant << shift) & SM_MANTISSA;
        field = 1 - i32(shift);
    }
    var e = field - 127;
    var m = mant | SM_ONE_BITS;
    if m >= SM_SQRT2_BITS {
        m = m - 0x00800000u;
        e = e + 1;
    }
    return vec2<u32>(bitcast<u32>(e), m);
}

fn soft_ln(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let nan = sm_is_nan(bits) || (bits > SM_SIGN);
    let zero = (bits & SM_ABS) == 0u;
    let inf = bits == SM_INF_BITS;
    let xb = select(bits, SM_ONE_BITS, nan || zero || inf);
    let em = sm_split_log(xb);
    let f = rn(bitcast<f32>(em.y) - 1.0);
    var out = sm_ln_core(f32(bitcast<i32>(em.x)), f);
    if zero {
        out = sm_bits(SM_SIGN | SM_INF_BITS);
    }
    if inf {
        out = sm_bits(SM_INF_BITS);
    }
    if nan {
        out = sm_bits(SM_NAN_BITS);
    }
    return out;
}

fn soft_ln1p(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let nan = sm_is_nan(bits) || bits > 0xbf800000u;
    let m_one = bits == 0xbf800000u;
    let inf = bits == SM_INF_BITS;
    let tiny = sm_is_tiny(bits);
    let xs = select(x, 0.0, nan || m_one || inf || tiny);
    let u = rn(1.0 + xs);
    let em = sm_split_log(bitcast<u32>(u));
    let e = bitcast<i32>(em.x);
    var f: f32;
    if e >= 25 {
        f = rn(bitcast<f32>(em.y) - 1.0);
    } else {
        let s = bitcast<f32>(u32(127 - e) << 23u);
        let a = rn(s - 1.0);
        f = rn(a + rn(xs * s));
    }
    var out = sm_ln_core(f32(e), f);
    if tiny {
        out = sm_bits(bits & SM_SIGN);
    }
    if m_one {
        out = sm_bits(SM_SIGN | SM_INF_BITS);
    }
    if inf {
        out = sm_bits(SM_INF_BITS);
    }
    if nan {
        out = sm_bits(SM_NAN_BITS);
    }
    return out;
}

fn sm_recip_mantissa(m: f32) -> f32 {
    var y = bitcast<f32>(SM_RECIP_MAGIC - bitcast<u32>(m));
    for (var i = 0; i < 4; i++) {
        let t = rn(m * y);
        let d = rn(1.0 - t);
        let c = rn(y * d);
        y = rn(y + c);
    }
    return y;
}

fn sm_mantissa(abs_bits: u32) -> f32 {
    return bitcast<f32>((abs_bits & SM_MANTISSA) | SM_ONE_BITS);
}

fn sm_field(abs_bits: u32) -> i32 {
    return i32(abs_bits >> 23u);
}

fn soft_recip(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let sign = bits & SM_SIGN;
    let mag = bits & SM_ABS;
    let nan = sm_is_nan(bits);
    let tiny = sm_is_tiny(bits);
    let inf = mag == SM_INF_BITS;
    let xb = select(mag, SM_ONE_BITS, nan || tiny || inf);
    let y = sm_recip_mantissa(sm_mantissa(xb));
    var out = bitcast<f32>(bitcast<u32>(sm_scale2(y, 127 - sm_field(xb))) | sign);
    if tiny {
        out = sm_bits(sign | SM_INF_BITS);
    }
    if inf {
        out = sm_bits(sign);
    }
    if nan {
        out = sm_bits(SM_NAN_BITS);
    }
    return out;
}

fn soft_div(a: f32, b: f32) -> f32 {
    let ab = bitcast<u32>(a);
    let bb = bitcast<u32>(b);
    let sign = (ab ^ bb) & SM_SIGN;
    let amag = ab & SM_ABS;
    let bmag = bb & SM_ABS;
    let a_zero = sm_is_tiny(ab);
    let b_zero = sm_is_tiny(bb);
    let a_inf = amag == SM_INF_BITS;
    let b_inf = bmag == SM_INF_BITS;
    let nan = sm_is_nan(ab) || sm_is_nan(bb) || (a_zero && b_zero) || (a_inf && b_inf);
    let special = nan || a_zero || b_zero || a_inf || b_inf;
    let ax = select(amag, SM_ONE_BITS, special);
    let bx = select(bmag, SM_ONE_BITS, special);
    let ma = sm_mantissa(ax);
    let mb = sm_mantissa(bx);
    let yb = sm_recip_mantissa(mb);
    let q = rn(ma * yb);
    let p = rn(q * mb);
    let r = rn(ma - p);
    let c = rn(r * yb);
    let q2 = rn(q + c);
    var out = bitcast<f32>(bitcast<u32>(sm_scale2(q2, sm_field(ax) - sm_field(bx))) | sign);
    if a_zero || b_inf {
        out = sm_bits(sign);
    }
    if a_inf || b_zero {
        out = sm_bits(sign | SM_INF_BITS);
    }
    if nan {
        out = sm_bits(SM_NAN_BITS);
    }
    return out;
}
