//! Spiking networks (`Network`, `Simulator`), the built-in models and model files.

use crate::comm::PyCommunicator;
use crate::convert;
use crate::errors::IntoPy;
use crate::synapse_models;
use lamina::model::file::{Model, ModelFile};
use lamina::prelude::*;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::Path;

/// A population of a spiking `Network`, or a slice of one.
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct PopulationRef {
    pub id: PopulationId,
    pub slice: NeuronSlice,
    #[pyo3(get)]
    pub name: String,
    #[pyo3(get)]
    pub size: u32,
    /// First neuron of the slice in the population.
    #[pyo3(get)]
    pub start: u32,
}

#[pymethods]
impl PopulationRef {
    /// Neurons `start..stop` of this population (indices local to it).
    fn slice(&self, start: u32, stop: u32) -> PyResult<PopulationRef> {
        if start >= stop || stop > self.size {
            return Err(PyValueError::new_err(format!(
                "slice {start}:{stop} is not inside `{}` (size {})",
                self.name, self.size
            )));
        }
        let (a, b) = (self.start + start, self.start + stop);
        Ok(PopulationRef {
            id: self.id,
            slice: self.id.slice(a..b),
            name: self.name.clone(),
            size: stop - start,
            start: a,
        })
    }
    fn __len__(&self) -> usize {
        self.size as usize
    }
    fn __repr__(&self) -> String {
        format!(
            "<Population {:?} [{}:{}]>",
            self.name,
            self.start,
            self.start + self.size
        )
    }
}

/// A spike probe.
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct SpikeProbeRef {
    pub id: SpikeProbe,
    #[pyo3(get)]
    pub name: String,
}

/// A state probe (v, i_ex, i_in).
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct StateProbeRef {
    pub id: StateProbe,
    #[pyo3(get)]
    pub name: String,
}

/// A projection of a spiking `Network` (what `connect` returns): the handle that STDP, a
/// synapse model and the plastic weights are addressed by.
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct ProjectionRef {
    pub id: ProjectionId,
    #[pyo3(get)]
    pub source: String,
    #[pyo3(get)]
    pub target: String,
}

#[pymethods]
impl ProjectionRef {
    fn __repr__(&self) -> String {
        format!("<Projection {:?} -> {:?}>", self.source, self.target)
    }
}

fn pop_ref(net: &lamina::prelude::Network, id: PopulationId) -> PyResult<PopulationRef> {
    let p = net.population_info(id).py()?;
    Ok(PopulationRef {
        id,
        slice: id.into(),
        name: p.name.clone(),
        size: p.size,
        start: 0,
    })
}

/// A spiking network: populations, projections, inputs and probes. Units: ms, mV, pF, pA.
#[pyclass(module = "lamina._lamina", unsendable)]
pub struct Network {
    pub net: lamina::prelude::Network,
}

#[pymethods]
impl Network {
    #[new]
    #[pyo3(signature = (seed=None, dt_ms=0.1))]
    fn new(seed: Option<u64>, dt_ms: f64) -> Self {
        let mut net = lamina::prelude::Network::new().with_dt_ms(dt_ms);
        if let Some(s) = seed {
            net = net.with_seed(s);
        }
        Network { net }
    }

    #[getter]
    fn dt_ms(&self) -> f64 {
        self.net.dt_ms()
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.net.seed()
    }

    #[getter]
    fn neuron_count(&self) -> u64 {
        self.net.neuron_count()
    }

    /// A population of current-based LIF neurons (NEST's iaf_psc_exp); parameters as keyword
    /// arguments (`tau_m_ms`, `c_m_pf`, `e_l_mv`, `v_reset_mv`, `v_th_mv`, `t_ref_ms`,
    /// `tau_syn_ex_ms`, `tau_syn_in_ms`, `i_e_pa`, `v_init_mv`).
    #[pyo3(signature = (name, size, **params))]
    fn population(
        &mut self,
        name: &str,
        size: u32,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PopulationRef> {
        let n = convert::lif_current(params)?;
        let id = self.net.population(name, size, n).py()?;
        pop_ref(&self.net, id)
    }

    /// A population of Izhikevich neurons (`a`, `b`, `c`, `d`, ... as keyword arguments;
    /// regular spiking by default).
    #[pyo3(signature = (name, size, **params))]
    fn izhikevich(
        &mut self,
        name: &str,
        size: u32,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PopulationRef> {
        let mut p = IzhikevichParams::default();
        if let Some(d) = params {
            for (k, v) in d.iter() {
                let key: String = k.extract()?;
                let v: f64 = v.extract()?;
                match key.as_str() {
                    "a" => p.a = v,
                    "b" => p.b = v,
                    "c" => p.c = v,
                    "d" => p.d = v,
                    "v_init" => p.v_init = v,
                    other => {
                        return Err(PyTypeError::new_err(format!(
                            "izhikevich has no parameter {other:?} (a, b, c, d, v_init)"
                        )))
                    }
                }
            }
        }
        let id = self.net.neurons(name, size, izhikevich(p)).py()?;
        pop_ref(&self.net, id)
    }

    /// A population of a user-defined neuron model: state variables with their initial
    /// values (a number or distribution spec), parameters, and WGSL snippets for `update`,
    /// `threshold` and `reset`. Checked here by naga (errors name the snippet's line); such a
    /// model runs on a GPU adapter only (the CPU twin needs a Rust twin of it).
    #[pyo3(signature = (name, size, model, states, params, update, threshold, reset, refractory_ms=None))]
    #[allow(clippy::too_many_arguments)]
    fn neuron_model(
        &mut self,
        name: &str,
        size: u32,
        model: &str,
        states: Vec<(String, Bound<'_, PyAny>)>,
        params: Vec<(String, f64)>,
        update: &str,
        threshold: &str,
        reset: &str,
        refractory_ms: Option<f64>,
    ) -> PyResult<PopulationRef> {
        let mut m = NeuronModel::new(model);
        for (k, init) in &states {
            m = m.state(k, convert::dist(init)?);
        }
        for (k, v) in &params {
            m = m.param(k, *v);
        }
        m = m.update(update).threshold(threshold).reset(reset);
        if let Some(t) = refractory_ms {
            m = m.refractory_ms(t);
        }
        let id = self.net.neurons(name, size, m).py()?;
        pop_ref(&self.net, id)
    }

    /// Spike generators: `times_ms[i]` are the spike times of neuron `i`.
    fn spike_source(&mut self, name: &str, times_ms: Vec<Vec<f64>>) -> PyResult<PopulationRef> {
        let id = self.net.spike_source(name, times_ms).py()?;
        pop_ref(&self.net, id)
    }

    /// A projection: `rule` a connectivity spec, `weight_pa` and `delay_ms` value specs.
    fn connect(
        &mut self,
        source: &PopulationRef,
        target: &PopulationRef,
        rule: &Bound<'_, PyAny>,
        weight_pa: &Bound<'_, PyAny>,
        delay_ms: &Bound<'_, PyAny>,
    ) -> PyResult<ProjectionRef> {
        let rule = convert::connectivity(rule)?;
        let w = convert::values(weight_pa)?;
        let d = convert::values(delay_ms)?;
        let id = self
            .net
            .connect(source.slice.clone(), target.slice.clone(), rule, w, d)
            .py()?;
        Ok(ProjectionRef {
            id,
            source: source.name.clone(),
            target: target.name.clone(),
        })
    }

    /// Pair-based, additive STDP with weight bounds on the synapses of `projection`.
    #[allow(clippy::too_many_arguments)]
    fn stdp(
        &mut self,
        projection: &ProjectionRef,
        tau_pre_ms: f64,
        tau_post_ms: f64,
        a_plus_pa: f64,
        a_minus_pa: f64,
        w_min_pa: f64,
        w_max_pa: f64,
    ) -> PyResult<()> {
        let rule = Stdp {
            tau_pre_ms,
            tau_post_ms,
            a_plus_pa,
            a_minus_pa,
            w_min_pa,
            w_max_pa,
        };
        self.net.stdp(projection.id, rule).py()
    }

    /// A built-in synapse model (`"stdp"`; parameters as keyword arguments) on the synapses
    /// of `projection`, its weights clamped to `±max_weight_pa`.
    #[pyo3(signature = (projection, model, max_weight_pa, **params))]
    fn synapse_model(
        &mut self,
        projection: &ProjectionRef,
        model: &str,
        max_weight_pa: f64,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let m = synapse_models::builtin(model, params)?;
        self.net.synapse_model(projection.id, m, max_weight_pa).py()
    }

    /// A user-defined synapse model (WGSL snippets, run at events) on the synapses of
    /// `projection`, its weights clamped to `±max_weight_pa`. Checked here by naga; runs on a
    /// GPU adapter only.
    #[pyo3(signature = (projection, max_weight_pa, name, params=Vec::new(), states=Vec::new(),
        pre_traces=Vec::new(), post_traces=Vec::new(), on_pre=None, on_post=None, per_step=None))]
    #[allow(clippy::too_many_arguments)]
    fn synapse_model_user(
        &mut self,
        projection: &ProjectionRef,
        max_weight_pa: f64,
        name: &str,
        params: Vec<(String, f64)>,
        states: Vec<(String, Bound<'_, PyAny>)>,
        pre_traces: Vec<(String, f64)>,
        post_traces: Vec<(String, f64)>,
        on_pre: Option<&str>,
        on_post: Option<&str>,
        per_step: Option<&str>,
    ) -> PyResult<()> {
        let m = synapse_models::user(
            name,
            &params,
            &states,
            &pre_traces,
            &post_traces,
            on_pre,
            on_post,
            per_step,
        )?;
        self.net.synapse_model(projection.id, m, max_weight_pa).py()
    }

    /// One value per neuron of `target` of parameter `name` (a `LifCurrent` field such as
    /// `v_th_mv`, or a parameter of the population's neuron model).
    fn parameter_each(
        &mut self,
        target: &PopulationRef,
        name: &str,
        values: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let v = convert::vec_f64(values)?;
        self.net.parameter_each(target.slice.clone(), name, &v).py()
    }

    /// A constant current (pA) into every neuron of `target`, or one per neuron.
    fn current(&mut self, target: &PopulationRef, amplitude_pa: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(a) = amplitude_pa.extract::<f64>() {
            return self.net.current(target.slice.clone(), a).py();
        }
        let each = convert::vec_f64(amplitude_pa)?;
        self.net.current_each(target.slice.clone(), &each).py()
    }

    /// Poisson input: each neuron of `target` gets `in_degree` sources at `rate_hz`, each
    /// spike adding `weight_pa`.
    fn poisson(
        &mut self,
        target: &PopulationRef,
        in_degree: u32,
        rate_hz: f64,
        weight_pa: f64,
    ) -> PyResult<()> {
        self.net
            .poisson(
                target.slice.clone(),
                PoissonInput {
                    in_degree,
                    rate_hz,
                    weight_pa,
                },
            )
            .py()
    }

    /// One initial value per neuron of state variable `var` (`"v"` for LIF).
    fn initial_state(
        &mut self,
        target: &PopulationRef,
        var: &str,
        values: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let v = convert::vec_f64(values)?;
        self.net.initial_state(target.slice.clone(), var, &v).py()
    }

    fn probe_spikes(&mut self, target: &PopulationRef) -> PyResult<SpikeProbeRef> {
        let id = self.net.probe_spikes(target.slice.clone()).py()?;
        Ok(SpikeProbeRef {
            id,
            name: target.name.clone(),
        })
    }

    #[pyo3(signature = (target, sample_every_ms=None))]
    fn probe_state(
        &mut self,
        target: &PopulationRef,
        sample_every_ms: Option<f64>,
    ) -> PyResult<StateProbeRef> {
        let every = sample_every_ms.unwrap_or(self.net.dt_ms());
        let id = self.net.probe_state(target.slice.clone(), every).py()?;
        Ok(StateProbeRef {
            id,
            name: target.name.clone(),
        })
    }
}

fn state_var(name: &str) -> PyResult<StateVar> {
    match name {
        "v" => Ok(StateVar::V),
        "i_ex" => Ok(StateVar::ISynEx),
        "i_in" => Ok(StateVar::ISynIn),
        other => Err(PyValueError::new_err(format!(
            "state variable must be 'v', 'i_ex' or 'i_in', got {other:?}"
        ))),
    }
}

/// Synapses as a dict of arrays: pre, post, weight_pa, delay_ms.
fn synapse_dict<'py>(py: Python<'py>, s: &[SynapseView]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let pre: Vec<u32> = s.iter().map(|x| x.pre).collect();
    let post: Vec<u32> = s.iter().map(|x| x.post).collect();
    let weight: Vec<f64> = s.iter().map(|x| x.weight_pa).collect();
    let delay: Vec<f64> = s.iter().map(|x| x.delay_ms).collect();
    d.set_item("pre", pre.into_pyarray(py))?;
    d.set_item("post", post.into_pyarray(py))?;
    d.set_item("weight_pa", weight.into_pyarray(py))?;
    d.set_item("delay_ms", delay.into_pyarray(py))?;
    Ok(d)
}

type Trains<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u32>>,
);

/// Runs a spiking `Network` on a GPU or on the CPU twin.
#[pyclass(module = "lamina._lamina", unsendable)]
pub struct Simulator {
    sim: lamina::prelude::Simulator,
}

#[pymethods]
impl Simulator {
    /// With `comm`, this process's part of a network run on several (each process of the run
    /// builds the same network with the same `comm`); see `comm::PyCommunicator`.
    #[new]
    #[pyo3(signature = (net, backend="auto", comm=None, local_rank=None))]
    fn new(
        net: &Network,
        backend: &str,
        comm: Option<&Bound<'_, PyAny>>,
        local_rank: Option<usize>,
    ) -> PyResult<Self> {
        let choice = convert::backend(backend)?;
        let sim = match comm {
            None => lamina::prelude::Simulator::new(&net.net, choice),
            Some(comm) => {
                let comm = Box::new(PyCommunicator::new(comm, local_rank)?);
                lamina::prelude::Simulator::distributed(&net.net, choice, comm)
            }
        };
        Ok(Simulator { sim: sim.py()? })
    }

    /// (this process's rank, the number of processes): (0, 1) without a communicator.
    #[getter]
    fn processes(&self) -> (usize, usize) {
        self.sim.rank_and_size()
    }

    /// What carries the exchanges between processes (the communicator's type), or None.
    #[getter]
    fn communicator(&self) -> Option<String> {
        self.sim.communicator_description()
    }

    #[staticmethod]
    #[pyo3(signature = (net, path, backend="auto"))]
    fn resume(net: &Network, path: &str, backend: &str) -> PyResult<Self> {
        let choice = convert::backend(backend)?;
        Ok(Simulator {
            sim: lamina::prelude::Simulator::resume(&net.net, choice, path).py()?,
        })
    }

    /// Runs for `seconds` of biological time.
    fn run(&mut self, seconds: f64) -> PyResult<()> {
        self.sim.run(seconds).py()
    }

    fn run_steps(&mut self, steps: u64) -> PyResult<()> {
        self.sim.run_steps(steps).py()
    }

    fn reset(&mut self) -> PyResult<()> {
        self.sim.reset().py()
    }

    #[getter]
    fn time(&self) -> f64 {
        self.sim.time()
    }

    #[getter]
    fn n_steps(&self) -> u64 {
        self.sim.n_steps()
    }

    /// (steps, times_s, neurons) of every spike recorded so far, neurons local to the probe's
    /// population.
    fn spikes<'py>(&self, py: Python<'py>, probe: &SpikeProbeRef) -> PyResult<Trains<'py>> {
        let t = self.sim.spikes(&probe.id).py()?;
        Ok((
            PyArray1::from_slice(py, &t.steps),
            PyArray1::from_slice(py, &t.times_s),
            PyArray1::from_slice(py, &t.neurons),
        ))
    }

    /// As `spikes`, handing the arrays over (no copy) and forgetting them here.
    fn take_spikes<'py>(
        &mut self,
        py: Python<'py>,
        probe: &SpikeProbeRef,
    ) -> PyResult<Trains<'py>> {
        let t = self.sim.take_spikes(&probe.id).py()?;
        Ok((
            t.steps.into_pyarray(py),
            t.times_s.into_pyarray(py),
            t.neurons.into_pyarray(py),
        ))
    }

    /// Samples x neurons of `var` ('v', 'i_ex' or 'i_in').
    #[pyo3(signature = (probe, var="v"))]
    fn state<'py>(
        &self,
        py: Python<'py>,
        probe: &StateProbeRef,
        var: &str,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        Ok(self
            .sim
            .state(&probe.id, state_var(var)?)
            .py()?
            .into_pyarray(py))
    }

    fn state_times<'py>(
        &self,
        py: Python<'py>,
        probe: &StateProbeRef,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self.sim.state_times(&probe.id).py()?.into_pyarray(py))
    }

    /// Silences neurons (indices local to the population) between steps.
    fn ablate(&mut self, pop: &PopulationRef, neurons: Vec<usize>) -> PyResult<()> {
        let n: Vec<usize> = neurons.iter().map(|i| i + pop.start as usize).collect();
        self.sim.ablate(pop.id, &n).py()
    }

    fn restore(&mut self, pop: &PopulationRef, neurons: Vec<usize>) -> PyResult<()> {
        let n: Vec<usize> = neurons.iter().map(|i| i + pop.start as usize).collect();
        self.sim.restore(pop.id, &n).py()
    }

    /// Cuts every synapse from `pre` to `post`; returns how many were cut.
    fn lesion(&mut self, pre: &PopulationRef, post: &PopulationRef) -> PyResult<u64> {
        self.sim.lesion(pre.slice.clone(), post.slice.clone()).py()
    }

    fn restore_synapses(&mut self) -> PyResult<()> {
        self.sim.restore_synapses().py()
    }

    /// The synapses from `pre` to `post` as a dict of arrays: pre, post, weight_pa, delay_ms.
    fn synapses<'py>(
        &self,
        py: Python<'py>,
        pre: &PopulationRef,
        post: &PopulationRef,
    ) -> PyResult<Bound<'py, PyDict>> {
        let s = self
            .sim
            .synapses(pre.slice.clone(), post.slice.clone())
            .py()?;
        synapse_dict(py, &s)
    }

    fn neuron_state<'py>(
        &mut self,
        py: Python<'py>,
        pop: &PopulationRef,
        var: &str,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(self.sim.neuron_state(pop.id, var).py()?.into_pyarray(py))
    }

    fn set_neuron_state(
        &mut self,
        pop: &PopulationRef,
        var: &str,
        values: Vec<f32>,
    ) -> PyResult<()> {
        self.sim.set_neuron_state(pop.id, var, &values).py()
    }

    /// The synapses of a plastic projection as a dict of arrays (pre, post, weight_pa,
    /// delay_ms), in the order of `plastic_weights`.
    fn plastic_synapses<'py>(
        &mut self,
        py: Python<'py>,
        projection: &ProjectionRef,
    ) -> PyResult<Bound<'py, PyDict>> {
        let s = self.sim.plastic_synapses(projection.id).py()?;
        synapse_dict(py, &s)
    }

    /// The weights (pA) of a plastic projection as learned so far.
    fn plastic_weights<'py>(
        &mut self,
        py: Python<'py>,
        projection: &ProjectionRef,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(self
            .sim
            .plastic_weights(projection.id)
            .py()?
            .into_pyarray(py))
    }

    fn set_plastic_weights(
        &mut self,
        projection: &ProjectionRef,
        weights: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let w = convert::vec_f64(weights)?;
        self.sim.set_plastic_weights(projection.id, &w).py()
    }

    /// State variable or trace `var` of each synapse of a projection with a synapse model.
    fn plastic_model_state<'py>(
        &mut self,
        py: Python<'py>,
        projection: &ProjectionRef,
        var: &str,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(self
            .sim
            .plastic_model_state(projection.id, var)
            .py()?
            .into_pyarray(py))
    }

    /// Parameter `name` of each neuron of `pop` (a slice gives its own neurons), for a
    /// population of a neuron model.
    fn neuron_param_each<'py>(
        &mut self,
        py: Python<'py>,
        pop: &PopulationRef,
        name: &str,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let all = self.sim.neuron_param_each(pop.id, name).py()?;
        let (a, b) = (pop.start as usize, (pop.start + pop.size) as usize);
        Ok(PyArray1::from_slice(py, &all[a..b]))
    }

    /// Parameter `name` of a population of a neuron model (one it shares).
    fn neuron_param(&mut self, pop: &PopulationRef, name: &str) -> PyResult<f32> {
        self.sim.neuron_param(pop.id, name).py()
    }

    /// Sets parameter `name` of a population of a neuron model (of all its neurons) from the
    /// next step on.
    fn set_neuron_param(&mut self, pop: &PopulationRef, name: &str, value: f64) -> PyResult<()> {
        self.sim.set_neuron_param(pop.id, name, value).py()
    }

    fn checkpoint(&mut self, path: &str) -> PyResult<()> {
        self.sim.checkpoint(path).py()
    }

    fn load_checkpoint(&mut self, path: &str) -> PyResult<()> {
        self.sim.load_checkpoint(path).py()
    }

    #[getter]
    fn get_health_check(&self) -> bool {
        self.sim.health_check()
    }

    #[setter]
    fn set_health_check(&mut self, on: bool) {
        self.sim.set_health_check(on);
    }

    fn backend_description(&self) -> String {
        self.sim.backend_description()
    }

    #[getter]
    fn backend_kind(&self) -> &'static str {
        self.sim.backend_kind()
    }

    #[getter]
    fn dispatches_per_step(&self) -> u32 {
        self.sim.dispatches_per_step()
    }

    #[getter]
    fn device_bytes(&self) -> u64 {
        self.sim.device_bytes()
    }

    #[getter]
    fn build_seconds(&self) -> f64 {
        self.sim.build_seconds()
    }
}

/// The CUBA benchmark network: (network, excitatory, inhibitory, exc spike probe, inh probe).
#[pyfunction]
#[pyo3(signature = (neurons=4000, seed=1))]
fn cuba(py: Python<'_>, neurons: u32, seed: u64) -> PyResult<Bound<'_, PyDict>> {
    let c = lamina::builtin::cuba::build(neurons, seed).py()?;
    let d = PyDict::new(py);
    d.set_item("excitatory", pop_ref(&c.network, c.excitatory)?)?;
    d.set_item("inhibitory", pop_ref(&c.network, c.inhibitory)?)?;
    d.set_item(
        "exc_spikes",
        SpikeProbeRef {
            id: c.exc_spikes,
            name: "excitatory".into(),
        },
    )?;
    d.set_item(
        "inh_spikes",
        SpikeProbeRef {
            id: c.inh_spikes,
            name: "inhibitory".into(),
        },
    )?;
    d.set_item("network", Py::new(py, Network { net: c.network })?)?;
    Ok(d)
}

/// The Potjans-Diesmann microcircuit at `scale`: network, populations, spike probes, names.
#[pyfunction]
#[pyo3(signature = (scale=1.0, seed=1, thalamus=false))]
fn microcircuit(
    py: Python<'_>,
    scale: f64,
    seed: u64,
    thalamus: bool,
) -> PyResult<Bound<'_, PyDict>> {
    let m = lamina::builtin::microcircuit::build(scale, seed, thalamus).py()?;
    let d = PyDict::new(py);
    let pops = PyList::empty(py);
    let probes = PyList::empty(py);
    for (i, id) in m.populations.iter().enumerate() {
        let p = pop_ref(&m.network, *id)?;
        probes.append(SpikeProbeRef {
            id: m.spikes[i],
            name: p.name.clone(),
        })?;
        pops.append(p)?;
    }
    d.set_item("populations", pops)?;
    d.set_item("spikes", probes)?;
    d.set_item("network", Py::new(py, Network { net: m.network })?)?;
    Ok(d)
}

/// Reads and builds a model file: a dict with `kind` ('spiking' or 'nef'), `network`, the
/// named probes, and the run length in seconds.
#[pyfunction]
fn load<'py>(py: Python<'py>, path: &str) -> PyResult<Bound<'py, PyDict>> {
    let file = ModelFile::from_path(Path::new(path)).py()?;
    let model = file.build().py()?;
    let d = PyDict::new(py);
    match model {
        Model::Spiking(s) => {
            d.set_item("kind", "spiking")?;
            let probes = PyDict::new(py);
            for p in &s.spike_probes {
                probes.set_item(
                    &p.name,
                    SpikeProbeRef {
                        id: p.probe,
                        name: p.name.clone(),
                    },
                )?;
            }
            let states = PyDict::new(py);
            for p in &s.state_probes {
                states.set_item(
                    &p.name,
                    StateProbeRef {
                        id: p.probe,
                        name: p.name.clone(),
                    },
                )?;
            }
            d.set_item("spike_probes", probes)?;
            d.set_item("state_probes", states)?;
            d.set_item("duration_s", s.run.duration_s)?;
            d.set_item("network", Py::new(py, Network { net: s.network })?)?;
        }
        Model::Nef(n) => {
            d.set_item("kind", "nef")?;
            let probes = PyDict::new(py);
            for p in &n.probes {
                probes.set_item(&p.name, crate::nef::ProbeRef { id: p.probe })?;
            }
            d.set_item("probes", probes)?;
            d.set_item("duration_s", n.run.duration_s)?;
            d.set_item(
                "network",
                Py::new(
                    py,
                    crate::nef::NefNetwork {
                        net: n.network,
                        errors: Default::default(),
                    },
                )?,
            )?;
        }
    }
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PopulationRef>()?;
    m.add_class::<SpikeProbeRef>()?;
    m.add_class::<StateProbeRef>()?;
    m.add_class::<ProjectionRef>()?;
    m.add_class::<Network>()?;
    m.add_class::<Simulator>()?;
    m.add_function(wrap_pyfunction!(cuba, m)?)?;
    m.add_function(wrap_pyfunction!(microcircuit, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    Ok(())
}
