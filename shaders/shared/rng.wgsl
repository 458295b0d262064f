// Counter-based hashing, bit-identical to `src/rng.rs`.

fn mix32(x0: u32) -> u32 {
    var x = x0;
    x = x ^ (x >> 16u);
    x = x * 0x7feb352du;
    x = x ^ (x >> 15u);
    x = x * 0x846ca68bu;
    x = x ^ (x >> 16u);
    return x;
}

fn hash3(key: u32, a: u32, b: u32) -> u32 {
    let h = mix32(key ^ 0x9e3779b9u);
    let h2 = mix32(h ^ a);
    return mix32(h2 ^ b);
}
