//! Synapse models as Python describes them, for NEF connections (`NefNetwork.learn`) and for
//! spiking projections (`Network.synapse_model`) alike: the built-ins by name with keyword
//! parameters, or a user model from its snippets.

use crate::errors::IntoPy;
use lamina::prelude::*;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A built-in model: `"stdp"` or `"memristor"`, with its parameters as keyword arguments
/// (the defaults for the rest).
pub fn builtin(model: &str, params: Option<&Bound<'_, PyDict>>) -> PyResult<SynapseModel> {
    let get = |k: &str| -> PyResult<Option<f64>> {
        match params {
            Some(d) => match d.get_item(k)? {
                Some(v) => Ok(Some(v.extract()?)),
                None => Ok(None),
            },
            None => Ok(None),
        }
    };
    Ok(match model {
        "stdp" => {
            let mut p = StdpParams::default();
            p.tau_pre = get("tau_pre")?.unwrap_or(p.tau_pre);
            p.tau_post = get("tau_post")?.unwrap_or(p.tau_post);
            p.a_plus = get("a_plus")?.unwrap_or(p.a_plus);
            p.a_minus = get("a_minus")?.unwrap_or(p.a_minus);
            p.w_max = get("w_max")?.unwrap_or(p.w_max);
            stdp(p)
        }
        "memristor" => {
            let mut p = MemristorParams::default();
            p.r_min = get("r_min")?.unwrap_or(p.r_min);
            p.r_max = get("r_max")?.unwrap_or(p.r_max);
            p.exponent = get("exponent")?.unwrap_or(p.exponent);
            p.gain = get("gain")?.unwrap_or(p.gain);
            p.err_threshold = get("err_threshold")?.unwrap_or(p.err_threshold);
            if let Some(d) = params {
                if let Some(v) = d.get_item("r_init")? {
                    p.r_init = v.extract()?;
                }
            }
            memristor(p).py()?
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown synapse model {other:?}: the built-ins are 'stdp' and 'memristor'"
            )))
        }
    })
}

/// A user-defined model: per-rule parameters, per-synapse state (a number or
/// `("uniform", low, high)`), pre and post spike traces (tau in seconds), and the `on_pre`,
/// `on_post` and `per_step` snippets. It has WGSL only, so it runs on a GPU adapter.
#[allow(clippy::too_many_arguments)]
pub fn user(
    name: &str,
    params: &[(String, f64)],
    states: &[(String, Bound<'_, PyAny>)],
    pre_traces: &[(String, f64)],
    post_traces: &[(String, f64)],
    on_pre: Option<&str>,
    on_post: Option<&str>,
    per_step: Option<&str>,
) -> PyResult<SynapseModel> {
    let mut m = SynapseModel::new(name);
    for (k, v) in params {
        m = m.param(k, *v);
    }
    for (k, init) in states {
        let init = if let Ok(v) = init.extract::<f64>() {
            StateInit::Constant(v)
        } else {
            let (kind, low, high): (String, f64, f64) = init.extract()?;
            if kind != "uniform" {
                return Err(PyValueError::new_err(format!(
                    "synapse state `{k}`: a number or ('uniform', low, high), got {kind:?}"
                )));
            }
            StateInit::Uniform { low, high }
        };
        m = m.state(k, init);
    }
    for (k, tau) in pre_traces {
        m = m.pre_trace(k, *tau);
    }
    for (k, tau) in post_traces {
        m = m.post_trace(k, *tau);
    }
    if let Some(c) = on_pre {
        m = m.on_pre(c);
    }
    if let Some(c) = on_post {
        m = m.on_post(c);
    }
    if let Some(c) = per_step {
        m = m.per_step(c);
    }
    Ok(m)
}
