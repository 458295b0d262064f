//! The kernels of a step: for each one, its bindings stated once ([`KERNELS`]), and its Rust
//! twin under the kernel's own name, loop for loop and operation for operation (the same
//! unfused float operations in the same order, wrapping integer arithmetic where WGSL wraps),
//! so both executors produce the same bits. The WGSL itself is one file per kernel in the
//! top-level `shaders/` folder (assembled by [`crate::wgsl`]); a test checks every file's
//! declarations against [`KERNELS`] with naga's reflection, and the GPU executor builds its
//! bind-group layouts from [`KERNELS`], so the two cannot drift apart unnoticed.

mod nef_advance;
mod nef_feed;
mod nef_filter;
mod nef_matvec;
mod nef_neurons;
mod nef_pes;
mod nef_record;
mod nef_sum;
mod nef_synapse_model;
mod neuron_update;
mod plastic_inbox;
mod plastic_model_post;
mod plastic_model_pre;
mod plastic_post;
mod plastic_pre;
mod plastic_prepare;
mod prepare_inbox;
mod propagate;
mod record_state;
mod rounding;

pub(crate) use nef_advance::nef_advance;
pub(crate) use nef_feed::nef_feed;
pub(crate) use nef_filter::nef_filter;
pub(crate) use nef_matvec::nef_matvec;
pub(crate) use nef_neurons::nef_neurons;
pub(crate) use nef_pes::nef_pes;
pub(crate) use nef_record::nef_record;
pub(crate) use nef_sum::nef_sum;
pub(crate) use nef_synapse_model::nef_synapse_model;
pub(crate) use neuron_update::neuron_update;
pub(crate) use plastic_inbox::plastic_inbox;
pub(crate) use plastic_model_post::{plastic_model_post, ModelTables};
pub(crate) use plastic_model_pre::plastic_model_pre;
pub(crate) use plastic_post::{plastic_post, PlasticTables};
pub(crate) use plastic_pre::plastic_pre;
pub(crate) use plastic_prepare::plastic_prepare;
pub(crate) use prepare_inbox::prepare_inbox;
pub(crate) use propagate::propagate;
pub(crate) use record_state::record_state;

use crate::lower::layout::{Control, Globals, PoissonRecord, PopRecord, KIND_CUSTOM};
use crate::model::neuron_model::NeuronModel;
use std::sync::atomic::AtomicI32;

/// How a kernel uses one of its bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

/// A kernel's bindings: `bindings[k]` is `@group(0) @binding(k)`, by its WGSL name.
#[derive(Debug)]
pub struct Kernel {
    /// The kernel's name: its file is `shaders/{name}.wgsl`, its CPU twin `kernels::{name}`.
    pub name: &'static str,
    pub bindings: &'static [(&'static str, Access)],
}

use Access::{Read, ReadWrite, Uniform};

/// Every kernel's bindings, stated once. The GPU executor builds each pipeline's bind-group
/// layout from this table and binds buffers by these names.
pub const KERNELS: &[Kernel] = &[
    Kernel {
        name: "neuron_update",
        bindings: &[
            ("globals", Uniform),
            ("pops", Read),
            ("v", ReadWrite),
            ("i_syn", ReadWrite),
            ("refractory", ReadWrite),
            ("v_drive", Read),
            ("ring", ReadWrite),
            ("control", ReadWrite),
            ("spikes", ReadWrite),
            ("spike_record", ReadWrite),
            ("poisson", Read),
            ("poisson_cdf", Read),
            ("aux", Read),
            ("propagate_args", ReadWrite),
        ],
    },
    Kernel {
        name: "prepare_inbox",
        bindings: &[
            ("control", ReadWrite),
            ("inbox", Read),
            ("inbox_control", ReadWrite),
            ("inbox_args", ReadWrite),
        ],
    },
    Kernel {
        name: "plastic_inbox",
        bindings: &[
            ("globals", Uniform),
            ("control", ReadWrite),
            ("inbox", Read),
            ("spike_hist", ReadWrite),
            ("hist_count", ReadWrite),
        ],
    },
    Kernel {
        name: "propagate",
        bindings: &[
            ("globals", Uniform),
            ("chunk", Uniform),
            ("control", ReadWrite),
            ("spikes", Read),
            ("row_ptr", Read),
            ("syn_words", Read),
            ("ring", ReadWrite),
        ],
    },
    Kernel {
        name: "plastic_post",
        bindings: &[
            ("globals", Uniform),
            ("control", ReadWrite),
            ("spikes", Read),
            ("syns", Read),
            ("rules", Read),
            ("decay", Read),
            ("post_ptr", Read),
            ("by_post", Read),
            ("state", ReadWrite),
            ("spike_hist", ReadWrite),
        ],
    },
    Kernel {
        name: "plastic_prepare",
        bindings: &[
            ("globals", Uniform),
            ("control", ReadWrite),
            ("hist_count", ReadWrite),
            ("hist_start", ReadWrite),
            ("plastic_args", ReadWrite),
        ],
    },
    Kernel {
        name: "plastic_pre",
        bindings: &[
            ("globals", Uniform),
            ("control", ReadWrite),
            ("spike_hist", Read),
            ("hist_start", Read),
            ("delay_ptr", Read),
            ("syns", Read),
            ("rules", Read),
            ("decay", Read),
            ("state", ReadWrite),
            ("ring", ReadWrite),
        ],
    },
    Kernel {
        name: "plastic_model_post",
        bindings: &[
            ("globals", Uniform),
            ("control", ReadWrite),
            ("spikes", Read),
            ("syns", Read),
            ("decay", Read),
            ("post_ptr", Read),
            ("by_post", Read),
            ("state", ReadWrite),
            ("model_syn", Read),
            ("model_vars", ReadWrite),
            ("model_params", Read),
        ],
    },
    Kernel {
        name: "plastic_model_pre",
        bindings: &[
            ("globals", Uniform),
            ("control", ReadWrite),
            ("spike_hist", Read),
            ("hist_start", Read),
            ("delay_ptr", Read),
            ("syns", Read),
            ("decay", Read),
            ("state", ReadWrite),
            ("ring", ReadWrite),
            ("model_syn", Read),
            ("model_vars", ReadWrite),
            ("model_params", Read),
        ],
    },
    Kernel {
        name: "record_state",
        bindings: &[
            ("globals", Uniform),
            ("entries", Read),
            ("v", Read),
            ("i_syn", Read),
            ("control", ReadWrite),
            ("state_record", ReadWrite),
        ],
    },
    Kernel {
        name: "nef_feed",
        bindings: &[
            ("sig", ReadWrite),
            ("control", Read),
            ("feed_dst", Read),
            ("feed", Read),
        ],
    },
    Kernel {
        name: "nef_sum",
        bindings: &[
            ("globals", Uniform),
            ("sig", ReadWrite),
            ("rows", Read),
            ("entries", Read),
        ],
    },
    Kernel {
        name: "nef_matvec",
        bindings: &[
            ("globals", Uniform),
            ("sig", ReadWrite),
            ("w", Read),
            ("rows", Read),
        ],
    },
    Kernel {
        name: "nef_neurons",
        bindings: &[
            ("globals", Uniform),
            ("sig", ReadWrite),
            ("ensembles", Read),
            ("rows", Read),
            ("control", Read),
        ],
    },
    Kernel {
        name: "nef_record",
        bindings: &[
            ("sig", Read),
            ("w", Read),
            ("control", Read),
            ("rows", Read),
            ("record", ReadWrite),
        ],
    },
    Kernel {
        name: "nef_pes",
        bindings: &[
            ("globals", Uniform),
            ("sig", Read),
            ("w", ReadWrite),
            ("rows", Read),
        ],
    },
    Kernel {
        name: "nef_synapse_model",
        bindings: &[
            ("globals", Uniform),
            ("control", Read),
            ("sig", Read),
            ("w", ReadWrite),
            ("rows", Read),
            ("info", Read),
        ],
    },
    Kernel {
        name: "nef_filter",
        bindings: &[
            ("globals", Uniform),
            ("sig", ReadWrite),
            ("coefs", Read),
            ("rows", Read),
        ],
    },
    Kernel {
        name: "nef_advance",
        bindings: &[("control", ReadWrite)],
    },
];

/// The registry's entry of kernel `name`.
pub fn kernel(name: &str) -> crate::Result<&'static Kernel> {
    KERNELS
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| crate::Error::Shader {
            name: name.into(),
            message: "no such kernel in the registry (kernels::KERNELS)".into(),
        })
}

/// What the neuron update reads and does not change: its constant bindings, and the
/// user-defined models' Rust twins (`Twin::NeuronModels`).
pub(crate) struct NeuronTables<'a> {
    pub globals: &'a Globals,
    pub pops: &'a [PopRecord],
    pub v_drive: &'a [f32],
    pub poisson: &'a [PoissonRecord],
    pub poisson_cdf: &'a [u32],
    pub aux: &'a [u32],
    pub models: &'a [NeuronModel],
    pub dt_ms: f64,
    /// Length of `v`: the potentials, then the models' parameters and state.
    pub v_len: usize,
}

impl NeuronTables<'_> {
    /// The index of the population holding global neuron `neuron` (binary search over the
    /// populations' starts, as `find_pop` in the kernel).
    pub fn population_of(&self, neuron: u32) -> usize {
        self.pops.partition_point(|p| p.start <= neuron) - 1
    }

    /// The user-defined model population `pop` runs, if it runs one.
    pub fn neuron_model(&self, pop: usize) -> Option<&NeuronModel> {
        let k = self.pops[pop].kind.checked_sub(KIND_CUSTOM)?;
        Some(&self.models[k as usize])
    }
}

/// What the neuron update changes: its read-write bindings.
pub(crate) struct NeuronState<'a> {
    pub v: &'a mut [f32],
    pub i_syn: &'a mut [[f32; 2]],
    pub refractory: &'a mut [u32],
    /// Atomic, as on the GPU, since propagation adds to it in parallel; the update holds it
    /// alone, so it reads and clears its entries as plain integers (`AtomicI32::get_mut`).
    pub ring: &'a mut [AtomicI32],
    pub control: &'a mut Control,
    pub spikes: &'a mut [u32],
    pub spike_record: &'a mut [u32],
}

#[cfg(test)]
mod tests {
    use super::{Access, KERNELS};
    use naga::{AddressSpace, StorageAccess};

    /// `(binding, name, access)` of every resource a WGSL module declares in group 0; any other
    /// group fails the test.
    fn declared(name: &str, source: &str) -> Vec<(u32, String, Access)> {
        let module = crate::wgsl::validate(name, source).expect("the kernel validates");
        let mut out: Vec<_> = module
            .global_variables
            .iter()
            .filter_map(|(_, var)| {
                let binding = var.binding.as_ref()?;
                assert_eq!(
                    binding.group, 0,
                    "{name}: `{:?}` is not in group 0",
                    var.name
                );
                let access = match var.space {
                    AddressSpace::Uniform => Access::Uniform,
                    AddressSpace::Storage { access } if access.contains(StorageAccess::STORE) => {
                        Access::ReadWrite
                    }
                    AddressSpace::Storage { .. } => Access::Read,
                    other => panic!("{name}: binding {} in {other:?}", binding.binding),
                };
                Some((
                    binding.binding,
                    var.name.clone().unwrap_or_default(),
                    access,
                ))
            })
            .collect();
        out.sort_by_key(|(binding, _, _)| *binding);
        out
    }

    /// The WGSL a kernel of the registry runs: its file, or for the templates that user models
    /// are spliced into, the source generated for built-in models.
    fn sources(name: &str) -> Vec<String> {
        match name {
            "nef_synapse_model" => vec![
                crate::model::plasticity::kernel::generate(&crate::model::plasticity::stdp(
                    Default::default(),
                ))
                .text,
            ],
            "plastic_model_post" | "plastic_model_pre" => {
                let model = crate::model::plasticity::stdp(Default::default());
                let layout = crate::model::plasticity::spiking::ModelLayout {
                    model: &model,
                    param_off: 0,
                    traces: &[(0, 1), (1, 1)],
                    max_weight: 1.0,
                };
                crate::model::plasticity::spiking::generate(&[layout], 1e-4)
                    .into_iter()
                    .filter(|(n, _)| *n == name)
                    .map(|(_, s)| s.text)
                    .collect()
            }
            "nef_neurons" => vec![
                crate::wgsl::source(name).unwrap(),
                crate::model::nef::neuron_kernel::generate(
                    &[&crate::model::neuron_model::izhikevich(Default::default())],
                    1.0,
                )
                .text,
            ],
            "neuron_update" => vec![
                crate::wgsl::source(name).unwrap(),
                crate::model::neuron_model::kernel::generate(
                    &[&crate::model::neuron_model::izhikevich(Default::default())],
                    0.1,
                )
                .text,
            ],
            _ => vec![crate::wgsl::source(name).unwrap()],
        }
    }

    #[test]
    fn the_registry_agrees_with_every_wgsl_file() {
        for kernel in KERNELS {
            for source in sources(kernel.name) {
                let got = declared(kernel.name, &source);
                let want: Vec<_> = kernel
                    .bindings
                    .iter()
                    .enumerate()
                    .map(|(i, (n, a))| (i as u32, n.to_string(), *a))
                    .collect();
                assert_eq!(got, want, "kernel `{}`: WGSL vs registry", kernel.name);
            }
        }
    }

    #[test]
    fn every_wgsl_kernel_is_in_the_registry_and_back() {
        let files: Vec<&str> = crate::wgsl::KERNELS.iter().map(|(n, _, _)| *n).collect();
        for file in &files {
            assert!(
                KERNELS.iter().any(|k| k.name == *file),
                "shaders/{file}.wgsl has no registry entry"
            );
        }
        let templates = [
            "nef_synapse_model",
            "plastic_model_post",
            "plastic_model_pre",
        ];
        for kernel in KERNELS {
            assert!(
                files.contains(&kernel.name) || templates.contains(&kernel.name),
                "registry entry `{}` has no WGSL file",
                kernel.name
            );
        }
        // The templates outside `wgsl::KERNELS` are files too.
        for name in templates {
            let path = format!("{}/shaders/{name}.wgsl", env!("CARGO_MANIFEST_DIR"));
            assert!(std::path::Path::new(&path).exists(), "{path}");
        }
    }
}
