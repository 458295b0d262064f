//! NEF networks (`NefNetwork`) and their simulator (`NefSimulator`), as lamina's Rust API has
//! them. Handles (`EnsembleRef`, `NodeRef`, ...) wrap lamina's typed ids.

use crate::convert::{self, CallbackError};
use crate::errors::IntoPy;
use crate::synapse_models;
use lamina::model::nef::NefObj;
use lamina::prelude::*;
use ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// An ensemble of a `NefNetwork`: as a connection end or probe target, its decoded vector.
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct EnsembleRef {
    pub id: EnsembleId,
    #[pyo3(get)]
    pub name: String,
    #[pyo3(get)]
    pub n_neurons: usize,
    #[pyo3(get)]
    pub dimensions: usize,
}

#[pymethods]
impl EnsembleRef {
    /// The ensemble's neurons: inputs are currents (times the gains), outputs activities.
    #[getter]
    fn neurons(&self) -> ObjRef {
        ObjRef {
            obj: self.id.neurons(),
            desc: format!("{}.neurons", self.name),
        }
    }
    /// Dimensions `start..stop` of the decoded vector.
    fn slice(&self, start: usize, stop: usize) -> ObjRef {
        ObjRef {
            obj: self.id.slice(start..stop),
            desc: format!("{}[{start}:{stop}]", self.name),
        }
    }
    fn __repr__(&self) -> String {
        format!(
            "<Ensemble {:?}: {} neurons, {} dimensions>",
            self.name, self.n_neurons, self.dimensions
        )
    }
}

/// A node of a `NefNetwork`.
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct NodeRef {
    pub id: NodeId,
    #[pyo3(get)]
    pub name: String,
    #[pyo3(get)]
    pub size_in: usize,
    #[pyo3(get)]
    pub size_out: usize,
}

#[pymethods]
impl NodeRef {
    /// Elements `start..stop` of the node's output (as a source) or input (as a target).
    fn slice(&self, start: usize, stop: usize) -> ObjRef {
        ObjRef {
            obj: self.id.slice(start..stop),
            desc: format!("{}[{start}:{stop}]", self.name),
        }
    }
    fn __repr__(&self) -> String {
        format!(
            "<Node {:?}: size_in {}, size_out {}>",
            self.name, self.size_in, self.size_out
        )
    }
}

/// A slice of an ensemble or node, or an ensemble's neurons, as a connection end.
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct ObjRef {
    pub obj: NefObj,
    desc: String,
}

#[pymethods]
impl ObjRef {
    /// Elements `start..stop` of this object.
    fn slice(&self, start: usize, stop: usize) -> ObjRef {
        ObjRef {
            obj: self.obj.clone().slice(start..stop),
            desc: format!("{}[{start}:{stop}]", self.desc),
        }
    }
    fn __repr__(&self) -> String {
        format!("<{}>", self.desc)
    }
}

/// A connection of a `NefNetwork`.
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct ConnectionRef {
    pub id: ConnectionId,
}

#[pymethods]
impl ConnectionRef {
    /// Position among the network's connections, in the order they were made (the `conn{i}`
    /// key of `save_weights`).
    #[getter]
    fn index(&self) -> usize {
        self.id.index()
    }
    fn __repr__(&self) -> String {
        format!("<Connection {}>", self.id.index())
    }
}

/// A learning rule on a connection: connect an error signal into it.
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct RuleRef {
    pub id: LearningRuleId,
}

/// A probe of a `NefNetwork`.
#[pyclass(module = "lamina._lamina", frozen)]
#[derive(Clone)]
pub struct ProbeRef {
    pub id: NefProbeId,
}

fn nef_obj(obj: &Bound<'_, PyAny>) -> PyResult<NefObj> {
    if let Ok(e) = obj.downcast::<EnsembleRef>() {
        return Ok(NefObj::from(e.get().id));
    }
    if let Ok(n) = obj.downcast::<NodeRef>() {
        return Ok(NefObj::from(n.get().id));
    }
    if let Ok(o) = obj.downcast::<ObjRef>() {
        return Ok(o.get().obj.clone());
    }
    if let Ok(r) = obj.downcast::<RuleRef>() {
        return Ok(NefObj::from(r.get().id));
    }
    Err(PyTypeError::new_err(format!(
        "expected an ensemble, node, slice, neurons or learning rule; got {}",
        obj.get_type().name()?
    )))
}

fn vec_result(
    py: Python<'_>,
    r: PyResult<Bound<'_, PyAny>>,
    n: usize,
    what: &str,
    errors: &CallbackError,
) -> Vec<f64> {
    match r.and_then(|v| convert::vec_f64(&v)) {
        Ok(v) if v.len() == n => v,
        Ok(v) => {
            errors.set(PyValueError::new_err(format!(
                "{what} returned {} values; expected {n}",
                v.len()
            )));
            vec![0.0; n]
        }
        Err(e) => {
            let _ = py;
            errors.set(e);
            vec![0.0; n]
        }
    }
}

/// A NEF model as Nengo describes one: ensembles, nodes, connections, learning rules, probes.
#[pyclass(module = "lamina._lamina", unsendable)]
pub struct NefNetwork {
    pub net: lamina::prelude::NefNetwork,
    pub errors: CallbackError,
}

#[pymethods]
impl NefNetwork {
    #[new]
    #[pyo3(signature = (seed=None, dt=0.001))]
    fn new(seed: Option<u64>, dt: f64) -> Self {
        let mut net = lamina::prelude::NefNetwork::new().with_dt(dt);
        if let Some(s) = seed {
            net = net.with_seed(s);
        }
        NefNetwork {
            net,
            errors: CallbackError::default(),
        }
    }

    #[getter]
    fn dt(&self) -> f64 {
        self.net.dt()
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.net.seed()
    }

    #[pyo3(signature = (name, n_neurons, dimensions, radius=1.0, neuron=None, max_rates=None,
        intercepts=None, encoders=None, eval_points=None, n_eval_points=None, gain=None,
        bias=None, initial_voltage=None))]
    #[allow(clippy::too_many_arguments)]
    fn ensemble(
        &mut self,
        name: &str,
        n_neurons: usize,
        dimensions: usize,
        radius: f64,
        neuron: Option<&Bound<'_, PyAny>>,
        max_rates: Option<&Bound<'_, PyAny>>,
        intercepts: Option<&Bound<'_, PyAny>>,
        encoders: Option<&Bound<'_, PyAny>>,
        eval_points: Option<&Bound<'_, PyAny>>,
        n_eval_points: Option<usize>,
        gain: Option<&Bound<'_, PyAny>>,
        bias: Option<&Bound<'_, PyAny>>,
        initial_voltage: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<EnsembleRef> {
        let mut e = Ensemble::new(n_neurons, dimensions).radius(radius);
        if let Some(n) = neuron {
            e = e.neuron(convert::nef_neuron(n)?);
        }
        if let Some(d) = max_rates {
            e = e.max_rates(convert::nef_dist(d)?);
        }
        if let Some(d) = intercepts {
            e = e.intercepts(convert::nef_dist(d)?);
        }
        if let Some(d) = encoders {
            e = e.encoders(convert::nef_dist(d)?);
        }
        if let Some(d) = eval_points {
            e = e.eval_points(convert::nef_dist(d)?);
        }
        if let Some(n) = n_eval_points {
            e = e.n_eval_points(n);
        }
        match (gain, bias) {
            (Some(g), Some(b)) => e = e.gain_bias(convert::vec_f64(g)?, convert::vec_f64(b)?),
            (None, None) => {}
            _ => return Err(PyValueError::new_err("give both gain and bias, or neither")),
        }
        if let Some(d) = initial_voltage {
            e = e.initial_voltage(convert::nef_dist(d)?);
        }
        let id = self.net.ensemble(name, e).py()?;
        Ok(EnsembleRef {
            id,
            name: name.to_string(),
            n_neurons,
            dimensions,
        })
    }

    /// `output`: None (a passthrough of `size_in`), an array (constant), or a callable of `t`
    /// (`size_in == 0`, evaluated ahead of the simulation) or of `(t, x)` (called every step).
    #[pyo3(signature = (name, output=None, size_in=0, size_out=None))]
    fn node(
        &mut self,
        name: &str,
        output: Option<&Bound<'_, PyAny>>,
        size_in: usize,
        size_out: Option<usize>,
    ) -> PyResult<NodeRef> {
        let node = match output {
            None => Node::passthrough(size_in),
            Some(f) if f.is_callable() => {
                let size_out = size_out.ok_or_else(|| {
                    PyValueError::new_err("a node with a function needs size_out")
                })?;
                let f: Py<PyAny> = f.clone().unbind();
                let errors = self.errors.clone();
                let what = format!("node `{name}`");
                if size_in == 0 {
                    Node::function(size_out, move |t| {
                        Python::with_gil(|py| {
                            vec_result(py, f.bind(py).call1((t,)), size_out, &what, &errors)
                        })
                    })
                } else {
                    Node::callback(size_in, size_out, move |t, x| {
                        Python::with_gil(|py| {
                            let x = PyArray1::from_slice(py, x);
                            vec_result(py, f.bind(py).call1((t, x)), size_out, &what, &errors)
                        })
                    })
                }
            }
            Some(values) => Node::constant(&convert::vec_f64(values)?),
        };
        let (si, so) = (node.size_in(), node.size_out());
        let id = self.net.node(name, node).py()?;
        Ok(NodeRef {
            id,
            name: name.to_string(),
            size_in: si,
            size_out: so,
        })
    }

    /// `function`: `(size_out, callable of x)`; `transform`: a float or a 2-D array;
    /// `synapse`: None or a synapse spec; `solver`: a solver spec.
    #[pyo3(signature = (pre, post, function=None, transform=None, synapse=Some(("lowpass".to_string(), 0.005)), solver=None, eval_points=None))]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        &mut self,
        py: Python<'_>,
        pre: &Bound<'_, PyAny>,
        post: &Bound<'_, PyAny>,
        function: Option<(usize, Py<PyAny>)>,
        transform: Option<&Bound<'_, PyAny>>,
        synapse: Option<(String, f64)>,
        solver: Option<&Bound<'_, PyAny>>,
        eval_points: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ConnectionRef> {
        let mut c = Connection::new();
        if let Some((n, f)) = function {
            let errors = self.errors.clone();
            c = c.function(n, move |x| {
                Python::with_gil(|py| {
                    let xa = PyArray1::from_slice(py, x);
                    vec_result(
                        py,
                        f.bind(py).call1((xa,)),
                        n,
                        "connection function",
                        &errors,
                    )
                })
            });
        }
        if let Some(t) = transform {
            // An array first: numpy deprecates reading a 1x1 array as a float.
            if let Ok(m) = convert::array2(t) {
                c = c.transform(m);
            } else {
                c = c.scale(t.extract::<f64>()?);
            }
        }
        let syn = match synapse {
            None => Synapse::None,
            Some((kind, tau)) => {
                let spec = (kind, tau).into_pyobject(py)?;
                convert::synapse(spec.as_any())?
            }
        };
        c = c.synapse(syn);
        if let Some(s) = solver {
            c = c.solver(convert::solver(s)?);
        }
        if let Some(ep) = eval_points {
            c = c.eval_points(convert::array2(ep)?);
        }
        let id = self.net.connect(nef_obj(pre)?, nef_obj(post)?, c).py()?;
        Ok(ConnectionRef { id })
    }

    /// PES on `conn`; connect the error into the returned rule.
    #[pyo3(signature = (conn, learning_rate=1e-4, pre_synapse=Some(("lowpass".to_string(), 0.005))))]
    fn pes(
        &mut self,
        py: Python<'_>,
        conn: &ConnectionRef,
        learning_rate: f64,
        pre_synapse: Option<(String, f64)>,
    ) -> PyResult<RuleRef> {
        let syn = match pre_synapse {
            None => Synapse::None,
            Some(s) => convert::synapse(s.into_pyobject(py)?.as_any())?,
        };
        let id = self
            .net
            .pes(conn.id, Pes::new(learning_rate).pre_synapse(syn))
            .py()?;
        Ok(RuleRef { id })
    }

    /// A built-in plastic synapse model on `conn`: `"stdp"` or `"memristor"`, with its
    /// parameters as keyword arguments.
    #[pyo3(signature = (conn, model, **params))]
    fn learn(
        &mut self,
        conn: &ConnectionRef,
        model: &str,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<RuleRef> {
        let m = synapse_models::builtin(model, params)?;
        let id = self.net.learn(conn.id, m).py()?;
        Ok(RuleRef { id })
    }

    /// A user-defined plastic synapse model on `conn` (WGSL snippets run over every synapse
    /// of its weight matrix): per-rule parameters, per-synapse state (a number or
    /// `("uniform", low, high)`), pre and post spike traces, and the `on_pre`, `on_post` and
    /// `per_step` snippets. Checked here by naga; runs on a GPU adapter only.
    #[pyo3(signature = (conn, name, params=Vec::new(), states=Vec::new(), pre_traces=Vec::new(),
        post_traces=Vec::new(), on_pre=None, on_post=None, per_step=None))]
    #[allow(clippy::too_many_arguments)]
    fn learn_model(
        &mut self,
        conn: &ConnectionRef,
        name: &str,
        params: Vec<(String, f64)>,
        states: Vec<(String, Bound<'_, PyAny>)>,
        pre_traces: Vec<(String, f64)>,
        post_traces: Vec<(String, f64)>,
        on_pre: Option<&str>,
        on_post: Option<&str>,
        per_step: Option<&str>,
    ) -> PyResult<RuleRef> {
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
        let id = self.net.learn(conn.id, m).py()?;
        Ok(RuleRef { id })
    }

    /// Records the decoded value of an ensemble, a node's output or neuron activities.
    #[pyo3(signature = (target, synapse=None, sample_every=None))]
    fn probe(
        &mut self,
        py: Python<'_>,
        target: &Bound<'_, PyAny>,
        synapse: Option<(String, f64)>,
        sample_every: Option<f64>,
    ) -> PyResult<ProbeRef> {
        let p = probe_spec(py, synapse, sample_every)?;
        let id = self.net.probe(nef_obj(target)?, p).py()?;
        Ok(ProbeRef { id })
    }

    /// Records the membrane voltages of an ensemble's neurons.
    #[pyo3(signature = (ens, synapse=None, sample_every=None))]
    fn probe_voltage(
        &mut self,
        py: Python<'_>,
        ens: &EnsembleRef,
        synapse: Option<(String, f64)>,
        sample_every: Option<f64>,
    ) -> PyResult<ProbeRef> {
        let p = probe_spec(py, synapse, sample_every)?;
        let id = self.net.probe_voltage(ens.id, p).py()?;
        Ok(ProbeRef { id })
    }

    /// Records a connection's weights (flattened, row-major, one row per sample).
    #[pyo3(signature = (conn, synapse=None, sample_every=None))]
    fn probe_weights(
        &mut self,
        py: Python<'_>,
        conn: &ConnectionRef,
        synapse: Option<(String, f64)>,
        sample_every: Option<f64>,
    ) -> PyResult<ProbeRef> {
        let p = probe_spec(py, synapse, sample_every)?;
        let id = self.net.probe_weights(conn.id, p).py()?;
        Ok(ProbeRef { id })
    }
}

fn probe_spec(
    py: Python<'_>,
    synapse: Option<(String, f64)>,
    sample_every: Option<f64>,
) -> PyResult<Probe> {
    let mut p = Probe::new();
    if let Some(s) = synapse {
        p = p.synapse(convert::synapse(s.into_pyobject(py)?.as_any())?);
    }
    if let Some(s) = sample_every {
        p = p.sample_every(s);
    }
    Ok(p)
}

/// Two arrays, as `tuning_curves` returns them.
type Pair<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<f64>>);

/// Runs a `NefNetwork` on a GPU or on the CPU twin.
#[pyclass(module = "lamina._lamina", unsendable)]
pub struct NefSimulator {
    sim: lamina::prelude::NefSimulator,
    errors: CallbackError,
}

impl NefSimulator {
    fn after<T>(&self, r: lamina::Result<T>) -> PyResult<T> {
        // A Python callback's exception explains a failure better than what followed it.
        self.errors.check()?;
        r.py()
    }
}

#[pymethods]
impl NefSimulator {
    #[new]
    #[pyo3(signature = (net, backend="auto"))]
    fn new(net: &NefNetwork, backend: &str) -> PyResult<Self> {
        let choice = convert::backend(backend)?;
        let r = lamina::prelude::NefSimulator::new(&net.net, choice);
        net.errors.check()?;
        Ok(NefSimulator {
            sim: r.py()?,
            errors: net.errors.clone(),
        })
    }

    /// Builds `net` and loads the checkpoint at `path` into it.
    #[staticmethod]
    #[pyo3(signature = (net, path, backend="auto"))]
    fn resume(net: &NefNetwork, path: &str, backend: &str) -> PyResult<Self> {
        let choice = convert::backend(backend)?;
        let r = lamina::prelude::NefSimulator::resume(&net.net, choice, path);
        net.errors.check()?;
        Ok(NefSimulator {
            sim: r.py()?,
            errors: net.errors.clone(),
        })
    }

    fn run(&mut self, seconds: f64) -> PyResult<()> {
        let r = self.sim.run(seconds);
        self.after(r)
    }

    fn run_steps(&mut self, steps: u64) -> PyResult<()> {
        let r = self.sim.run_steps(steps);
        self.after(r)
    }

    fn reset(&mut self) -> PyResult<()> {
        let r = self.sim.reset();
        self.after(r)
    }

    #[getter]
    fn dt(&self) -> f64 {
        self.sim.dt()
    }

    #[getter]
    fn n_steps(&self) -> u64 {
        self.sim.n_steps()
    }

    #[getter]
    fn time(&self) -> f64 {
        self.sim.time()
    }

    /// Every sample of a probe so far, samples x dimensions (float32).
    fn data<'py>(&self, py: Python<'py>, probe: &ProbeRef) -> PyResult<Bound<'py, PyArray2<f32>>> {
        Ok(self.sim.data(probe.id).py()?.into_pyarray(py))
    }

    /// The times of a probe's samples, seconds.
    fn trange<'py>(
        &self,
        py: Python<'py>,
        probe: &ProbeRef,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self.sim.trange(probe.id).py()?.into_pyarray(py))
    }

    /// A probe's last sample.
    fn latest<'py>(
        &self,
        py: Python<'py>,
        probe: &ProbeRef,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(PyArray1::from_slice(py, self.sim.latest(probe.id).py()?))
    }

    /// A connection's weights now: decoders with the transform folded in (size_out x pre
    /// neurons), or the post x pre matrix.
    fn weights<'py>(
        &mut self,
        py: Python<'py>,
        conn: &ConnectionRef,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        Ok(self.sim.weights(conn.id).py()?.into_pyarray(py))
    }

    fn set_weights(
        &mut self,
        conn: &ConnectionRef,
        weights: PyReadonlyArray2<f64>,
    ) -> PyResult<()> {
        let w = weights.as_array().to_owned();
        self.sim.set_weights(conn.id, &w).py()
    }

    fn set_weights_block(
        &mut self,
        conn: &ConnectionRef,
        row: usize,
        col: usize,
        block: PyReadonlyArray2<f64>,
    ) -> PyResult<()> {
        let b = block.as_array().to_owned();
        self.sim.set_weights_block(conn.id, (row, col), &b).py()
    }

    /// Any connection into neurons as post x pre currents (encoders and gains folded in).
    fn full_weights<'py>(
        &mut self,
        py: Python<'py>,
        conn: &ConnectionRef,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        Ok(self.sim.full_weights(conn.id).py()?.into_pyarray(py))
    }

    fn bias<'py>(
        &mut self,
        py: Python<'py>,
        ens: &EnsembleRef,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(self.sim.bias(ens.id).py()?.into_pyarray(py))
    }

    fn set_bias(&mut self, ens: &EnsembleRef, bias: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = convert::vec_f64(bias)?;
        self.sim.set_bias(ens.id, &b).py()
    }

    fn encoders<'py>(
        &mut self,
        py: Python<'py>,
        ens: &EnsembleRef,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        Ok(self.sim.encoders(ens.id).py()?.into_pyarray(py))
    }

    fn set_encoders(&mut self, ens: &EnsembleRef, encoders: PyReadonlyArray2<f64>) -> PyResult<()> {
        let e = encoders.as_array().to_owned();
        self.sim.set_encoders(ens.id, &e).py()
    }

    /// The activities of an ensemble's neurons at the last step.
    fn activities<'py>(
        &mut self,
        py: Python<'py>,
        ens: &EnsembleRef,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(self.sim.activities(ens.id).py()?.into_pyarray(py))
    }

    /// Silences neurons: they output nothing and teach nothing.
    fn ablate(&mut self, ens: &EnsembleRef, neurons: Vec<usize>) -> PyResult<()> {
        self.sim.ablate(ens.id, &neurons).py()
    }

    fn restore(&mut self, ens: &EnsembleRef, neurons: Vec<usize>) -> PyResult<()> {
        self.sim.restore(ens.id, &neurons).py()
    }

    /// Cuts synapses of one connection: every synapse into `post` neurons, from `pre`
    /// neurons, or where the post x pre boolean `mask` is true (exactly one of them).
    #[pyo3(signature = (conn, post=None, pre=None, mask=None))]
    fn lesion(
        &mut self,
        conn: &ConnectionRef,
        post: Option<Vec<usize>>,
        pre: Option<Vec<usize>>,
        mask: Option<numpy::PyReadonlyArray2<bool>>,
    ) -> PyResult<()> {
        let r = match (post, pre, mask) {
            (Some(p), None, None) => self.sim.lesion_connection(conn.id, Lesion::Post(&p)),
            (None, Some(p), None) => self.sim.lesion_connection(conn.id, Lesion::Pre(&p)),
            (None, None, Some(m)) => {
                let m: Array2<bool> = m.as_array().to_owned();
                self.sim.lesion_connection(conn.id, Lesion::Synapses(&m))
            }
            _ => {
                return Err(PyValueError::new_err(
                    "lesion takes exactly one of post=, pre= or mask=",
                ))
            }
        };
        r.py()
    }

    fn restore_synapses(&mut self, conn: &ConnectionRef) -> PyResult<()> {
        self.sim.restore_connection(conn.id).py()
    }

    /// The post x pre mask of cut synapses, or None when the connection has no lesion.
    fn lesion_mask<'py>(
        &self,
        py: Python<'py>,
        conn: &ConnectionRef,
    ) -> PyResult<Option<Bound<'py, PyArray2<bool>>>> {
        Ok(self
            .sim
            .lesion_mask(conn.id)
            .py()?
            .map(|m| m.into_pyarray(py)))
    }

    fn save_weights(&mut self, path: &str) -> PyResult<()> {
        self.sim.save_weights(path).py()
    }

    fn load_weights(&mut self, path: &str) -> PyResult<()> {
        self.sim.load_weights(path).py()
    }

    fn checkpoint(&mut self, path: &str) -> PyResult<()> {
        self.sim.checkpoint(path).py()
    }

    fn load_checkpoint(&mut self, path: &str) -> PyResult<()> {
        self.sim.load_checkpoint(path).py()
    }

    /// (inputs, rates) as `nengo.utils.ensemble.tuning_curves`.
    #[pyo3(signature = (ens, inputs=None))]
    fn tuning_curves<'py>(
        &self,
        py: Python<'py>,
        ens: &EnsembleRef,
        inputs: Option<PyReadonlyArray2<f64>>,
    ) -> PyResult<Pair<'py>> {
        let inputs = inputs.map(|a| a.as_array().to_owned());
        let (x, r) = self.sim.tuning_curves(ens.id, inputs).py()?;
        Ok((x.into_pyarray(py), r.into_pyarray(py)))
    }

    /// An ensemble as built: gain, bias, encoders, scaled_encoders, eval_points, max_rates,
    /// intercepts, radius.
    fn ensemble_params<'py>(
        &self,
        py: Python<'py>,
        ens: &EnsembleRef,
    ) -> PyResult<Bound<'py, PyDict>> {
        let b = self.sim.ensemble(ens.id).py()?;
        let d = PyDict::new(py);
        d.set_item("gain", PyArray1::from_slice(py, &b.gain))?;
        d.set_item("bias", PyArray1::from_slice(py, &b.bias))?;
        d.set_item("encoders", b.encoders.clone().into_pyarray(py))?;
        d.set_item(
            "scaled_encoders",
            b.scaled_encoders.clone().into_pyarray(py),
        )?;
        d.set_item("eval_points", b.eval_points.clone().into_pyarray(py))?;
        d.set_item("max_rates", PyArray1::from_slice(py, &b.max_rates))?;
        d.set_item("intercepts", PyArray1::from_slice(py, &b.intercepts))?;
        d.set_item("radius", b.radius)?;
        d.set_item("neuron", b.neuron.name())?;
        Ok(d)
    }

    /// A connection as built: its decoders (before the transform) and, for sign-constrained
    /// solvers, which pre neurons are excitatory.
    fn connection_params<'py>(
        &self,
        py: Python<'py>,
        conn: &ConnectionRef,
    ) -> PyResult<Bound<'py, PyDict>> {
        let c = self
            .sim
            .nef_plan()
            .built_connections
            .get(conn.id.index())
            .ok_or_else(|| PyValueError::new_err("connection of another network"))?;
        let d = PyDict::new(py);
        d.set_item("rows", c.rows)?;
        d.set_item("cols", c.cols)?;
        d.set_item("pre_neurons", c.pre_neurons)?;
        d.set_item("decoders", c.decoders.clone().map(|a| a.into_pyarray(py)))?;
        d.set_item("excitatory", c.excitatory.clone())?;
        Ok(d)
    }

    fn rule_state<'py>(
        &mut self,
        py: Python<'py>,
        rule: &RuleRef,
        var: &str,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        Ok(self.sim.rule_state(rule.id, var).py()?.into_pyarray(py))
    }

    fn set_rule_state(
        &mut self,
        rule: &RuleRef,
        var: &str,
        values: PyReadonlyArray2<f64>,
    ) -> PyResult<()> {
        let v = values.as_array().to_owned();
        self.sim.set_rule_state(rule.id, var, &v).py()
    }

    fn rule_param(&mut self, rule: &RuleRef, name: &str) -> PyResult<f32> {
        self.sim.rule_param(rule.id, name).py()
    }

    fn set_rule_param(&mut self, rule: &RuleRef, name: &str, value: f64) -> PyResult<()> {
        self.sim.set_rule_param(rule.id, name, value).py()
    }

    /// Whether each chunk of steps is scanned for NaN and infinity.
    #[getter]
    fn get_health_check(&self) -> bool {
        self.sim.health_check()
    }

    #[setter]
    fn set_health_check(&mut self, on: bool) {
        self.sim.set_health_check(on);
    }

    /// The adapter (or CPU twin) running the model, and why `auto` chose it.
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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<EnsembleRef>()?;
    m.add_class::<NodeRef>()?;
    m.add_class::<ObjRef>()?;
    m.add_class::<ConnectionRef>()?;
    m.add_class::<RuleRef>()?;
    m.add_class::<ProbeRef>()?;
    m.add_class::<NefNetwork>()?;
    m.add_class::<NefSimulator>()?;
    Ok(())
}
