"""Reference numbers from Nengo for lamina's NEF host-side math.

Optional tool, not used by the test suite: run it with Nengo installed
(`pip install nengo 'numpy<2.3' scipy`, checked with Nengo 4.1.0, NumPy 2.2.6,
SciPy 1.17.1) and it prints Rust literals. The unit tests in
`src/model/nef/{neurons,dists,synapse}.rs` and `src/build/nef/solvers.rs` embed
these literals, so the tests never need Python.

    python benches/peers/nengo_reference_math.py [section]

Sections: neurons, dists, synapse, timing, decoders (default: all). Each
section prints the literals pasted into the matching Rust test module.
"""

import sys

import numpy as np

import nengo
from nengo.dists import QuasirandomSequence, ScatteredHypersphere
from nengo.utils.builder import default_n_eval_points


def lit(x):
    """A float as a Rust literal that round-trips exactly."""
    s = repr(float(x))
    if "e" not in s and "." not in s and "inf" not in s and "nan" not in s:
        s += ".0"
    return s


def arr(name, values):
    values = np.asarray(values, dtype=float).ravel()
    body = ", ".join(lit(v) for v in values)
    print(f"const {name}: [f64; {values.size}] = [{body}];")


def section_neurons():
    max_rates = np.array([200.0, 250.0, 333.0, 400.0, 60.0])
    intercepts = np.array([-0.9, -0.2, 0.0, 0.5, 0.85])
    j = np.array([-1.0, 0.0, 0.5, 1.0, 1.0000001, 1.5, 2.0, 5.0, 40.0])
    arr("MAX_RATES", max_rates)
    arr("INTERCEPTS", intercepts)
    arr("J", j)
    cases = [
        ("LIF_DEFAULT", nengo.LIF()),
        ("LIF_CUSTOM", nengo.LIF(tau_rc=0.05, tau_ref=0.001, amplitude=0.5)),
        ("LIFRATE_CUSTOM", nengo.LIFRate(tau_rc=0.01, tau_ref=0.0015, amplitude=2.0)),
        ("RELU", nengo.RectifiedLinear(amplitude=0.25)),
        ("SPIKING_RELU", nengo.SpikingRectifiedLinear(amplitude=3.0)),
    ]
    for name, neuron in cases:
        gain, bias = neuron.gain_bias(max_rates, intercepts)
        arr(f"{name}_GAIN", gain)
        arr(f"{name}_BIAS", bias)
        arr(f"{name}_RATE", neuron.rates(j, np.ones(1), np.zeros(1))[:, 0])
        # the neurons reach amplitude * max_rates at x = 1
        assert np.allclose(neuron.rates(1.0, gain, bias)[0], neuron.amplitude * max_rates)
    # tau_ref = 0: no upper limit on the rate
    gain, bias = nengo.LIFRate(tau_ref=0.0).gain_bias([1000.0, 5000.0], [0.1, -0.5])
    arr("LIF_NOREF_GAIN", gain)
    arr("LIF_NOREF_BIAS", bias)


def section_dists():
    # exact spherical-coordinate inverse CDF ("sct"; nengo's default "sct-approx"
    # interpolates a table of the same function)
    ys = np.array([0.0, 1e-9, 0.05, 0.2, 0.37, 0.5, 0.73, 0.99, 1.0])
    arr("PPF_Y", ys)
    for dims in [1, 2, 3, 5, 16, 64, 500]:
        arr(f"PPF_DIMS_{dims}", ScatteredHypersphere.spherical_coords_ppf(dims, ys))
    arr("PHI", [QuasirandomSequence._phi(d) for d in [1, 2, 3, 8]])
    pairs = [(1, 1), (20, 1), (20, 2), (100, 4), (1000, 1), (1500, 3), (50, 16)]
    print(
        "const N_EVAL: [(usize, usize, usize); %d] = [%s];"
        % (
            len(pairs),
            ", ".join(f"({n}, {d}, {default_n_eval_points(n, d)})" for n, d in pairs),
        )
    )


# A step, an impulse and a negative pulse: exercises both the rise and the decay.
U = np.zeros(30)
U[2:] = 1.0
U[11] = 5.0
U[19] = -2.0
SYNAPSES = [
    ("LOWPASS_5MS", nengo.Lowpass(0.005)),
    ("LOWPASS_20MS", nengo.Lowpass(0.02)),
    ("ALPHA_5MS", nengo.Alpha(0.005)),
    ("ALPHA_2MS", nengo.Alpha(0.002)),
]


def section_synapse():
    arr("U", U)
    for name, syn in SYNAPSES:
        arr(name, syn.filt(U, dt=0.001, y0=0))


def section_timing():
    """A Node that outputs U[k] at step k (k = 0, 1, ...) probed through filters."""
    dt = 0.001

    def f(t):
        k = int(round(t / dt)) - 1
        return U[k] if 0 <= k < len(U) else 0.0

    with nengo.Network() as net:
        node = nengo.Node(f)
        post = nengo.Node(size_in=1)
        nengo.Connection(node, post, synapse=nengo.Lowpass(0.005))
        p_raw = nengo.Probe(node, synapse=None)
        p_conn = nengo.Probe(post, synapse=None)
        probes = [(name, nengo.Probe(node, synapse=syn)) for name, syn in SYNAPSES]
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(len(U))
    assert np.array_equal(sim.data[p_raw][:, 0], U)
    arr("SIM_CONN_LOWPASS_5MS", sim.data[p_conn][:, 0])
    for name, p in probes:
        arr(f"SIM_PROBE_{name}", sim.data[p][:, 0])


def section_decoders():
    # 1-D: 20 LIF neurons, default distributions, fixed seed; eval points fixed
    # (a linspace) so the Rust test can rebuild them without literals.
    m = 750
    eval_points = np.linspace(-1.0, 1.0, m)[:, None]
    with nengo.Network(seed=3) as net:
        a = nengo.Ensemble(20, 1, eval_points=eval_points)
        b = nengo.Node(size_in=1)
        c_id = nengo.Connection(a, b)
        c_sq = nengo.Connection(a, b, function=lambda x: x**2)
    with nengo.Simulator(net, progress_bar=False) as sim:
        built = sim.data[a]
        arr("ENS1_GAIN", built.gain)
        arr("ENS1_BIAS", built.bias)
        arr("ENS1_ENCODERS", built.encoders)
        arr("ENS1_DEC_IDENTITY", sim.data[c_id].weights)  # d x n = decoders.T
        arr("ENS1_DEC_SQUARE", sim.data[c_sq].weights)

    # 2-D, fewer eval points (12) than neurons (30): Cholesky on A A^T.
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    radii = np.linspace(0.2, 1.0, 12)
    ep2 = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    with nengo.Network(seed=11) as net:
        a = nengo.Ensemble(30, 2)
        b = nengo.Node(size_in=2)
        c = nengo.Connection(
            a, b, eval_points=ep2, function=lambda x: [x[0] * x[1], x[0]]
        )
    with nengo.Simulator(net, progress_bar=False) as sim:
        built = sim.data[a]
        arr("ENS2_GAIN", built.gain)
        arr("ENS2_BIAS", built.bias)
        arr("ENS2_ENCODERS", built.encoders)
        arr("ENS2_DEC", sim.data[c].weights)


SECTIONS = {
    "neurons": section_neurons,
    "dists": section_dists,
    "synapse": section_synapse,
    "timing": section_timing,
    "decoders": section_decoders,
}

if __name__ == "__main__":
    names = sys.argv[1:] or list(SECTIONS)
    for name in names:
        print(f"// --- {name} (nengo {nengo.__version__}, numpy {np.__version__})")
        SECTIONS[name]()
