"""A Nengo backend: ``lamina.nengo.Simulator`` runs an unchanged ``nengo.Network`` in lamina.

Parameters are built by Nengo's own builder (``nengo.builder.Model``), so gains, biases,
encoders, evaluation points, initial voltages, decoders and weights are exactly the ones
``nengo.Simulator`` would use, with the same solvers and seeds. They are handed to lamina as
explicit arrays, and every step then runs in lamina (on a GPU, or on its CPU twin):

- an ensemble becomes a lamina ensemble with Nengo's gains, biases, encoders and initial
  voltages;
- a decoded connection becomes a connection from the pre ensemble's neurons whose weights are
  Nengo's decoders with the transform folded in; a weight-solver connection becomes a lamina
  weight connection loaded with Nengo's post x pre matrix; slices become rows and columns of
  a dense matrix;
- a Direct-mode ensemble is a passthrough node, its connections' functions computed on the
  host within the step, as Nengo computes them;
- a Convolution or ConvolutionTranspose transform runs as the dense matrix of the same linear
  map, computed with Nengo's own convolution operator;
- nodes with Python functions run on the host (a function of ``t`` ahead of the steps, a
  function of ``(t, x)`` every step); constant nodes never leave the device;
- a probe of an ensemble's decoded output is Nengo's probe connection (its decoders and
  synapse) into a passthrough node that lamina records;
- PES runs in lamina, on the device.

What lamina cannot run is refused with a ``nengo.exceptions.BuildError`` naming the feature
(see ``UNSUPPORTED``).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

try:
    import nengo
except ImportError as e:  # pragma: no cover
    raise ImportError("lamina.nengo needs Nengo 4: pip install 'nengo>=4,<4.2' (or "
                      "pip install './python[nengo]')") from e
from nengo.builder import Model
from nengo.cache import NoDecoderCache
from nengo.connection import Connection, LearningRule
from nengo.ensemble import Ensemble, Neurons
from nengo.exceptions import (
    BuildError,
    ReadonlyError,
    SimulatorClosed,
    ValidationError,
)
from nengo.node import Node
from nengo.builder.transforms import GeneralConvInc
from nengo.processes import Process
from nengo.utils.numpy import maxint
from nengo.utils.progress import Progress, ProgressTracker

from . import _api as lam

__all__ = ["Simulator", "UNSUPPORTED"]

#: Nengo features this backend refuses, and why (each raises a BuildError naming it).
UNSUPPORTED = {
    "neuron types": "LIF, LIFRate, RectifiedLinear, SpikingRectifiedLinear and Izhikevich run "
    "in lamina, and Direct mode on the host (no Sigmoid, Tanh, AdaptiveLIF, RegularSpiking, "
    "PoissonSpiking, StochasticSpiking)",
    "ensemble noise": "Ensemble.noise (a process added to the neurons' input) has no lamina "
    "counterpart",
    "synapses": "only Lowpass and Alpha filters (and None); other LinearFilters, Triangle "
    "and user synapses are not in lamina",
    "learning rules": "only PES runs in lamina; BCM, Oja, Voja, RLS are not supported",
    "transforms": "Dense and NoTransform; Sparse, Convolution and ConvolutionTranspose run as "
    "the dense matrix of the same map (no learning on them, no probe of a kernel)",
    "probes": "ensemble input, scaled_encoders, neuron input, refractory_time, connection "
    "input and learning-rule signals cannot be probed",
}

_NEURONS = {
    nengo.LIF: lambda n: lam.LIF(n.tau_rc, n.tau_ref, n.min_voltage, n.amplitude),
    nengo.LIFRate: lambda n: lam.LIFRate(n.tau_rc, n.tau_ref, n.amplitude),
    nengo.RectifiedLinear: lambda n: lam.RectifiedLinear(n.amplitude),
    nengo.SpikingRectifiedLinear: lambda n: lam.SpikingRectifiedLinear(n.amplitude),
    nengo.Izhikevich: lambda n: lam.Izhikevich(n.tau_recovery, n.coupling, n.reset_voltage,
                                               n.reset_recovery),
}


def _unsupported(what, obj):
    return BuildError(f"lamina does not support {what} ({obj})")


def _synapse(syn, obj):
    if syn is None:
        return None
    if type(syn) is nengo.Lowpass:
        return lam.Lowpass(syn.tau)
    if type(syn) is nengo.Alpha:
        return lam.Alpha(syn.tau)
    raise _unsupported(f"the synapse {type(syn).__name__} (only Lowpass, Alpha or None)", obj)


def _indices(sl, size):
    """The element indices a Nengo slice (slice, list, array) selects from ``size``."""
    if sl is None or (isinstance(sl, slice) and sl == slice(None)):
        return np.arange(size)
    return np.arange(size)[sl].ravel()


def _weights_2d(w, rows, cols):
    """Nengo's weights signal (scalar, elementwise or matrix) as a rows x cols matrix."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 0:
        return w * np.eye(rows, cols)
    if w.ndim == 1:
        return np.diag(w)
    return w


def _contiguous(idx):
    """(start, stop) when ``idx`` is a contiguous increasing range, else None."""
    if len(idx) and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
        return int(idx[0]), int(idx[0]) + len(idx)
    return None


def _scatter(w, row_idx, n_rows, col_idx, n_cols):
    full = np.zeros((n_rows, n_cols))
    np.add.at(full, (row_idx[:, None], col_idx[None, :]), w)
    return full


class _ProcessStep:
    """A Nengo process run on the host as a node function, rebuilt on reset."""

    def __init__(self, process, size_in, size_out, dt, seed):
        self.process, self.size_in, self.size_out, self.dt = process, size_in, size_out, dt
        self.reset(seed)

    def reset(self, seed):
        rng = self.process.get_rng(np.random.RandomState(seed))
        shape_in, shape_out = (self.size_in,), (self.size_out,)
        state = self.process.make_state(shape_in, shape_out, self.dt)
        self.step = self.process.make_step(shape_in, shape_out, self.dt, rng, state)

    def __call__(self, t, x=None):
        out = self.step(t) if self.size_in == 0 else self.step(t, x)
        # A step that returns nothing is a sink: Nengo writes NaN into an output no one reads,
        # lamina needs finite values, so it outputs zeros.
        return np.zeros(self.size_out) if out is None else out


class _NodeFn:
    """A Nengo node's function with Nengo's calling convention and output checks."""

    def __init__(self, node, size_out, dt, sink=None):
        self.node, self.size_out, self.dt = node, size_out, dt
        # A node with no output (size_out 0) still runs its function every step.
        self.sink = node.size_out == 0 if sink is None else sink

    def __call__(self, t, x=None):
        # Nengo calls node functions at exactly n * dt.
        t = round(t / self.dt) * self.dt
        out = self.node.output(t) if self.node.size_in == 0 else self.node.output(t, x.copy())
        if self.sink:
            return np.zeros(1)
        try:
            out = np.asarray(out, dtype=np.float64).ravel()
        except (TypeError, ValueError) as e:
            raise nengo.exceptions.SimulationError(
                f"{self.node}: function output {out!r} is not numeric") from e
        if not np.all(np.isfinite(out)):
            raise nengo.exceptions.SimulationError(
                f"{self.node}: function output {out} is not finite")
        if out.size != self.size_out:
            raise nengo.exceptions.SimulationError(
                f"{self.node}: function returned {out.size} values; expected {self.size_out}"
            )
        return out


class _ConnMap:
    """How a Nengo connection lives in lamina: the lamina connection, and which of its rows
    and columns hold Nengo's weight matrix."""

    def __init__(self, lam_conn, rows, cols, lam_shape, weights=None, gain=None):
        self.lam_conn, self.rows, self.cols, self.lam_shape = lam_conn, rows, cols, lam_shape
        self.weights = weights  # written after the build (weight-solver connections)
        # Post gains lamina multiplies in and Nengo's matrix already holds (sliced weight
        # solvers): weights read and written through the backend are scaled by them.
        self.gain = gain
        self.ndim = 2


class SimData:
    """``sim.data``: probe data as numpy arrays, and Nengo's built parameters of every other
    object (``sim.data[ens].gain``, ``sim.data[conn].weights``)."""

    def __init__(self, sim):
        self._sim = sim

    def __getitem__(self, key):
        if isinstance(key, nengo.Probe):
            return self._sim._probe_data(key)
        return self._sim.model.params[key]

    def __contains__(self, key):
        return key in self._sim._probes or key in self._sim.model.params

    def __iter__(self):
        return iter(self._sim.model.params)

    def __len__(self):
        return len(self._sim.model.params)

    def keys(self):
        return self._sim.model.params.keys()

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key, value):
        raise ReadonlyError(attr="data", obj=self._sim)


class Simulator:
    """Runs a ``nengo.Network`` in lamina, with Nengo's simulator interface.

    Parameters
    ----------
    network : nengo.Network
        The model, unchanged.
    dt : float
        Time step in seconds.
    seed : int, optional
        Seed of the processes' random numbers (the network's parameters follow the network's
        and its objects' seeds, as in Nengo).
    model : nengo.builder.Model, optional
        A model to build into, as ``nengo.Simulator`` takes.
    progress_bar : bool
        Accepted for compatibility; lamina runs without a progress bar here.
    backend : str
        ``"auto"`` (a hardware GPU, else lamina's CPU twin), ``"gpu"`` or ``"cpu"``.
    """

    unsupported = UNSUPPORTED

    def __init__(self, network, dt=0.001, seed=None, model=None, progress_bar=True,
                 optimize=True, backend="auto"):
        self.closed = True
        self._lam_sim = None
        dt = float(dt)
        if model is None:
            model = Model(dt=dt, label=f"{network}, dt={dt:f}", decoder_cache=NoDecoderCache())
        self.model = model
        self.progress_bar = progress_bar
        with ProgressTracker(progress_bar, Progress("Building", "Build")) as pt:
            if network is not None:
                self.model.build(network, progress=pt.next_stage("Building", "Build"))
        if seed is None:
            if network is not None and network.seed is not None:
                seed = network.seed + 1
            else:
                seed = np.random.randint(maxint)
        self.seed = seed
        self.backend = backend
        self.data = SimData(self)
        self._probes = []
        self._translate(network)
        try:
            self._lam_sim = lam.NefSimulator(self._net, backend=backend)
        except lam.LaminaError as e:
            raise BuildError(f"lamina could not build the network: {e}") from e
        self._write_weights()
        self._offsets = {}
        self.closed = False

    # ----------------------------------------------------------------------------------------
    # Translation

    def _translate(self, network):
        self._net = lam.NefNetwork(seed=int(self.seed) % (2**63), dt=self.model.dt)
        self._ens, self._nodes, self._conns, self._rules = {}, {}, {}, {}
        self._probe_map, self._processes = {}, []
        self._n = 0
        if network is None:
            return
        for ens in network.all_ensembles:
            self._add_ensemble(ens)
        for node in network.all_nodes:
            self._add_node(node)
        # Probes of a connection's output: built with the connection (a copy of its weights
        # and synapse into a passthrough node), so they read what the connection delivers.
        self._output_probes = {}
        for p in network.all_probes:
            if isinstance(p.obj, Connection) and p.attr == "output":
                self._output_probes.setdefault(p.obj, []).append(p)
        conns = list(network.all_connections)
        into_rules = [c for c in conns if isinstance(c.post_obj, LearningRule)]
        for c in conns:
            if not isinstance(c.post_obj, LearningRule):
                self._add_connection(c)
        for c in into_rules:
            self._add_connection(c)
        for p in network.all_probes:
            self._add_probe(p)

    def _name(self, obj, kind):
        self._n += 1
        return f"{kind}{self._n}"

    def _add_ensemble(self, ens):
        nt = ens.neuron_type
        if type(nt) is nengo.Direct:
            if ens.noise is not None:
                raise _unsupported("ensemble noise", ens)
            self._ens[ens] = self._net.node(self._name(ens, "direct"), None,
                                            size_in=ens.dimensions)
            return
        make = _NEURONS.get(type(nt))
        if make is None:
            raise _unsupported(f"the neuron type {type(nt).__name__}", ens)
        if ens.noise is not None:
            raise _unsupported("ensemble noise", ens)
        built = self.model.params[ens]
        enc = np.asarray(built.encoders, dtype=np.float64)
        norms = np.linalg.norm(enc, axis=1)
        if not np.allclose(norms, 1.0, atol=1e-6):
            raise _unsupported("encoders that are not unit length (normalize_encoders=False)", ens)
        volt = self.model.sig[ens.neurons].get("voltage")
        init_v = None if volt is None else np.asarray(volt.initial_value, dtype=np.float64)
        ep = np.asarray(built.eval_points, dtype=np.float64)
        self._ens[ens] = self._net.ensemble(
            self._name(ens, "ens"), ens.n_neurons, ens.dimensions, radius=ens.radius,
            neuron_type=make(nt), encoders=enc, eval_points=ep / ens.radius,
            n_eval_points=ep.shape[0], gain=built.gain, bias=built.bias,
            initial_voltage=init_v)

    def _add_node(self, node):
        out = node.output
        name = self._name(node, "node")
        if out is None:
            self._nodes[node] = self._net.node(name, None, size_in=node.size_in)
        elif isinstance(out, Process):
            step = _ProcessStep(out, node.size_in, node.size_out, self.model.dt,
                                self._process_seed(node))
            self._processes.append((node, step))
            size_out = max(node.size_out, 1)
            fn = _NodeFn(nengo.Node(step, size_in=node.size_in, size_out=node.size_out,
                                    add_to_container=False), size_out, self.model.dt,
                         sink=node.size_out == 0)
            self._nodes[node] = self._net.node(name, fn, size_in=node.size_in,
                                               size_out=size_out)
        elif callable(out):
            size_out = max(node.size_out, 1)
            self._nodes[node] = self._net.node(name, _NodeFn(node, size_out, self.model.dt),
                                               size_in=node.size_in, size_out=size_out)
        else:
            self._nodes[node] = self._net.node(name, np.asarray(out, dtype=np.float64))

    def _process_seed(self, node):
        return (int(self.seed) + self.model.seeds.get(node, 0)) % maxint

    def _source(self, c):
        """The lamina source of a connection, its size, and the columns Nengo's weights use."""
        pre = c.pre_obj
        direct = isinstance(pre, Ensemble) and isinstance(pre.neuron_type, nengo.Direct)
        if isinstance(pre, Ensemble) and not direct:
            return self._ens[pre].neurons, pre.n_neurons, np.arange(pre.n_neurons)
        if isinstance(pre, Neurons):
            n = pre.ensemble.n_neurons
            return self._ens[pre.ensemble].neurons, n, _indices(c.pre_slice, n)
        if isinstance(pre, Node) or direct:
            # A Direct-mode ensemble is a passthrough node: Nengo computes its connections'
            # functions on the host, on its input of the same step.
            if direct:
                src, n = self._ens[pre], pre.dimensions
            else:
                src, n = self._nodes[pre], pre.size_out
            cols = _indices(c.pre_slice, n)
            if c.function is None:
                return src, n, cols
            if not callable(c.function):
                raise _unsupported("function points on a connection from a node or a "
                                   "Direct-mode ensemble", c)
            # Nengo applies the function on the host within the step: so does a callback
            # node fed without a filter.
            f = c.function
            size_mid = c.size_mid
            fnode = self._net.node(self._name(c, "fn"), lambda t, x: f(x),
                                   size_in=len(cols), size_out=size_mid)
            sel = _scatter(np.eye(len(cols)), np.arange(len(cols)), len(cols), cols, n)
            self._net.connect(src, fnode, transform=sel, synapse=None)
            return fnode, size_mid, np.arange(size_mid)
        raise _unsupported(f"connections from {type(pre).__name__}", c)

    def _target(self, c):
        post = c.post_obj
        if isinstance(post, Ensemble):
            return self._ens[post], post.dimensions, _indices(c.post_slice, post.dimensions)
        if isinstance(post, Neurons):
            n = post.ensemble.n_neurons
            return self._ens[post.ensemble].neurons, n, _indices(c.post_slice, n)
        if isinstance(post, Node):
            return self._nodes[post], post.size_in, _indices(c.post_slice, post.size_in)
        if isinstance(post, LearningRule):
            rule = self._rules.get(post)
            if rule is None:
                raise _unsupported(f"the learning rule {type(post.learning_rule_type).__name__}",
                                   post)
            return rule, post.size_in, _indices(c.post_slice, post.size_in)
        raise _unsupported(f"connections into {type(post).__name__}", c)

    def _add_connection(self, c):
        transform = c.transform
        conv = isinstance(transform, (nengo.Convolution, nengo.ConvolutionTranspose))
        if not conv and not isinstance(
                transform, (nengo.Dense, nengo.Sparse, nengo.transforms.NoTransform)):
            raise _unsupported(f"the transform {type(transform).__name__}", c)
        syn = _synapse(c.synapse, c)
        rules = c.learning_rule
        if rules is not None:
            rules = list(rules.values()) if isinstance(rules, dict) else (
                list(rules) if isinstance(rules, (list, tuple)) else [rules])
            for r in rules:
                if type(r.learning_rule_type) is not nengo.PES:
                    raise _unsupported(
                        f"the learning rule {type(r.learning_rule_type).__name__}", c)
            if len(rules) > 1:
                raise _unsupported("several learning rules on one connection", c)
        wsig = self.model.sig[c]["weights"]
        # NoTransform without decoders passes the signal through: weight 1.
        w = 1.0 if wsig is None else wsig.initial_value
        if conv:
            # lamina has no convolution kernel: the convolution runs as the dense matrix of
            # the same linear map, computed by Nengo's own convolution operator.
            w = self._dense_convolution(c)
        elif hasattr(w, "toarray"):  # a Sparse transform: lamina runs it dense
            w = w.toarray()
        w = np.asarray(w, dtype=np.float64)
        weight_solver = isinstance(c.pre_obj, Ensemble) and isinstance(c.post_obj, Ensemble) \
            and c.solver.weights
        lam_conn = None
        if weight_solver:
            lam_conn = self._weight_solver_connection(c, w, syn, bool(rules))
        if lam_conn is None:
            lam_conn = self._plain_connection(c, w, syn, bool(rules))
        if rules:
            r = rules[0]
            pes = r.learning_rule_type
            self._rules[r] = self._net.pes(lam_conn, learning_rate=pes.learning_rate,
                                           pre_synapse=_synapse(pes.pre_synapse, r))

    def _dense_convolution(self, c):
        ops = [op for op in self.model.operators
               if isinstance(op, GeneralConvInc) and op.conv is c.transform
               and op.W is self.model.sig[c]["weights"]]
        if len(ops) != 1:
            raise BuildError(f"{c}: Nengo's convolution operator was not found")
        op = ops[0]
        x, y = np.zeros(op.X.shape), np.zeros(op.Y.shape)
        kernel = np.asarray(op.W.initial_value, dtype=np.float64)
        try:
            step = op.make_step({op.W: kernel, op.X: x, op.Y: y}, self.model.dt, None)
        except NotImplementedError as e:
            raise _unsupported(f"this convolution ({e})", c) from e
        dense = np.zeros((y.size, x.size))
        for i in range(x.size):
            x[...] = 0.0
            x.flat[i] = 1.0
            y[...] = 0.0
            step()
            dense[:, i] = y.ravel()
        return dense

    def _plain_connection(self, c, w, syn, learning, src=None):
        """A connection whose weights Nengo built (decoders with the transform, or a
        transform): lamina's connection from neurons, a node or a function node, with those
        weights as its transform. Contiguous slices stay slices in lamina; others become
        rows and columns of a dense matrix."""
        if src is None:
            src, n_src, cols = self._source(c)
        else:
            src, n_src, cols = src
        tgt, n_tgt, rows = self._target(c)
        w2 = _weights_2d(w, len(rows), len(cols))
        if w2.shape != (len(rows), len(cols)):
            raise BuildError(f"{c}: weights of shape {w2.shape} do not match "
                             f"{len(rows)} targets x {len(cols)} sources")
        cr, rr = _contiguous(cols), _contiguous(rows)
        if learning and (cr is None or rr is None):
            raise _unsupported("PES on a connection with non-contiguous slices", c)
        if cr is not None and cr != (0, n_src):
            src, n_src, cols = src.slice(*cr), len(cols), np.arange(len(cols))
        if rr is not None and rr != (0, n_tgt) and hasattr(tgt, "slice"):
            # (A learning rule's error takes no slice: its rows are scattered instead.)
            tgt, n_tgt, rows = tgt.slice(*rr), len(rows), np.arange(len(rows))
        if cr is not None and rr is not None and w.ndim == 0 and n_src == n_tgt:
            transform = float(w)
        else:
            transform = _scatter(w2, rows, n_tgt, cols, n_src)
        lam_conn = self._net.connect(src, tgt, transform=transform, synapse=syn)
        self._conns[c] = _ConnMap(lam_conn, rows, cols, (n_tgt, n_src))
        for p in self._output_probes.get(c, []):
            if learning:
                raise _unsupported("probing the output of a learning connection", p)
            size = w2.shape[0]
            node = self._net.node(self._name(p, "out"), None, size_in=size)
            self._net.connect(src, node, synapse=syn,
                              transform=_scatter(w2, np.arange(size), size, cols, n_src))
            lp = self._net.probe(node, synapse=_synapse(p.synapse, p),
                                 sample_every=self._lam_every(p))
            self._probe_map[p] = (lp, p.slice, self._picked_period(p))
            self._probes.append(p)
        self._conns[c].ndim = w.ndim
        return lam_conn

    def _weight_solver_connection(self, c, w, syn, learning):
        """A connection whose solver found post x pre weights. Without slices: lamina's weight
        connection (``LstsqL2(weights=True)``, contiguous slices kept), loaded with Nengo's
        matrix once built, so that learning and lesions act on neuron weights as in Nengo.
        With other slices: a neurons -> neurons connection with the gains divided out (no
        learning)."""
        pre, post = c.pre_obj, c.post_obj
        pre_idx = _indices(c.pre_slice, pre.dimensions)
        post_idx = _indices(c.post_slice, post.dimensions)
        pre_range, post_range = _contiguous(pre_idx), _contiguous(post_idx)
        if pre_range is not None and post_range is not None:
            pre_obj, post_obj = self._ens[pre], self._ens[post]
            if pre_range != (0, pre.dimensions):
                pre_obj = pre_obj.slice(*pre_range)
            if post_range != (0, post.dimensions):
                post_obj = post_obj.slice(*post_range)
            lam_conn = self._net.connect(
                pre_obj, post_obj, transform=np.zeros((len(post_idx), len(pre_idx))),
                synapse=syn, solver=lam.LstsqL2(weights=True))
            self._conns[c] = _ConnMap(lam_conn, np.arange(post.n_neurons),
                                      np.arange(pre.n_neurons),
                                      (post.n_neurons, pre.n_neurons), weights=w)
            return lam_conn
        if learning:
            raise _unsupported("PES on a weight-solver connection with non-contiguous slices", c)
        # Nengo's matrix has the post gains folded in; lamina multiplies a neurons target by
        # them, so divide them out.
        gain = np.asarray(self.model.params[post].gain, dtype=np.float64)
        if np.any(gain == 0):
            raise _unsupported("a sliced weight solver into neurons with zero gain", c)
        n_pre, n_post = pre.n_neurons, post.n_neurons
        src = (self._ens[pre].neurons, n_pre, np.arange(n_pre))
        lam_conn = self._net.connect(src[0], self._ens[post].neurons,
                                     transform=w / gain[:, None], synapse=syn)
        self._conns[c] = _ConnMap(lam_conn, np.arange(n_post), np.arange(n_pre),
                                  (n_post, n_pre), gain=gain)
        return lam_conn

    def _add_probe(self, p):
        obj, attr = p.obj, p.attr
        if p in self._probe_map:  # made with its connection
            return
        syn = _synapse(p.synapse, p)
        every, period = self._lam_every(p), self._picked_period(p)
        sel = None
        if isinstance(obj, Ensemble) and attr == "decoded_output":
            hidden = [k for k in self.model.params
                      if isinstance(k, Connection) and k.post_obj is p]
            if len(hidden) != 1:
                raise BuildError(f"{p}: Nengo's probe connection was not found")
            hc = hidden[0]
            hsig = self.model.sig[hc]["weights"]
            w = np.asarray(1.0 if hsig is None else hsig.initial_value, dtype=np.float64)
            node = self._net.node(self._name(p, "probe"), None, size_in=hc.size_out)
            if isinstance(obj.neuron_type, nengo.Direct):
                src, n_src, cols = self._source(hc)
                w2 = _scatter(_weights_2d(w, hc.size_out, len(cols)), np.arange(hc.size_out),
                              hc.size_out, cols, n_src)
                self._net.connect(src, node, transform=w2, synapse=syn)
            else:
                w2 = _weights_2d(w, hc.size_out, obj.n_neurons)
                self._net.connect(self._ens[obj].neurons, node, transform=w2, synapse=syn)
            lp = self._net.probe(node, synapse=None, sample_every=every)
        elif isinstance(obj, Neurons) and attr in ("output", "spikes", "rates"):
            lp = self._net.probe(self._ens[obj.ensemble].neurons, synapse=syn,
                                 sample_every=every)
            sel = p.slice
        elif isinstance(obj, Neurons) and attr == "voltage":
            if type(obj.ensemble.neuron_type) not in (nengo.LIF, nengo.SpikingRectifiedLinear):
                raise _unsupported(f"probing voltage of {type(obj.ensemble.neuron_type).__name__}",
                                   p)
            lp = self._net.probe_voltage(self._ens[obj.ensemble], synapse=syn,
                                         sample_every=every)
            sel = p.slice
        elif isinstance(obj, Node) and attr == "output":
            if obj.size_out == 0:
                raise _unsupported("probing a node without output", p)
            lp = self._net.probe(self._nodes[obj], synapse=syn, sample_every=every)
            sel = p.slice
        elif isinstance(obj, Connection) and attr == "weights":
            if isinstance(obj.transform, (nengo.Convolution, nengo.ConvolutionTranspose)):
                raise _unsupported("probing the kernel of a convolution (it runs as a dense "
                                   "matrix)", p)
            m = self._conns[obj]
            lp = self._net.probe_weights(m.lam_conn, synapse=syn, sample_every=every)
        else:
            raise _unsupported(f"probing '{attr}' of {type(obj).__name__}", p)
        self._probe_map[p] = (lp, sel, period)
        self._probes.append(p)

    def _picked_period(self, p):
        """Nengo samples where step % period < 1; a period that is not a whole number of
        steps is recorded every step and picked on reading (None: lamina samples it)."""
        if p.sample_every is None:
            return None
        period = p.sample_every / self.model.dt
        return period if abs(period - round(period)) > 1e-9 else None

    def _lam_every(self, p):
        return None if self._picked_period(p) is not None else p.sample_every

    def _write_weights(self):
        for m in self._conns.values():
            if m.weights is not None:
                self._lam_sim.set_weights(m.lam_conn, m.weights)

    # ----------------------------------------------------------------------------------------
    # Nengo's simulator interface

    @property
    def dt(self):
        """The time step, in seconds."""
        return self.model.dt

    @dt.setter
    def dt(self, value):
        raise ReadonlyError(attr="dt", obj=self)

    @property
    def n_steps(self):
        """Steps simulated so far."""
        return 0 if self._lam_sim is None else self._lam_sim.n_steps

    @property
    def time(self):
        """Simulated time so far, in seconds."""
        return self.n_steps * self.dt

    def __enter__(self):
        self._check_open("enter")
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if not getattr(self, "closed", True):
            warnings.warn(
                "Simulator with model=%s was deallocated while open. Please close simulators "
                "manually to ensure resources are properly freed." % self.model,
                ResourceWarning)

    def close(self):
        """Closes the simulator: data stays readable, nothing runs any more."""
        self.closed = True

    def _check_open(self, what):
        if self.closed:
            raise SimulatorClosed(f"Cannot {what}: this simulator is closed.")

    def step(self):
        """Advances one step."""
        self.run_steps(1)

    def run(self, time_in_seconds, progress_bar=None):
        """Runs for ``time_in_seconds`` (rounded to whole steps)."""
        if time_in_seconds < 0:
            raise ValidationError(f"Must be positive (got {time_in_seconds:g})",
                                  attr="time_in_seconds")
        steps = int(np.round(float(time_in_seconds) / self.dt))
        if steps == 0:
            warnings.warn(f"{time_in_seconds:g} results in running for 0 timesteps. "
                          f"Simulator still at time {self.time:g}.")
        else:
            self.run_steps(steps, progress_bar=progress_bar)

    def run_steps(self, steps, progress_bar=None):
        """Runs ``steps`` steps, in chunks that update the progress bar."""
        self._check_open("run")
        if progress_bar is None:
            progress_bar = self.progress_bar
        steps = int(steps)
        chunk = max(1, min(steps, max(100, steps // 20)))
        with ProgressTracker(progress_bar, Progress("Simulating", "Simulation", steps)) as pt:
            done = 0
            while done < steps:
                n = min(chunk, steps - done)
                try:
                    self._lam_sim.run_steps(n)
                except lam.LaminaError as e:
                    raise nengo.exceptions.SimulationError(str(e)) from e
                done += n
                pt.total_progress.step(n)

    def trange(self, sample_every=None, dt=None):
        """The times of the samples of a probe with ``sample_every`` (all steps by default)."""
        if dt is not None:
            if sample_every is not None:
                raise ValidationError("Cannot specify both `dt` and `sample_every`. "
                                      "Use `sample_every` only.", attr="dt", obj=self)
            warnings.warn("`dt` is deprecated. Use `sample_every` instead.", DeprecationWarning)
            sample_every = dt
        period = 1 if sample_every is None else sample_every / self.dt
        steps = np.arange(1, self.n_steps + 1)
        return self.dt * steps[steps % period < 1]

    def reset(self, seed=None):
        """Back to time 0: initial state, built weights, probe data cleared."""
        self._check_open("reset")
        if seed is not None:
            self.seed = seed
        self._lam_sim.reset()
        self._write_weights()
        for node, step in self._processes:
            step.reset(self._process_seed(node))
        self._offsets = {}

    def clear_probes(self):
        """Forgets the probe data recorded so far; the simulation state stays."""
        for p in self._probes:
            lp = self._probe_map[p][0]
            self._offsets[p] = self._lam_sim.data(lp).shape[0]

    def _probe_data(self, p):
        if p not in self._probe_map:
            raise KeyError(p)
        lp, sel, period = self._probe_map[p]
        d = self._lam_sim.data(lp).astype(np.float64)
        keep = np.arange(d.shape[0]) >= self._offsets.get(p, 0)
        if period is not None:
            keep &= (np.arange(1, d.shape[0] + 1) % period) < 1
        d = d[keep]
        if isinstance(p.obj, Connection) and p.attr == "weights":
            m = self._conns[p.obj]
            full = d.reshape((d.shape[0],) + m.lam_shape)
            full = full[:, m.rows][:, :, m.cols]
            if m.gain is not None:
                full = full * m.gain[None, :, None]
            if m.ndim == 0:  # Nengo's weight signal is a scalar, or one value per element
                return full[:, 0, 0]
            if m.ndim == 1:
                return np.diagonal(full, axis1=1, axis2=2)
            return full
        if sel is not None:
            d = d[:, sel]
        return d

    # ----------------------------------------------------------------------------------------
    # Beyond Nengo: lesions, ablation, weights, checkpoints, between steps

    def latest(self, probe):
        """A probe's last sample, without copying its whole record (for rules in Python)."""
        lp, sel, _ = self._probe_map[probe]
        d = np.asarray(self._lam_sim.latest(lp), dtype=np.float64)
        if isinstance(probe.obj, Connection) and probe.attr == "weights":
            return self._probe_data(probe)[-1]
        return d if sel is None else d[sel]

    def weights(self, connection):
        """A connection's weights now, in Nengo's shape (decoders with the transform folded
        in, or the post x pre matrix), including what learning changed."""
        m = self._conns[connection]
        w = np.asarray(self._lam_sim.weights(m.lam_conn), dtype=np.float64)
        w = w[np.ix_(m.rows, m.cols)]
        return w if m.gain is None else w * m.gain[:, None]

    def set_weights(self, connection, weights):
        """Replaces a connection's weights between steps (the shape of :meth:`weights`);
        learning goes on from them."""
        m = self._conns[connection]
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(m.rows), len(m.cols)):
            raise ValidationError(f"weights must be {len(m.rows)}x{len(m.cols)}, got {w.shape}",
                                  attr="weights")
        if m.gain is not None:
            w = w / m.gain[:, None]
        full = np.asarray(self._lam_sim.weights(m.lam_conn), dtype=np.float64)
        full[np.ix_(m.rows, m.cols)] = w
        self._lam_sim.set_weights(m.lam_conn, full)

    def lesion(self, connection, post_neurons=None, pre_neurons=None, mask=None):
        """Cuts every synapse of ``connection`` into ``post_neurons`` of its post ensemble (or
        from ``pre_neurons``, or where a post x pre ``mask`` is true); the neurons' other
        inputs stay. ``reset`` lifts it."""
        m = self._conns[connection]
        self._lam_sim.lesion(m.lam_conn, post=post_neurons, pre=pre_neurons, mask=mask)

    def restore_synapses(self, connection):
        """Gives a lesioned connection its synapses back."""
        self._lam_sim.restore_synapses(self._conns[connection].lam_conn)

    def ablate(self, ensemble, neurons):
        """Silences ``neurons`` of ``ensemble``: they output nothing from the next step."""
        self._lam_sim.ablate(self._ens[ensemble], neurons)

    def restore(self, ensemble, neurons):
        self._lam_sim.restore(self._ens[ensemble], neurons)

    def checkpoint(self, path):
        """Writes the whole state (signals, learned weights, step counter, probe data,
        lesions) to an ``.npz``; :meth:`resume` continues from it bit for bit."""
        self._lam_sim.checkpoint(os.fspath(path))

    def resume(self, path):
        """Loads a checkpoint written by :meth:`checkpoint` from a simulator of the same
        network."""
        self._lam_sim.load_checkpoint(os.fspath(path))

    @property
    def lamina(self):
        """The underlying :class:`lamina.NefSimulator`."""
        return self._lam_sim

    def backend_description(self):
        return self._lam_sim.backend_description()


