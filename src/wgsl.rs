//! WGSL sources of the kernels, assembled from `shaders/`, and their naga validation (which
//! needs no GPU). A kernel file uses the structs and helpers of `shaders/shared/`, prepended here.

use crate::error::{Error, Result};

const SHARED: &[(&str, &str)] = &[
    (
        "shared/types.wgsl",
        include_str!("../shaders/shared/types.wgsl"),
    ),
    (
        "shared/rng.wgsl",
        include_str!("../shaders/shared/rng.wgsl"),
    ),
    (
        "shared/rounding.wgsl",
        include_str!("../shaders/shared/rounding.wgsl"),
    ),
    // Needs shared/rounding.wgsl.
    (
        "shared/softmath.wgsl",
        include_str!("../shaders/shared/softmath.wgsl"),
    ),
    (
        "shared/nef_types.wgsl",
        include_str!("../shaders/shared/nef_types.wgsl"),
    ),
    // Needs shared/rounding.wgsl.
    (
        "shared/plastic_types.wgsl",
        include_str!("../shaders/shared/plastic_types.wgsl"),
    ),
    // Needs the bindings it names (see the file).
    (
        "shared/plastic_arrivals.wgsl",
        include_str!("../shaders/shared/plastic_arrivals.wgsl"),
    ),
];

/// Every kernel: name (also its file stem), source, and the shared files it uses after
/// `shared/types.wgsl`, which every kernel gets.
pub const KERNELS: &[(&str, &str, &[&str])] = &[
    (
        "neuron_update",
        include_str!("../shaders/neuron_update.wgsl"),
        // softmath for user-defined neuron models' snippets.
        &[
            "shared/rng.wgsl",
            "shared/rounding.wgsl",
            "shared/softmath.wgsl",
        ],
    ),
    (
        "prepare_inbox",
        include_str!("../shaders/prepare_inbox.wgsl"),
        &[],
    ),
    (
        "plastic_inbox",
        include_str!("../shaders/plastic_inbox.wgsl"),
        &[],
    ),
    ("propagate", include_str!("../shaders/propagate.wgsl"), &[]),
    (
        "plastic_post",
        include_str!("../shaders/plastic_post.wgsl"),
        &["shared/rounding.wgsl", "shared/plastic_types.wgsl"],
    ),
    (
        "plastic_prepare",
        include_str!("../shaders/plastic_prepare.wgsl"),
        &[],
    ),
    (
        "plastic_pre",
        include_str!("../shaders/plastic_pre.wgsl"),
        &[
            "shared/rounding.wgsl",
            "shared/plastic_types.wgsl",
            "shared/plastic_arrivals.wgsl",
        ],
    ),
    (
        "record_state",
        include_str!("../shaders/record_state.wgsl"),
        &[],
    ),
    (
        "nef_feed",
        include_str!("../shaders/nef_feed.wgsl"),
        &["shared/nef_types.wgsl"],
    ),
    (
        "nef_sum",
        include_str!("../shaders/nef_sum.wgsl"),
        &["shared/rounding.wgsl", "shared/nef_types.wgsl"],
    ),
    (
        "nef_matvec",
        include_str!("../shaders/nef_matvec.wgsl"),
        &["shared/rounding.wgsl", "shared/nef_types.wgsl"],
    ),
    (
        "nef_neurons",
        include_str!("../shaders/nef_neurons.wgsl"),
        &[
            "shared/rounding.wgsl",
            "shared/softmath.wgsl",
            "shared/nef_types.wgsl",
        ],
    ),
    (
        "nef_record",
        include_str!("../shaders/nef_record.wgsl"),
        &["shared/nef_types.wgsl"],
    ),
    (
        "nef_pes",
        include_str!("../shaders/nef_pes.wgsl"),
        &["shared/rounding.wgsl", "shared/nef_types.wgsl"],
    ),
    (
        "nef_filter",
        include_str!("../shaders/nef_filter.wgsl"),
        &["shared/rounding.wgsl", "shared/nef_types.wgsl"],
    ),
    (
        "nef_advance",
        include_str!("../shaders/nef_advance.wgsl"),
        &["shared/nef_types.wgsl"],
    ),
];

/// The text of a shared file, by its path under `shaders/` (e.g. "shared/softmath.wgsl"), for
/// assembling test kernels.
pub fn shared_source(path: &str) -> Option<&'static str> {
    SHARED
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

/// The full source of a kernel: shared files, then the kernel.
pub fn source(kernel: &str) -> Result<String> {
    let (_, body, imports) = KERNELS
        .iter()
        .find(|(name, _, _)| *name == kernel)
        .ok_or_else(|| Error::Shader {
            name: kernel.into(),
            message: "no such kernel".into(),
        })?;
    let mut s = String::new();
    for (path, text) in SHARED {
        if *path == "shared/types.wgsl" || imports.contains(path) {
            s.push_str(&format!("// ---- {path}\n{text}\n"));
        }
    }
    s.push_str(&format!("// ---- {kernel}.wgsl\n{body}"));
    Ok(s)
}

/// Parses and validates WGSL with naga, reporting errors with line numbers of `source`.
pub fn validate(name: &str, source: &str) -> Result<naga::Module> {
    let module = naga::front::wgsl::parse_str(source).map_err(|e| Error::Shader {
        name: name.into(),
        message: e.emit_to_string(source),
    })?;
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::default(),
    )
    .validate(&module)
    .map_err(|e| Error::Shader {
        name: name.into(),
        message: e.emit_to_string(source),
    })?;
    Ok(module)
}

/// Validates every built-in kernel.
pub fn validate_all() -> Result<()> {
    for (name, _, _) in KERNELS {
        validate(name, &source(name)?)?;
    }
    Ok(())
}
