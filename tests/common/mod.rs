//! Shared test helpers: write a test once, run it on every backend.
#![allow(dead_code)]

use lamina::backend::gpu;
use lamina::prelude::*;

/// The GPU backend if an adapter exists. Without one the test is skipped with a message, unless
/// `LAMINA_REQUIRE_GPU=1`, where it fails: CI sets it so a missing driver cannot hide.
pub fn gpu_or_skip() -> Option<BackendChoice> {
    let opts = GpuOptions::from_env();
    let found = gpu::adapters(opts.api.as_deref()).unwrap_or_default();
    if found.is_empty() {
        if std::env::var("LAMINA_REQUIRE_GPU").is_ok_and(|v| v == "1") {
            panic!(
                "LAMINA_REQUIRE_GPU=1 but no GPU adapter was found (LAMINA_BACKEND={:?})",
                opts.api
            );
        }
        eprintln!("skipped: no GPU adapter (set LAMINA_REQUIRE_GPU=1 to make this a failure)");
        return None;
    }
    Some(BackendChoice::Gpu(opts))
}

/// Stamps each test once per backend: `mod cpu { #[test] fn name() }` and `mod gpu { ... }`.
#[macro_export]
macro_rules! on_every_backend {
    ($(fn $name:ident($backend:ident: BackendChoice) $body:block)*) => {
        mod cpu {
            use super::*;
            $(
                #[test]
                fn $name() -> lamina::Result<()> {
                    let $backend = BackendChoice::Cpu;
                    $body
                }
            )*
        }
        mod gpu {
            use super::*;
            $(
                #[test]
                fn $name() -> lamina::Result<()> {
                    let Some($backend) = common::gpu_or_skip() else { return Ok(()) };
                    $body
                }
            )*
        }
    };
}

/// Compares two slices exactly, naming the first index where they differ.
#[track_caller]
pub fn assert_same<T: PartialEq + std::fmt::Debug>(what: &str, a: &[T], b: &[T]) {
    if let Some(i) = a.iter().zip(b).position(|(x, y)| x != y) {
        panic!("{what} differ first at index {i}: {:?} vs {:?}", a[i], b[i]);
    }
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
}

/// Compares spike trains exactly.
#[track_caller]
pub fn assert_same_spikes(what: &str, a: &SpikeTrains, b: &SpikeTrains) {
    assert_same(&format!("{what}: spike steps"), &a.steps, &b.steps);
    assert_same(&format!("{what}: spiking neurons"), &a.neurons, &b.neurons);
}
