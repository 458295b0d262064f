//! Python values into lamina's descriptions. The pure-Python layer turns its classes
//! (`lamina.Uniform(...)`, `lamina.LIF(...)`, ...) into the small tuples read here, so the
//! forms below are an internal protocol, not the public API.

use lamina::prelude::*;
use ndarray::Array2;
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::sync::{Arc, Mutex};

/// The first exception a Python callback raised while lamina was calling it (node functions,
/// connection functions): lamina's closures cannot fail, so the error waits here, the callback
/// returns zeros, and the simulator raises it when control comes back to Python.
#[derive(Clone, Default)]
pub struct CallbackError(pub Arc<Mutex<Option<PyErr>>>);

impl CallbackError {
    pub fn set(&self, e: PyErr) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
    }
    /// Raises the stored exception, if any.
    pub fn check(&self) -> PyResult<()> {
        let taken = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        match taken {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

pub fn backend(name: &str) -> PyResult<BackendChoice> {
    match name {
        "auto" => Ok(BackendChoice::Auto),
        "cpu" => Ok(BackendChoice::Cpu),
        "gpu" => Ok(BackendChoice::gpu()),
        other => Err(PyValueError::new_err(format!(
            "backend must be 'auto', 'gpu' or 'cpu', got {other:?}"
        ))),
    }
}

/// A float64 array of any shape that numpy can view as 1-D values.
pub fn vec_f64(obj: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray1<f64>>() {
        return Ok(a.as_array().to_vec());
    }
    obj.extract::<Vec<f64>>()
}

pub fn array2(obj: &Bound<'_, PyAny>) -> PyResult<Array2<f64>> {
    let a: PyReadonlyArray2<f64> = obj
        .extract()
        .map_err(|_| PyTypeError::new_err("expected a 2-D float64 numpy array"))?;
    Ok(a.as_array().to_owned())
}

fn tag<'py>(spec: &Bound<'py, PyAny>, what: &str) -> PyResult<(String, Bound<'py, PyTuple>)> {
    let t = spec
        .downcast::<PyTuple>()
        .map_err(|_| PyTypeError::new_err(format!("{what}: expected a tuple spec")))?;
    let name: String = t.get_item(0)?.extract()?;
    Ok((name, t.clone()))
}

/// `NefDist` from `("uniform", low, high)`, `("gaussian", mean, std)`, `("choice", rows)`,
/// `("array", a)`, `("uniform_hypersphere", surface, min_magnitude)`,
/// `("scattered_hypersphere", surface, min_magnitude)`, or a 2-D array.
pub fn nef_dist(spec: &Bound<'_, PyAny>) -> PyResult<NefDist> {
    if spec.downcast::<PyTuple>().is_err() {
        return Ok(NefDist::Array(array2(spec)?));
    }
    let (name, t) = tag(spec, "distribution")?;
    Ok(match name.as_str() {
        "uniform" => NefDist::uniform(t.get_item(1)?.extract()?, t.get_item(2)?.extract()?),
        "gaussian" => NefDist::gaussian(t.get_item(1)?.extract()?, t.get_item(2)?.extract()?),
        "choice" => NefDist::Choice(t.get_item(1)?.extract()?),
        "array" => NefDist::Array(array2(&t.get_item(1)?)?),
        "uniform_hypersphere" => NefDist::UniformHypersphere {
            surface: t.get_item(1)?.extract()?,
            min_magnitude: t.get_item(2)?.extract()?,
        },
        "scattered_hypersphere" => NefDist::ScatteredHypersphere {
            surface: t.get_item(1)?.extract()?,
            min_magnitude: t.get_item(2)?.extract()?,
        },
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown distribution {other:?}"
            )))
        }
    })
}

/// `("lif", tau_rc, tau_ref, min_voltage, amplitude)`, `("lif_rate", tau_rc, tau_ref,
/// amplitude)`, `("relu", amplitude)`, `("spiking_relu", amplitude)`.
pub fn nef_neuron(spec: &Bound<'_, PyAny>) -> PyResult<NefNeuron> {
    let (name, t) = tag(spec, "neuron type")?;
    let f = |i: usize| -> PyResult<f64> { t.get_item(i)?.extract() };
    Ok(match name.as_str() {
        "lif" => NefNeuron::Lif(Lif {
            tau_rc: f(1)?,
            tau_ref: f(2)?,
            min_voltage: f(3)?,
            amplitude: f(4)?,
        }),
        "lif_rate" => NefNeuron::LifRate(LifRate {
            tau_rc: f(1)?,
            tau_ref: f(2)?,
            amplitude: f(3)?,
        }),
        "relu" => NefNeuron::RectifiedLinear(RectifiedLinear { amplitude: f(1)? }),
        "spiking_relu" => {
            NefNeuron::SpikingRectifiedLinear(SpikingRectifiedLinear { amplitude: f(1)? })
        }
        // Nengo's parameter names: tau_recovery (a), coupling (b), reset_voltage (c),
        // reset_recovery (d); measured as Nengo's `Izhikevich.rates` measures.
        "izhikevich" => {
            let p = IzhikevichParams {
                a: f(1)?,
                b: f(2)?,
                c: f(3)?,
                d: f(4)?,
                v_init: 0.0,
            };
            ModelNeuron::new(nengo_izhikevich(p))
                .rate_windows(0.001, 1.0)
                .into()
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown neuron type {other:?}"
            )))
        }
    })
}

/// `None` (no filter), `("lowpass", tau)`, `("alpha", tau)`.
pub fn synapse(spec: &Bound<'_, PyAny>) -> PyResult<Synapse> {
    if spec.is_none() {
        return Ok(Synapse::None);
    }
    let (name, t) = tag(spec, "synapse")?;
    let tau: f64 = t.get_item(1)?.extract()?;
    match name.as_str() {
        "lowpass" => Ok(Synapse::lowpass(tau)),
        "alpha" => Ok(Synapse::alpha(tau)),
        other => Err(PyValueError::new_err(format!("unknown synapse {other:?}"))),
    }
}

/// `("lstsq", reg, weights)`, `("nnls", reg, weights)`, `("dale", reg, fraction or mask)`.
pub fn solver(spec: &Bound<'_, PyAny>) -> PyResult<Solver> {
    let (name, t) = tag(spec, "solver")?;
    let reg: f64 = t.get_item(1)?.extract()?;
    match name.as_str() {
        "lstsq" => Ok(Solver::LstsqL2 {
            reg,
            weights: t.get_item(2)?.extract()?,
        }),
        "nnls" => Ok(Solver::Nnls {
            reg,
            weights: t.get_item(2)?.extract()?,
        }),
        "dale" => {
            let ex = t.get_item(2)?;
            let excitatory = match ex.extract::<f64>() {
                Ok(frac) => Excitatory::Fraction(frac),
                Err(_) => Excitatory::Mask(ex.extract()?),
            };
            Ok(Solver::Dale { reg, excitatory })
        }
        other => Err(PyValueError::new_err(format!("unknown solver {other:?}"))),
    }
}

/// Spiking-path distributions: `("const", v)`, `("uniform", low, high)`,
/// `("normal", mean, sd, low, high)` (redrawn), `("normal_clamped", mean, sd, low, high)`.
pub fn dist(spec: &Bound<'_, PyAny>) -> PyResult<Dist> {
    if let Ok(v) = spec.extract::<f64>() {
        return Ok(Dist::Const(v));
    }
    let (name, t) = tag(spec, "distribution")?;
    let f = |i: usize| -> PyResult<f64> { t.get_item(i)?.extract() };
    Ok(match name.as_str() {
        "const" => Dist::Const(f(1)?),
        "uniform" => Dist::uniform(f(1)?, f(2)?),
        "normal" => Dist::Normal {
            mean: f(1)?,
            sd: f(2)?,
            low: f(3)?,
            high: f(4)?,
        },
        "normal_clamped" => Dist::NormalClamped {
            mean: f(1)?,
            sd: f(2)?,
            low: f(3)?,
            high: f(4)?,
        },
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown distribution {other:?}"
            )))
        }
    })
}

/// A distribution, or `("each", values)`: one value per synapse.
pub fn values(spec: &Bound<'_, PyAny>) -> PyResult<Values> {
    if let Ok(t) = spec.downcast::<PyTuple>() {
        if t.get_item(0)?.extract::<String>()? == "each" {
            return Ok(Values::Each(vec_f64(&t.get_item(1)?)?));
        }
    }
    Ok(Values::Dist(dist(spec)?))
}

/// `("explicit", pre, post)`, `("fixed_probability", p)`, `("fixed_total_number", n)`,
/// `("fixed_in_degree", k)`, `("all_to_all",)`, `("one_to_one",)`.
pub fn connectivity(spec: &Bound<'_, PyAny>) -> PyResult<Connectivity> {
    let (name, t) = tag(spec, "connectivity")?;
    Ok(match name.as_str() {
        "explicit" => {
            let pre: Vec<u32> = t.get_item(1)?.extract()?;
            let post: Vec<u32> = t.get_item(2)?.extract()?;
            if pre.len() != post.len() {
                return Err(PyValueError::new_err(format!(
                    "explicit connectivity: {} pre indices but {} post indices",
                    pre.len(),
                    post.len()
                )));
            }
            Connectivity::Explicit(pre.into_iter().zip(post).collect())
        }
        "fixed_probability" => Connectivity::FixedProbability(t.get_item(1)?.extract()?),
        "fixed_total_number" => Connectivity::FixedTotalNumber(t.get_item(1)?.extract()?),
        "fixed_in_degree" => Connectivity::FixedInDegree(t.get_item(1)?.extract()?),
        "all_to_all" => Connectivity::AllToAll,
        "one_to_one" => Connectivity::OneToOne,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown connectivity {other:?}"
            )))
        }
    })
}

/// `LifCurrent` from keyword arguments (NEST's defaults for the rest).
pub fn lif_current(params: Option<&Bound<'_, PyDict>>) -> PyResult<LifCurrent> {
    let mut n = LifCurrent::default();
    if let Some(d) = params {
        for (k, v) in d.iter() {
            let key: String = k.extract()?;
            match key.as_str() {
                "tau_m_ms" => n.tau_m_ms = v.extract()?,
                "c_m_pf" => n.c_m_pf = v.extract()?,
                "e_l_mv" => n.e_l_mv = v.extract()?,
                "v_reset_mv" => n.v_reset_mv = v.extract()?,
                "v_th_mv" => n.v_th_mv = v.extract()?,
                "t_ref_ms" => n.t_ref_ms = v.extract()?,
                "tau_syn_ex_ms" => n.tau_syn_ex_ms = v.extract()?,
                "tau_syn_in_ms" => n.tau_syn_in_ms = v.extract()?,
                "i_e_pa" => n.i_e_pa = v.extract()?,
                "v_init_mv" => n.v_init_mv = dist(&v)?,
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "LifCurrent has no parameter {other:?}"
                    )))
                }
            }
        }
    }
    Ok(n)
}
