//! Every kernel parses and validates with naga: no GPU needed.

use lamina::wgsl;

#[test]
fn every_kernel_validates() {
    wgsl::validate_all().unwrap();
}

#[test]
fn every_kernel_fits_the_smallest_adapter() {
    // GL (llvmpipe) allows 16 storage buffers per stage; the kernels must fit it.
    for (name, _, _) in wgsl::KERNELS {
        let module = wgsl::validate(name, &wgsl::source(name).unwrap()).unwrap();
        let storage = module
            .global_variables
            .iter()
            .filter(|(_, g)| matches!(g.space, naga::AddressSpace::Storage { .. }))
            .count();
        assert!(storage <= 16, "{name} binds {storage} storage buffers");
        assert!(storage >= 1, "{name} binds no storage buffer");
    }
}

#[test]
fn broken_wgsl_is_reported_with_its_line() {
    let src = "fn main() {\n  let x: u32 = 1.5;\n}\n";
    let err = wgsl::validate("broken", src).unwrap_err().to_string();
    assert!(err.contains("broken"), "{err}");
    assert!(err.contains(":2:"), "error should point at line 2: {err}");
}
