"""The Python API over lamina's Rust API: NEF and spiking networks, arrays, errors."""

import os

import numpy as np
import pytest

import lamina

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def nef_channel(seed=1):
    net = lamina.NefNetwork(seed=seed)
    stim = net.node("stim", lambda t: np.sin(6 * t))
    a = net.ensemble("a", 100, 1)
    b = net.ensemble("b", 100, 1)
    net.connect(stim, a)
    conn = net.connect(a, b, function=lambda x: x ** 2)
    p = net.probe(b, synapse=lamina.Lowpass(0.01))
    ps = net.probe(a.neurons)
    return net, a, b, conn, p, ps


def test_nef_square_is_decoded():
    net, a, b, conn, p, _ = nef_channel()
    sim = lamina.NefSimulator(net, backend="cpu")
    sim.run(1.0)
    y = sim.data(p)
    t = sim.trange(p)
    assert y.shape == (1000, 1) and y.dtype == np.float32
    assert np.allclose(t[:3], [0.001, 0.002, 0.003])
    target = np.sin(6 * t) ** 2
    assert np.sqrt(np.mean((y[100:, 0] - target[100:]) ** 2)) < 0.15
    params = sim.ensemble_params(a)
    assert params["gain"].shape == (100,) and params["encoders"].shape == (100, 1)
    x, rates = sim.tuning_curves(a)
    assert rates.shape == (x.shape[0], 100) and rates.max() > 150


def test_izhikevich_ensemble_is_decoded():
    # Nengo's Izhikevich neurons in an ensemble: rates measured by simulating them, gains and
    # biases by Nengo's search, decoders from those rates.
    net = lamina.NefNetwork(seed=0)
    stim = net.node("stim", np.array([0.5]))
    a = net.ensemble("a", 100, 1, neuron_type=lamina.Izhikevich())
    net.connect(stim, a)
    p = net.probe(a, synapse=lamina.Lowpass(0.02))
    sim = lamina.NefSimulator(net, backend="cpu")
    sim.run(1.0)
    assert abs(sim.data(p)[500:, 0].mean() - 0.5) < 0.03
    x, rates = sim.tuning_curves(a)
    assert rates.shape == (x.shape[0], 100) and rates.max() > 150


def test_same_seed_same_bits_and_reset():
    runs = []
    for _ in range(2):
        net, *_, p, ps = nef_channel(seed=4)
        sim = lamina.NefSimulator(net, backend="cpu")
        sim.run(0.2)
        runs.append(sim.data(ps))
        sim.reset()
        sim.run(0.2)
        assert np.array_equal(sim.data(ps), runs[-1])
    assert np.array_equal(runs[0], runs[1])


def test_weights_lesion_ablate_checkpoint(tmp_path):
    net, a, b, conn, p, ps = nef_channel()
    sim = lamina.NefSimulator(net, backend="cpu")
    sim.run(0.1)
    w = sim.weights(conn)
    assert w.shape == (1, 100)
    sim.set_weights(conn, 0.5 * w)
    assert np.allclose(sim.weights(conn), 0.5 * w, rtol=1e-6)
    sim.ablate(a, range(10))
    sim.lesion(conn, post=[1, 3, 5])
    assert sim.lesion_mask(conn) is not None
    sim.run(0.05)
    assert sim.data(ps)[-40:, :10].sum() == 0
    ck = tmp_path / "nef.npz"
    sim.checkpoint(ck)
    sim.run(0.05)
    again = lamina.NefSimulator.resume(net, ck, backend="cpu")
    again.run(0.05)
    assert np.array_equal(again.data(p)[-50:], sim.data(p)[-50:])
    sim.save_weights(tmp_path / "w.npz")
    saved = np.load(tmp_path / "w.npz")
    assert saved[f"conn{conn.index}"].shape == (1, 100)


def test_pes_and_run_with():
    net = lamina.NefNetwork(seed=2)
    stim = net.node("stim", lambda t: np.sin(6 * t))
    pre = net.ensemble("pre", 100, 1)
    post = net.ensemble("post", 100, 1)
    net.connect(stim, pre)
    conn = net.connect(pre, post, function=lambda x: [0.0])
    err = net.node("err", size_in=1)
    net.connect(post, err)
    net.connect(stim, err, transform=-1.0)
    rule = net.pes(conn, learning_rate=1e-4)
    net.connect(err, rule)
    sim = lamina.NefSimulator(net, backend="cpu")
    seen = []
    sim.run_with(0.1, 20, lambda s: seen.append(s.n_steps))
    assert seen == [20, 40, 60, 80, 100]
    assert np.abs(sim.weights(conn)).max() > 0


def test_errors_are_lamina_errors():
    net = lamina.NefNetwork()
    net.ensemble("a", 10, 1)
    with pytest.raises(lamina.ValidationError, match="already"):
        net.ensemble("a", 10, 1)
    assert issubclass(lamina.ValidationError, lamina.LaminaError)
    a = net.ensemble("b", 10, 1)
    sim = lamina.NefSimulator(net, backend="cpu")
    with pytest.raises(lamina.SimulationError):
        sim.set_encoders(a, np.zeros((3, 3)))
    with pytest.raises(lamina.LaminaError):
        lamina.Network().population("p", 0)


def test_callback_exceptions_propagate():
    def boom(t):
        raise ValueError("from the node")

    net = lamina.NefNetwork()
    n = net.node("n", boom, size_out=1)
    e = net.ensemble("e", 10, 1)
    net.connect(n, e)
    sim = lamina.NefSimulator(net, backend="cpu")
    with pytest.raises(ValueError, match="from the node"):
        sim.run(0.01)


def spiking(seed=7):
    net = lamina.Network(seed=seed)
    exc = net.population("exc", 80, v_init_mv=lamina.Uniform(-70, -55))
    inh = net.population("inh", 20)
    net.connect(exc, inh, "fixed_probability", weight_pa=300.0, delay_ms=1.5, p=0.2)
    net.connect(inh, exc, "fixed_in_degree", weight_pa=lamina.Normal(-200, 20, high=0),
                delay_ms=lamina.Uniform(1, 3), in_degree=5)
    net.poisson(exc, in_degree=100, rate_hz=20.0, weight_pa=90.0)
    net.current(inh, np.linspace(300, 400, 20))
    return net, exc, inh, net.probe_spikes(exc), net.probe_state(inh.slice(0, 3), 1.0)


def test_spiking_run_spikes_state():
    net, exc, inh, sp, st = spiking()
    sim = lamina.Simulator(net, backend="cpu")
    sim.run(0.2)
    steps, times, neurons = sim.spikes(sp)
    assert steps.dtype == np.uint64 and neurons.dtype == np.uint32
    assert len(steps) == len(times) == len(neurons) > 0
    assert neurons.max() < 80 and np.allclose(times, steps * 1e-4)
    v = sim.state(st, "v")
    assert v.shape == (200, 3) and len(sim.state_times(st)) == 200
    # Same seed, same spikes.
    net2, *_, sp2, _ = spiking()
    sim2 = lamina.Simulator(net2, backend="cpu")
    sim2.run(0.2)
    assert np.array_equal(sim2.spikes(sp2)[0], steps)


def test_spiking_ablate_lesion_checkpoint(tmp_path):
    net, exc, inh, sp, _ = spiking()
    sim = lamina.Simulator(net, backend="cpu")
    sim.run(0.05)
    syn = sim.synapses(inh, exc)
    assert len(syn["pre"]) == 80 * 5 and (syn["weight_pa"] <= 0).all()
    assert sim.lesion(inh, exc) == 400
    assert (sim.synapses(inh, exc)["weight_pa"] == 0).all()
    sim.ablate(exc, range(40))
    n0 = sim.n_steps
    sim.run(0.05)
    steps, _, neurons = sim.spikes(sp)
    assert not np.any(neurons[steps > n0 + 1] < 40)
    ck = tmp_path / "s.npz"
    sim.checkpoint(ck)
    sim.run(0.05)
    again = lamina.Simulator.resume(net, ck, backend="cpu")
    again.run(0.05)
    assert np.array_equal(again.spikes(sp)[0], sim.spikes(sp)[0])


def test_builtin_and_model_file():
    cuba = lamina.builtin.cuba(neurons=400, seed=1)
    sim = lamina.Simulator(cuba["network"], backend="cpu")
    sim.run(0.1)
    assert len(sim.spikes(cuba["exc_spikes"])[0]) > 0
    assert "cpu" in sim.backend_description()
    model = lamina.load(os.path.join(ROOT, "examples", "models", "cuba.toml"))
    assert model["kind"] == "spiking" and model["duration_s"] > 0
    s = lamina.Simulator(model["network"], backend="cpu")
    s.run(0.02)
    assert model["spike_probes"]
    with pytest.raises(lamina.LaminaError):
        lamina.load(os.path.join(ROOT, "no-such-model.toml"))


def gpu_or_skip(make):
    try:
        return make()
    except lamina.DeviceError as e:
        pytest.skip(f"no GPU adapter: {e}")


def test_gpu_gives_the_cpu_bits():
    """On any adapter wgpu finds (a software one in CI), the same bits as the CPU twin."""
    net, *_, p, ps = nef_channel(seed=9)
    gpu = gpu_or_skip(lambda: lamina.NefSimulator(net, backend="gpu"))
    cpu = lamina.NefSimulator(net, backend="cpu")
    for sim in (gpu, cpu):
        sim.run(0.1)
    assert np.array_equal(gpu.data(ps), cpu.data(ps))
    assert np.array_equal(gpu.data(p), cpu.data(p))
    snet, *_, sp, _ = spiking(seed=9)
    sgpu = gpu_or_skip(lambda: lamina.Simulator(snet, backend="gpu"))
    scpu = lamina.Simulator(snet, backend="cpu")
    for sim in (sgpu, scpu):
        sim.run(0.05)
    assert np.array_equal(sgpu.spikes(sp)[2], scpu.spikes(sp)[2])


QUADRATIC = dict(
    states={"v": lamina.Uniform(-70.0, -60.0), "w": 0.0},
    params={"tau_w": 100.0},
    update="v = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - w + i_ext) + in_ex + in_in;\n"
           "w = w + dt * (0.2 * (v + 65.0) - w) / tau_w;",
    threshold="v >= 30.0",
    reset="v = -65.0; w = w + 6.0;",
)


def test_user_neuron_model_checked_and_run():
    bad = lamina.NeuronModel("typo", **{**QUADRATIC, "reset": "v = -65.0;\\nw = w + gg;"})
    with pytest.raises(lamina.SnippetError, match="gg"):
        lamina.Network().neurons("cells", 10, bad)
    net = lamina.Network(seed=3, dt_ms=0.5)
    cells = net.neurons("cells", 50, lamina.NeuronModel("quadratic", **QUADRATIC))
    net.current(cells, 40.0)  # above the saddle-node current: the neurons fire
    probe = net.probe_spikes(cells)
    with pytest.raises(lamina.LaminaError):  # no Rust twin: the CPU backend refuses it
        lamina.Simulator(net, backend="cpu").run(0.01)
    sim = gpu_or_skip(lambda: lamina.Simulator(net, backend="gpu"))
    sim.run(0.2)
    assert len(sim.spikes(probe)[0]) > 50


def test_user_synapse_model_checked():
    net, a, b, _, p, _ = nef_channel()
    conn = net.connect(a.neurons, b.neurons, transform=np.zeros((100, 100)))
    hebb = lamina.SynapseModel("capped_hebb", params={"rate": 1e-3}, post_traces={"apost": 0.02},
                               on_pre="w = min(w + rate * apost, 0.01);")
    net.learn(conn, hebb)
    with pytest.raises(lamina.SnippetError):
        net.learn(conn, lamina.SynapseModel("typo", per_step="w = w + nope;"))
    sim = gpu_or_skip(lambda: lamina.NefSimulator(net, backend="gpu"))
    sim.run(0.2)
    w = sim.weights(conn)
    assert w.max() > 0 and w.max() <= 0.01 + 1e-7  # grew on the GPU, capped by the snippet


def test_progress_bar_and_run_lengths(capsys):
    net, *_, p, _ = nef_channel()
    sim = lamina.NefSimulator(net, backend="cpu")
    sim.run(0.2, progress_bar=True)
    assert sim.n_steps == 200 and "100%" in capsys.readouterr().err
    sim.run(0.1, progress_bar=False)
    assert sim.n_steps == 300 and capsys.readouterr().err == ""
    with pytest.raises(lamina.SimulationError):
        sim.run(-1.0)
    snet, *_ = spiking()
    ssim = lamina.Simulator(snet, backend="cpu")
    ssim.run(0.01)
    ssim.step()
    assert ssim.n_steps == 101
    with pytest.raises(lamina.SimulationError):
        ssim.run(1e-5)  # shorter than one step


def test_nef_model_file():
    model = lamina.load(os.path.join(ROOT, "examples", "models", "channel.toml"))
    assert model["kind"] == "nef" and model["probes"]
    sim = lamina.NefSimulator(model["network"], backend="cpu")
    sim.run(0.05)
    for name, probe in model["probes"].items():
        assert sim.data(probe).shape[0] > 0, name
