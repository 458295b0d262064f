"""The Python face of lamina's Rust API: keyword arguments, defaults, numpy conversion.

The compiled module ``lamina._lamina`` takes small tuples for distributions, neuron types,
synapses and solvers; the classes here build them, so users write ``Uniform(200, 400)``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Optional, Sequence, Union

import numpy as np

from . import _lamina
from ._lamina import LaminaError  # noqa: F401  (raised by every call below)

# --------------------------------------------------------------------------------------------
# Descriptions: distributions, neuron types, synapses, solvers


class _Spec:
    def _spec(self):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Uniform(_Spec):
    """Uniform on ``[low, high)``, each entry independent (NEF and spiking paths)."""

    def __init__(self, low: float, high: float):
        self.low, self.high = float(low), float(high)

    def _spec(self):
        return ("uniform", self.low, self.high)


class Gaussian(_Spec):
    """Normal with ``mean`` and ``std`` (NEF path)."""

    def __init__(self, mean: float, std: float):
        self.mean, self.std = float(mean), float(std)

    def _spec(self):
        return ("gaussian", self.mean, self.std)


class Normal(_Spec):
    """Normal with ``mean`` and ``sd`` for weights and delays (spiking path), redrawn until
    inside ``[low, high]`` (NEST's ``redraw``), or set to the nearest bound when
    ``clamp=True``."""

    def __init__(self, mean: float, sd: float, low: float = -np.inf, high: float = np.inf,
                 clamp: bool = False):
        self.mean, self.sd, self.low, self.high = float(mean), float(sd), float(low), float(high)
        self.clamp = bool(clamp)

    def _spec(self):
        kind = "normal_clamped" if self.clamp else "normal"
        return (kind, self.mean, self.sd, self.low, self.high)


class Choice(_Spec):
    """Rows drawn uniformly, with replacement, from ``options`` (NEF path)."""

    def __init__(self, options):
        self.options = np.atleast_2d(np.asarray(options, dtype=float))

    def _spec(self):
        return ("choice", self.options.tolist())


class UniformHypersphere(_Spec):
    """Uniform on (``surface=True``) or in the unit hypersphere (Nengo's)."""

    def __init__(self, surface: bool = False, min_magnitude: float = 0.0):
        self.surface, self.min_magnitude = bool(surface), float(min_magnitude)

    def _spec(self):
        return ("uniform_hypersphere", self.surface, self.min_magnitude)


class ScatteredHypersphere(UniformHypersphere):
    """Quasi-random points on or in the unit hypersphere (Nengo 4's default)."""

    def _spec(self):
        return ("scattered_hypersphere", self.surface, self.min_magnitude)


def _nef_dist(d):
    if d is None:
        return None
    if isinstance(d, _Spec):
        return d._spec()
    a = np.asarray(d, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    return np.ascontiguousarray(a)


def _spiking_values(v):
    """A float, a distribution, or one value per synapse (explicit connectivity only)."""
    if isinstance(v, _Spec):
        return v._spec()
    if np.ndim(v) == 0:
        return ("const", float(v))
    return ("each", np.ascontiguousarray(np.asarray(v, dtype=np.float64).ravel()))


class LIF(_Spec):
    """Spiking leaky integrate-and-fire, as Nengo's ``LIF`` (sub-step spike times)."""

    def __init__(self, tau_rc=0.02, tau_ref=0.002, min_voltage=0.0, amplitude=1.0):
        self.tau_rc, self.tau_ref = float(tau_rc), float(tau_ref)
        self.min_voltage, self.amplitude = float(min_voltage), float(amplitude)

    def _spec(self):
        return ("lif", self.tau_rc, self.tau_ref, self.min_voltage, self.amplitude)


class LIFRate(_Spec):
    """The rate version of :class:`LIF` (Nengo's ``LIFRate``)."""

    def __init__(self, tau_rc=0.02, tau_ref=0.002, amplitude=1.0):
        self.tau_rc, self.tau_ref, self.amplitude = float(tau_rc), float(tau_ref), float(amplitude)

    def _spec(self):
        return ("lif_rate", self.tau_rc, self.tau_ref, self.amplitude)


class RectifiedLinear(_Spec):
    """``amplitude * max(J, 0)`` (Nengo's ``RectifiedLinear``)."""

    def __init__(self, amplitude=1.0):
        self.amplitude = float(amplitude)

    def _spec(self):
        return ("relu", self.amplitude)


class SpikingRectifiedLinear(_Spec):
    """Integrate-and-fire without leak, rate ``amplitude * max(J, 0)``."""

    def __init__(self, amplitude=1.0):
        self.amplitude = float(amplitude)

    def _spec(self):
        return ("spiking_relu", self.amplitude)


class Izhikevich(_Spec):
    """Nengo's ``Izhikevich`` neurons in an ensemble, stepped as Nengo steps them (lamina's
    built-in ``nengo_izhikevich`` model), their rates measured as Nengo's ``Izhikevich.rates``
    measures them: 1 ms of settling, spikes counted over 1 s."""

    def __init__(self, tau_recovery=0.02, coupling=0.2, reset_voltage=-65.0,
                 reset_recovery=8.0):
        self.tau_recovery, self.coupling = float(tau_recovery), float(coupling)
        self.reset_voltage, self.reset_recovery = float(reset_voltage), float(reset_recovery)

    def _spec(self):
        return ("izhikevich", self.tau_recovery, self.coupling, self.reset_voltage,
                self.reset_recovery)


class Lowpass(_Spec):
    """First-order lowpass filter, time constant ``tau`` in seconds."""

    def __init__(self, tau: float):
        self.tau = float(tau)

    def _spec(self):
        return ("lowpass", self.tau)


class Alpha(_Spec):
    """Alpha filter, time constant ``tau`` in seconds."""

    def __init__(self, tau: float):
        self.tau = float(tau)

    def _spec(self):
        return ("alpha", self.tau)


_DEFAULT = object()


def _synapse(s, default=_DEFAULT):
    if s is _DEFAULT:
        s = default
    if s is None:
        return None
    if isinstance(s, (int, float)):
        s = Lowpass(s)
    return s._spec()


class LstsqL2(_Spec):
    """Regularised least squares (Nengo's ``LstsqL2``); ``weights=True`` solves the full
    post x pre matrix."""

    def __init__(self, reg=0.1, weights=False):
        self.reg, self.weights = float(reg), bool(weights)

    def _spec(self):
        return ("lstsq", self.reg, self.weights)


class Nnls(LstsqL2):
    """Non-negative regularised least squares."""

    def _spec(self):
        return ("nnls", self.reg, self.weights)


class Dale(_Spec):
    """Dale's principle: post x pre weights, each pre neuron all >= 0 or all <= 0.
    ``excitatory`` is a fraction (drawn from the seed) or one bool per pre neuron."""

    def __init__(self, reg=0.1, excitatory: Union[float, Sequence[bool]] = 0.8):
        self.reg = float(reg)
        self.excitatory = excitatory if np.ndim(excitatory) == 0 else [bool(x) for x in excitatory]

    def _spec(self):
        ex = float(self.excitatory) if np.ndim(self.excitatory) == 0 else list(self.excitatory)
        return ("dale", self.reg, ex)


class NeuronModel:
    """A neuron model as WGSL snippets (as in GeNN and Brian2): state variables with initial
    values (numbers or :class:`Uniform` / :class:`Normal`), parameters, an ``update``
    snippet, a ``threshold`` condition and a ``reset`` snippet. lamina checks it with naga
    when a population is made (errors are :class:`SnippetError` with the snippet's line) and
    runs it on a GPU adapter; the CPU twin runs only built-in models."""

    def __init__(self, name, states, update, threshold, reset, params=None,
                 refractory_ms=None):
        self.name, self.update, self.threshold, self.reset = name, update, threshold, reset
        self.states = dict(states)
        self.params = dict(params or {})
        self.refractory_ms = refractory_ms


class SynapseModel:
    """A plastic synapse model as WGSL snippets over every synapse of a NEF connection's
    weights (:meth:`NefNetwork.learn`) or of a spiking projection
    (:meth:`Network.synapse_model`, at events and with delays): parameters (one value per
    rule), per-synapse ``states`` (numbers or :class:`Uniform`), pre and post spike traces
    (name: tau in seconds), and the ``on_pre``, ``on_post`` and ``per_step`` snippets, which
    read and write ``w``. Checked with naga when it is attached; runs on a GPU adapter."""

    def __init__(self, name, params=None, states=None, pre_traces=None, post_traces=None,
                 on_pre=None, on_post=None, per_step=None):
        self.name = name
        self.params, self.states = dict(params or {}), dict(states or {})
        self.pre_traces, self.post_traces = dict(pre_traces or {}), dict(post_traces or {})
        self.on_pre, self.on_post, self.per_step = on_pre, on_post, per_step


class Stdp:
    """Pair-based, additive STDP with weight bounds on a spiking projection's synapses (Song,
    Miller and Abbott 2000, as Brian2's and GeNN's examples run it). Each synapse keeps a pre
    and a post trace decaying with ``tau_pre_ms`` and ``tau_post_ms``. When a pre spike
    arrives (after the synapse's delay) its weight is delivered first, then the pre trace
    grows by ``a_plus_pa`` and the post trace is added to the weight; when the post neuron
    fires, the post trace grows by ``a_minus_pa`` and the pre trace is added to the weight.
    Weights stay in ``[w_min_pa, w_max_pa]`` (``w_min_pa < w_max_pa``) and each is delivered
    into the post neuron's channel of its sign: negative bounds make an inhibitory projection
    plastic."""

    def __init__(self, a_plus_pa: float, a_minus_pa: float, w_max_pa: float,
                 w_min_pa: float = 0.0, tau_pre_ms: float = 20.0, tau_post_ms: float = 20.0):
        self.tau_pre_ms, self.tau_post_ms = float(tau_pre_ms), float(tau_post_ms)
        self.a_plus_pa, self.a_minus_pa = float(a_plus_pa), float(a_minus_pa)
        self.w_min_pa, self.w_max_pa = float(w_min_pa), float(w_max_pa)

    @classmethod
    def song_abbott(cls, w_max_pa: float) -> "Stdp":
        """Brian2's example rule: 20 ms traces, ``a_plus = 0.01 w_max``,
        ``a_minus = -1.05 a_plus`` (depression slightly stronger, which makes the weights
        bimodal), weights in ``[0, w_max]``."""
        a_plus = 0.01 * float(w_max_pa)
        return cls(a_plus_pa=a_plus, a_minus_pa=-1.05 * a_plus, w_max_pa=w_max_pa)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"Stdp({args})"


def _state_spec(v):
    if isinstance(v, Uniform):
        return ("uniform", v.low, v.high)
    if isinstance(v, _Spec):
        return v._spec()
    return float(v)


def _interactive():
    """A terminal or a notebook: where a progress bar is worth drawing."""
    try:
        return sys.stderr.isatty() or "ipykernel" in sys.modules
    except (AttributeError, ValueError):
        return False


def _run_steps(run_steps, steps, progress_bar):
    """Runs ``steps`` steps; with a progress bar (``None``: in a terminal or notebook, once a
    run has taken half a second) in about fifty chunks, with steps per second and time left."""
    if progress_bar is False or steps < 100 or not (progress_bar or _interactive()):
        run_steps(steps)
        return
    chunk = max(1, steps // 50)
    start, done, shown = time.perf_counter(), 0, bool(progress_bar)
    while done < steps:
        n = min(chunk, steps - done)
        run_steps(n)
        done += n
        elapsed = time.perf_counter() - start
        shown = shown or elapsed > 0.5
        if shown:
            rate = done / elapsed if elapsed > 0 else float("inf")
            bar = "#" * (30 * done // steps)
            sys.stderr.write(f"\r[{bar:<30}] {100 * done // steps:3d}%  {rate:,.0f} steps/s, "
                             f"{(steps - done) / rate if rate else 0:.1f} s left ")
            sys.stderr.flush()
    if shown:
        sys.stderr.write("\n")


# --------------------------------------------------------------------------------------------
# NEF


def _as_f64_vector(f, size):
    def wrapped(*args):
        out = np.asarray(f(*args), dtype=np.float64).ravel()
        if out.size == 1 and size > 1:
            out = np.repeat(out, size)
        return out

    return wrapped


class NefNetwork:
    """A NEF model as Nengo describes one: ensembles, nodes, connections, learning rules and
    probes. ``dt`` in seconds.

    >>> net = NefNetwork(seed=1)
    >>> a = net.ensemble("a", 100, 1)
    """

    def __init__(self, seed: Optional[int] = None, dt: float = 0.001):
        self._raw = _lamina.NefNetwork(seed=seed, dt=dt)

    @classmethod
    def _wrap(cls, raw):
        obj = cls.__new__(cls)
        obj._raw = raw
        return obj

    @property
    def dt(self) -> float:
        return self._raw.dt

    @property
    def seed(self) -> int:
        return self._raw.seed

    def ensemble(self, name, n_neurons, dimensions, radius=1.0, neuron_type=None,
                 max_rates=None, intercepts=None, encoders=None, eval_points=None,
                 n_eval_points=None, gain=None, bias=None, initial_voltage=None):
        """Adds an ensemble (Nengo's defaults: LIF, max rates U(200, 400), intercepts
        U(-1, 0.9), scattered encoders). Distributions are lamina distributions or arrays;
        ``gain`` and ``bias`` together replace ``max_rates`` and ``intercepts``."""
        g = None if gain is None else np.asarray(gain, dtype=np.float64).ravel()
        b = None if bias is None else np.asarray(bias, dtype=np.float64).ravel()
        return self._raw.ensemble(
            name, int(n_neurons), int(dimensions), radius=float(radius),
            neuron=None if neuron_type is None else neuron_type._spec(),
            max_rates=_nef_dist(max_rates), intercepts=_nef_dist(intercepts),
            encoders=_nef_dist(encoders), eval_points=_nef_dist(eval_points),
            n_eval_points=n_eval_points, gain=g, bias=b,
            initial_voltage=_nef_dist(initial_voltage))

    def node(self, name, output=None, size_in=0, size_out=None):
        """Adds a node: ``output`` None (a passthrough of ``size_in``), an array (constant),
        a function of ``t`` (evaluated ahead of the simulation, no round trip per step), or
        with ``size_in > 0`` a function of ``(t, x)`` called every step."""
        if callable(output):
            if size_out is None:
                args = (0.0,) if size_in == 0 else (0.0, np.zeros(size_in))
                size_out = int(np.asarray(output(*args)).size)
            output = _as_f64_vector(output, size_out)
        elif output is not None:
            output = np.ascontiguousarray(np.asarray(output, dtype=np.float64).ravel())
        return self._raw.node(name, output, size_in=int(size_in), size_out=size_out)

    def connect(self, pre, post, function=None, transform=None, synapse=_DEFAULT,
                solver=None, eval_points=None, size_mid=None):
        """Connects ``pre`` to ``post`` (Nengo's ``Connection``). ``synapse`` defaults to
        ``Lowpass(0.005)``; ``None`` means no filter. ``function`` maps the pre ensemble's
        vector to ``size_mid`` values (found by calling it once when not given)."""
        fn = None
        if function is not None:
            if size_mid is None:
                d = getattr(pre, "dimensions", None)
                if d is None:
                    raise TypeError("give size_mid for a function on a sliced pre object")
                size_mid = int(np.asarray(function(np.zeros(d))).size)
            fn = (int(size_mid), _as_f64_vector(function, int(size_mid)))
        if transform is not None and np.ndim(transform) > 0:
            transform = np.ascontiguousarray(np.atleast_2d(np.asarray(transform, dtype=np.float64)))
        elif transform is not None:
            transform = float(transform)
        ep = None if eval_points is None else np.ascontiguousarray(
            np.asarray(eval_points, dtype=np.float64))
        return self._raw.connect(pre, post, function=fn, transform=transform,
                                 synapse=_synapse(synapse, Lowpass(0.005)),
                                 solver=None if solver is None else solver._spec(),
                                 eval_points=ep)

    def pes(self, conn, learning_rate=1e-4, pre_synapse=_DEFAULT):
        """PES on ``conn``; connect the error (post's decoded space) into the returned rule."""
        return self._raw.pes(conn, float(learning_rate),
                             _synapse(pre_synapse, Lowpass(0.005)))

    def learn(self, conn, model, **params):
        """A plastic synapse model on ``conn``: a built-in (``"stdp"`` or ``"memristor"``,
        parameters as keyword arguments) or a :class:`SynapseModel`. Connect the error it
        reads, if it reads one, into the returned rule."""
        if isinstance(model, SynapseModel):
            m = model
            return self._raw.learn_model(
                conn, m.name, params=[(k, float(v)) for k, v in m.params.items()],
                states=[(k, _state_spec(v)) for k, v in m.states.items()],
                pre_traces=[(k, float(v)) for k, v in m.pre_traces.items()],
                post_traces=[(k, float(v)) for k, v in m.post_traces.items()],
                on_pre=m.on_pre, on_post=m.on_post, per_step=m.per_step)
        return self._raw.learn(conn, model, **params)

    def probe(self, target, synapse=None, sample_every=None):
        """Records decoded values, a node's output or neuron activities."""
        return self._raw.probe(target, _synapse(synapse), sample_every)

    def probe_voltage(self, ens, synapse=None, sample_every=None):
        """Records the membrane voltages of an ensemble's neurons."""
        return self._raw.probe_voltage(ens, _synapse(synapse), sample_every)

    def probe_weights(self, conn, synapse=None, sample_every=None):
        """Records a connection's weights, one flattened row per sample."""
        return self._raw.probe_weights(conn, _synapse(synapse), sample_every)


class NefSimulator:
    """Builds a :class:`NefNetwork` (gains, decoders, buffers) and runs it.

    ``backend``: ``"auto"`` (a hardware GPU, else the CPU twin), ``"gpu"`` or ``"cpu"``.
    Usable as a context manager.
    """

    def __init__(self, network: NefNetwork, backend: str = "auto", _raw=None):
        self._raw = _raw if _raw is not None else _lamina.NefSimulator(network._raw, backend)

    @classmethod
    def resume(cls, network: NefNetwork, path, backend: str = "auto"):
        """Builds ``network`` and loads the checkpoint at ``path``: it continues bit for bit."""
        return cls(network, _raw=_lamina.NefSimulator.resume(network._raw, os.fspath(path), backend))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __getattr__(self, name):
        # Everything else is the compiled simulator's method of the same name.
        return getattr(self._raw, name)

    @property
    def dt(self) -> float:
        return self._raw.dt

    @property
    def n_steps(self) -> int:
        return self._raw.n_steps

    @property
    def time(self) -> float:
        return self._raw.time

    def run(self, seconds: float, progress_bar: Optional[bool] = None):
        """Runs for ``seconds`` of simulated time (rounded to whole steps, as Nengo does).
        ``progress_bar``: None draws one in a terminal or notebook when the run is long."""
        steps = int(round(float(seconds) / self.dt)) if np.isfinite(seconds) else 0
        if steps <= 0:
            self._raw.run(float(seconds))  # zero steps, or lamina's own error
            return
        self.run_steps(steps, progress_bar)

    def run_steps(self, steps: int, progress_bar: Optional[bool] = None):
        _run_steps(self._raw.run_steps, int(steps), progress_bar)

    def step(self):
        self._raw.run_steps(1)

    def run_with(self, seconds: float, every_n_steps: int, f: Callable[["NefSimulator"], None]):
        """Runs for ``seconds``, calling ``f(sim)`` every ``every_n_steps`` steps and after the
        last: a learning rule in Python that reads activities and writes weights."""
        if every_n_steps < 1:
            raise ValueError("every_n_steps must be >= 1")
        left = int(round(seconds / self.dt))
        while left > 0:
            n = min(left, every_n_steps)
            self._raw.run_steps(n)
            left -= n
            f(self)

    def set_weights(self, conn, weights):
        self._raw.set_weights(conn, np.ascontiguousarray(np.asarray(weights, dtype=np.float64)))

    def set_encoders(self, ens, encoders):
        self._raw.set_encoders(ens, np.ascontiguousarray(np.asarray(encoders, dtype=np.float64)))

    def set_bias(self, ens, bias):
        self._raw.set_bias(ens, np.asarray(bias, dtype=np.float64).ravel())

    def lesion(self, conn, post=None, pre=None, mask=None):
        """Cuts synapses of ``conn``: every synapse into ``post`` neurons, from ``pre`` neurons,
        or where the post x pre boolean ``mask`` is true."""
        post = None if post is None else [int(i) for i in np.ravel(post)]
        pre = None if pre is None else [int(i) for i in np.ravel(pre)]
        mask = None if mask is None else np.ascontiguousarray(np.asarray(mask, dtype=bool))
        self._raw.lesion(conn, post=post, pre=pre, mask=mask)

    def ablate(self, ens, neurons):
        self._raw.ablate(ens, [int(i) for i in np.ravel(neurons)])

    def restore(self, ens, neurons):
        self._raw.restore(ens, [int(i) for i in np.ravel(neurons)])

    def save_weights(self, path):
        self._raw.save_weights(os.fspath(path))

    def load_weights(self, path):
        self._raw.load_weights(os.fspath(path))

    def checkpoint(self, path):
        self._raw.checkpoint(os.fspath(path))

    def load_checkpoint(self, path):
        self._raw.load_checkpoint(os.fspath(path))

    def tuning_curves(self, ens, inputs=None):
        if inputs is not None:
            inputs = np.ascontiguousarray(np.atleast_2d(np.asarray(inputs, dtype=np.float64)))
        return self._raw.tuning_curves(ens, inputs)


# --------------------------------------------------------------------------------------------
# Spiking networks

_RULES = {"all_to_all", "one_to_one"}


class Network:
    """A spiking network (units: ms, mV, pF, pA), with ``dt_ms`` steps."""

    def __init__(self, seed: Optional[int] = None, dt_ms: float = 0.1):
        self._raw = _lamina.Network(seed=seed, dt_ms=dt_ms)

    @classmethod
    def _wrap(cls, raw):
        obj = cls.__new__(cls)
        obj._raw = raw
        return obj

    @property
    def dt_ms(self) -> float:
        return self._raw.dt_ms

    @property
    def seed(self) -> int:
        return self._raw.seed

    @property
    def neuron_count(self) -> int:
        return self._raw.neuron_count

    def population(self, name, size, **params):
        """Current-based LIF neurons (NEST's ``iaf_psc_exp``): ``tau_m_ms``, ``c_m_pf``,
        ``e_l_mv``, ``v_reset_mv``, ``v_th_mv``, ``t_ref_ms``, ``tau_syn_ex_ms``,
        ``tau_syn_in_ms``, ``i_e_pa``, ``v_init_mv`` (a float or distribution)."""
        if "v_init_mv" in params and isinstance(params["v_init_mv"], _Spec):
            params["v_init_mv"] = params["v_init_mv"]._spec()
        return self._raw.population(name, int(size), **params)

    def izhikevich(self, name, size, **params):
        """Izhikevich neurons (``a``, ``b``, ``c``, ``d``, ``v_init``; regular spiking)."""
        return self._raw.izhikevich(name, int(size), **params)

    def neurons(self, name, size, model: NeuronModel):
        """A population of a user-defined :class:`NeuronModel`."""
        return self._raw.neuron_model(
            name, int(size), model.name, [(k, _state_spec(v)) for k, v in model.states.items()],
            [(k, float(v)) for k, v in model.params.items()], model.update, model.threshold,
            model.reset, model.refractory_ms)

    def spike_source(self, name, times_ms):
        """Spike generators: ``times_ms[i]`` are neuron i's spike times."""
        return self._raw.spike_source(name, [[float(t) for t in ts] for ts in times_ms])

    def connect(self, source, target, rule="all_to_all", weight_pa=0.0, delay_ms=1.0,
                p=None, n=None, in_degree=None, pre=None, post=None):
        """A projection. ``rule``: ``"all_to_all"``, ``"one_to_one"``,
        ``"fixed_probability"`` (``p=``), ``"fixed_total_number"`` (``n=``),
        ``"fixed_in_degree"`` (``in_degree=``) or ``"explicit"`` (``pre=``, ``post=``
        index arrays; weights and delays may then be one per synapse)."""
        if rule in _RULES:
            spec = (rule,)
        elif rule == "fixed_probability":
            spec = (rule, float(p))
        elif rule == "fixed_total_number":
            spec = (rule, int(n))
        elif rule == "fixed_in_degree":
            spec = (rule, int(in_degree))
        elif rule == "explicit":
            spec = (rule, [int(i) for i in np.ravel(pre)], [int(i) for i in np.ravel(post)])
        else:
            raise ValueError(f"unknown connectivity rule {rule!r}")
        return self._raw.connect(source, target, spec, _spiking_values(weight_pa),
                                 _spiking_values(delay_ms))

    def stdp(self, projection, rule: Stdp):
        """Makes the synapses of ``projection`` (what :meth:`connect` returned) plastic under
        ``rule``, a :class:`Stdp`. Their weights must start within its bounds."""
        if not isinstance(rule, Stdp):
            raise TypeError(f"rule must be a lamina.Stdp, got {type(rule).__name__}")
        self._raw.stdp(projection, rule.tau_pre_ms, rule.tau_post_ms, rule.a_plus_pa,
                       rule.a_minus_pa, rule.w_min_pa, rule.w_max_pa)

    def synapse_model(self, projection, model, max_weight_pa, **params):
        """Runs a synapse model on the synapses of ``projection`` at events, with each
        synapse's own delay: the built-in ``"stdp"`` (parameters ``tau_pre``, ``tau_post`` in
        seconds, ``a_plus``, ``a_minus``, ``w_max`` as keyword arguments; it also runs on the
        CPU twin) or a :class:`SynapseModel` (``on_pre`` runs when a spike arrives, after the
        weight is delivered, ``on_post`` when the post neuron fires; no ``per_step`` and no
        ``error`` here; a GPU adapter runs it). Weights go into the post neurons' excitatory
        channel, clamped to ``±max_weight_pa``, and must start within that bound."""
        if isinstance(model, SynapseModel):
            if params:
                raise TypeError("give a SynapseModel's parameters in the model, not as keywords")
            m = model
            self._raw.synapse_model_user(
                projection, float(max_weight_pa), m.name,
                params=[(k, float(v)) for k, v in m.params.items()],
                states=[(k, _state_spec(v)) for k, v in m.states.items()],
                pre_traces=[(k, float(v)) for k, v in m.pre_traces.items()],
                post_traces=[(k, float(v)) for k, v in m.post_traces.items()],
                on_pre=m.on_pre, on_post=m.on_post, per_step=m.per_step)
            return
        self._raw.synapse_model(projection, model, float(max_weight_pa), **params)

    def parameter_each(self, target, name, values):
        """Gives each neuron of ``target`` (a population or slice) its own value of parameter
        ``name``: a LIF field (``v_th_mv``, ``tau_m_ms``, ``c_m_pf``, ``e_l_mv``,
        ``v_reset_mv``, ``t_ref_ms``, ``tau_syn_ex_ms``, ``tau_syn_in_ms``, ``i_e_pa``) or a
        parameter of the population's neuron model. One value per neuron, in order."""
        self._raw.parameter_each(target, name,
                                 np.ascontiguousarray(np.asarray(values, dtype=np.float64).ravel()))

    def current(self, target, amplitude_pa):
        """A constant current into ``target``: one value, or one per neuron."""
        if np.ndim(amplitude_pa) == 0:
            self._raw.current(target, float(amplitude_pa))
        else:
            self._raw.current(target, np.asarray(amplitude_pa, dtype=np.float64).ravel())

    def poisson(self, target, in_degree, rate_hz, weight_pa):
        """Poisson input drawn on the device (Brian2's ``PoissonInput``)."""
        self._raw.poisson(target, int(in_degree), float(rate_hz), float(weight_pa))

    def initial_state(self, target, var, values):
        self._raw.initial_state(target, var, np.asarray(values, dtype=np.float64).ravel())

    def probe_spikes(self, target):
        return self._raw.probe_spikes(target)

    def probe_state(self, target, sample_every_ms=None):
        return self._raw.probe_state(target, sample_every_ms)


def _local_rank(comm) -> Optional[int]:
    """The process's rank among those on its machine, through MPI's shared-memory split when
    ``comm`` is an mpi4py communicator; otherwise None (lamina then takes the rank)."""
    split = getattr(comm, "Split_type", None)
    if split is None:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    local = split(MPI.COMM_TYPE_SHARED)
    try:
        return int(local.Get_rank())
    finally:
        local.Free()


class Simulator:
    """Runs a spiking :class:`Network`; ``backend`` as for :class:`NefSimulator`.

    With ``comm`` (an mpi4py communicator such as ``MPI.COMM_WORLD``, or any object with its
    ``Get_rank``, ``Get_size``, ``allgather`` and ``Barrier``), the network runs on every
    process of the communicator, each updating its share of the neurons, with the spikes of a
    single process: run the same script under ``mpirun -np N``. Every process holds every
    probe's whole record; ``lesion`` counts over all processes; ``checkpoint`` writes one file
    per process. On a machine with several GPUs each process takes the one of its rank among
    the processes on that machine.
    """

    def __init__(self, network: Network, backend: str = "auto", comm=None, _raw=None):
        if _raw is None:
            local = _local_rank(comm) if comm is not None else None
            _raw = _lamina.Simulator(network._raw, backend, comm, local)
        self._raw = _raw
        self.dt_ms = network.dt_ms

    @property
    def rank(self) -> int:
        """This process's index among those running the network (0 without ``comm``)."""
        return self._raw.processes[0]

    @property
    def size(self) -> int:
        """How many processes run the network (1 without ``comm``)."""
        return self._raw.processes[1]

    @classmethod
    def resume(cls, network: Network, path, backend: str = "auto"):
        """Builds ``network`` and loads the checkpoint at ``path``: it continues bit for bit."""
        return cls(network, _raw=_lamina.Simulator.resume(network._raw, os.fspath(path), backend))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __getattr__(self, name):
        return getattr(self._raw, name)

    def run(self, seconds: float, progress_bar: Optional[bool] = None):
        """Runs for ``seconds`` of biological time (``progress_bar`` as for
        :meth:`NefSimulator.run`)."""
        steps = int(round(float(seconds) * 1e3 / self.dt_ms)) if np.isfinite(seconds) else 0
        if steps <= 0:
            self._raw.run(float(seconds))  # zero steps, or lamina's own error
            return
        self.run_steps(steps, progress_bar)

    def run_steps(self, steps: int, progress_bar: Optional[bool] = None):
        _run_steps(self._raw.run_steps, int(steps), progress_bar)

    def step(self):
        """Advances one step of ``dt_ms``."""
        self._raw.run_steps(1)

    def ablate(self, pop, neurons):
        self._raw.ablate(pop, [int(i) for i in np.ravel(neurons)])

    def restore(self, pop, neurons):
        self._raw.restore(pop, [int(i) for i in np.ravel(neurons)])

    def checkpoint(self, path):
        self._raw.checkpoint(os.fspath(path))

    def load_checkpoint(self, path):
        self._raw.load_checkpoint(os.fspath(path))

    def set_plastic_weights(self, projection, weights):
        """Overwrites a plastic projection's weights (pA, in the order of
        ``plastic_synapses``) from the next step on; traces stay."""
        self._raw.set_plastic_weights(
            projection, np.ascontiguousarray(np.asarray(weights, dtype=np.float64).ravel()))

    def rates_hz(self, probe, size, t_start=0.0):
        """Mean rate per neuron of a spike probe from ``t_start`` (s) to now."""
        _, times, neurons = self._raw.spikes(probe)
        span = self.time - t_start
        counts = np.bincount(neurons[times >= t_start], minlength=size)
        return counts / span if span > 0 else counts * 0.0


def load(path):
    """Reads and builds a model file (the TOML the command line runs). Returns a dict:
    ``kind`` ('spiking' or 'nef'), ``network`` (a :class:`Network` or :class:`NefNetwork`),
    the named probes (``spike_probes`` and ``state_probes``, or ``probes``) and
    ``duration_s``."""
    d = _lamina.load(os.fspath(path))
    d["network"] = (Network if d["kind"] == "spiking" else NefNetwork)._wrap(d["network"])
    return d
