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


# --------------------------------------------------------------------------------------------
# Plasticity on spiking projections, per-neuron parameters

W_MAX = 60.0
RULE = lamina.Stdp(a_plus_pa=3.0, a_minus_pa=-3.3, w_max_pa=W_MAX, tau_pre_ms=16.0,
                   tau_post_ms=33.0)


def plastic_net(rule="stdp", seed=11, n_in=60, n_post=3):
    """Seeded irregular spike trains through explicit plastic synapses with random delays onto
    LIF neurons held just under threshold: the post spikes come from the plastic input."""
    rng = np.random.default_rng(seed)
    net = lamina.Network(seed=seed)
    times = [np.cumsum(rng.exponential(1000 / 20.0, size=40)) for _ in range(n_in)]
    src = net.spike_source("src", [t[t < 1000] for t in times])
    post = net.population("post", n_post, i_e_pa=350.0, v_init_mv=lamina.Uniform(-70, -60))
    pre_idx, post_idx = np.divmod(np.arange(n_in * n_post), n_post)
    w0 = rng.uniform(0, W_MAX, size=n_in * n_post)
    delays = 0.1 * rng.integers(1, 31, size=n_in * n_post)
    proj = net.connect(src, post, "explicit", pre=pre_idx, post=post_idx, weight_pa=w0,
                       delay_ms=delays)
    if rule == "stdp":
        net.stdp(proj, RULE)
    elif rule is not None:
        net.synapse_model(proj, rule, W_MAX)
    return net, proj, net.probe_spikes(src), net.probe_spikes(post), w0


def restated_stdp(syn, pre, post, rule, steps, dt_ms=0.1):
    """The rule of lamina.Stdp replayed in float32 from the recorded spikes: per synapse,
    arrivals (spike step + delay) before post spikes at one step, traces decayed by
    exp(-k dt / tau) rounded to float32 (0 past 20 time constants)."""

    def decay(k, tau):
        if k >= np.ceil(20 * tau / dt_ms) + 1:
            return np.float32(0)
        return np.float32(np.exp(-k * dt_ms / tau))

    def flush(x):
        return np.float32(0) if abs(x) < np.finfo(np.float32).tiny else np.float32(x)

    f = np.float32
    out = []
    for i, j, w, d in zip(syn["pre"], syn["post"], syn["weight_pa"], syn["delay_ms"]):
        k = int(round(d / dt_ms))
        events = [(int(t) + k, 0) for t, n in zip(pre[0], pre[2]) if n == i and t + k < steps]
        events += [(int(t), 1) for t, n in zip(post[0], post[2]) if n == j]
        w, apre, apost, last = f(w), f(0), f(0), 0
        for t, kind in sorted(events):
            apre = flush(apre * decay(t - last, rule.tau_pre_ms))
            apost = flush(apost * decay(t - last, rule.tau_post_ms))
            last = t
            if kind == 0:
                apre, w = flush(apre + f(rule.a_plus_pa)), flush(w + apost)
            else:
                apost, w = flush(apost + f(rule.a_minus_pa)), flush(w + apre)
            w = min(max(w, f(rule.w_min_pa)), f(rule.w_max_pa))
        out.append(w)
    return np.array(out, dtype=np.float32)


def test_stdp_weights_follow_the_rule_and_match_the_gpu():
    net, proj, p_src, p_post, w0 = plastic_net()
    sim = lamina.Simulator(net, backend="cpu")
    syn0 = sim.plastic_synapses(proj)
    # By pre neuron, then delay: the weights given, reordered, at float32 precision.
    assert len(syn0["pre"]) == 180 and (np.diff(syn0["pre"]) >= 0).all()
    assert np.allclose(np.sort(syn0["weight_pa"]), np.sort(w0), rtol=1e-6)
    sim.run(1.0)
    w = sim.plastic_weights(proj)
    assert w.dtype == np.float32 and w.shape == (180,)
    assert len(sim.spikes(p_post)[0]) > 10  # the post neurons fire, so the rule acts
    assert (w >= 0).all() and (w <= W_MAX).all()
    initial = syn0["weight_pa"].astype(np.float32)
    assert np.mean(w != initial) > 0.9  # nearly every synapse learned
    expected = restated_stdp(syn0, sim.spikes(p_src), sim.spikes(p_post), RULE, sim.n_steps)
    assert np.array_equal(w, expected)
    assert np.array_equal(sim.plastic_synapses(proj)["weight_pa"], w.astype(np.float64))
    gpu = gpu_or_skip(lambda: lamina.Simulator(net, backend="gpu"))
    gpu.run(1.0)
    assert np.array_equal(gpu.plastic_weights(proj), w)
    assert np.array_equal(gpu.spikes(p_post)[0], sim.spikes(p_post)[0])


def test_plastic_weights_written_and_refused():
    net, proj, *_ = plastic_net()
    sim = lamina.Simulator(net, backend="cpu")
    sim.run(0.1)
    sim.set_plastic_weights(proj, np.full(180, W_MAX))
    assert (sim.plastic_weights(proj) == np.float32(W_MAX)).all()
    with pytest.raises(lamina.SimulationError, match=r"weight 3 is 61 pA, outside"):
        sim.set_plastic_weights(proj, [W_MAX] * 3 + [61.0] + [0.0] * 176)
    with pytest.raises(lamina.SimulationError, match="180 plastic synapses; 2 weights"):
        sim.set_plastic_weights(proj, [1.0, 2.0])
    # A projection without a rule is not plastic: lamina says how to make it so.
    net2, proj2, *_ = plastic_net(rule=None)
    with pytest.raises(lamina.SimulationError, match="not plastic"):
        lamina.Simulator(net2, backend="cpu").plastic_weights(proj2)
    # Bad rules are refused when given, naming what is wrong.
    net3, proj3, *_ = plastic_net(rule=None)
    with pytest.raises(lamina.ValidationError, match="w_min_pa < w_max_pa"):
        net3.stdp(proj3, lamina.Stdp(a_plus_pa=1.0, a_minus_pa=-1.0, w_max_pa=-5.0))
    with pytest.raises(lamina.ValidationError, match="tau_pre_ms is 0"):
        net3.stdp(proj3, lamina.Stdp(a_plus_pa=1.0, a_minus_pa=-1.0, w_max_pa=5.0,
                                     tau_pre_ms=0.0))
    with pytest.raises(TypeError, match="lamina.Stdp"):
        net3.stdp(proj3, "stdp")


def test_song_abbott_rule():
    r = lamina.Stdp.song_abbott(6.0)
    assert (r.tau_pre_ms, r.tau_post_ms, r.w_min_pa, r.w_max_pa) == (20.0, 20.0, 0.0, 6.0)
    assert r.a_plus_pa == pytest.approx(0.06) and r.a_minus_pa == pytest.approx(-0.063)


def test_builtin_synapse_model_on_a_projection():
    """The built-in "stdp" synapse model (it has a Rust twin) on a spiking projection: weights
    and traces per synapse, the same on the CPU twin and a GPU adapter."""
    net = lamina.Network(seed=5)
    rng = np.random.default_rng(5)
    src = net.spike_source("src", [np.sort(rng.uniform(0, 500, 15)) for _ in range(40)])
    post = net.population("post", 2, i_e_pa=350.0)
    proj = net.connect(src, post, "all_to_all", weight_pa=lamina.Uniform(0, W_MAX),
                       delay_ms=lamina.Uniform(0.5, 3.0))
    net.synapse_model(proj, "stdp", W_MAX, tau_pre=0.02, tau_post=0.02, a_plus=2.0,
                      a_minus=-2.2, w_max=W_MAX)
    p_post = net.probe_spikes(post)
    sim = lamina.Simulator(net, backend="cpu")
    w_start = sim.plastic_weights(proj)
    sim.run(0.5)
    w = sim.plastic_weights(proj)
    assert len(sim.spikes(p_post)[0]) > 5
    assert np.mean(w != w_start) > 0.9 and (w >= 0).all() and (w <= W_MAX).all()
    apre = sim.plastic_model_state(proj, "apre")
    assert apre.shape == (80,) and apre.max() > 0
    with pytest.raises(lamina.SimulationError, match=r"no state variable or trace `nope`.*apre"):
        sim.plastic_model_state(proj, "nope")
    gpu = gpu_or_skip(lambda: lamina.Simulator(net, backend="gpu"))
    gpu.run(0.5)
    assert np.array_equal(gpu.plastic_weights(proj), w)
    assert np.array_equal(gpu.plastic_model_state(proj, "apost"),
                          sim.plastic_model_state(proj, "apost"))


def test_user_synapse_model_on_a_projection():
    net, proj, *_ = plastic_net(rule=None)
    with pytest.raises(lamina.ValidationError, match="per_step"):
        net.synapse_model(proj, lamina.SynapseModel("leak", per_step="w = w * 0.99;"), W_MAX)
    with pytest.raises(lamina.SnippetError, match="gg"):
        net.synapse_model(proj, lamina.SynapseModel("typo", on_pre="w = gg;"), W_MAX)
    with pytest.raises(lamina.ValidationError, match="max_weight_pa"):
        net.synapse_model(proj, lamina.SynapseModel("ok", on_pre="w = w;"), -1.0)
    # Every arrival takes 1 pA off the synapse, every post spike adds 2, within [0, w_max].
    model = lamina.SynapseModel("count", params={"w_max": W_MAX}, states={"arrivals": 0.0},
                                on_pre="arrivals = arrivals + 1.0;\n"
                                       "w = clamp(w - 1.0, 0.0, w_max);",
                                on_post="w = clamp(w + 2.0, 0.0, w_max);")
    net.synapse_model(proj, model, W_MAX)
    with pytest.raises(lamina.LaminaError):  # WGSL only: the CPU twin refuses it
        lamina.Simulator(net, backend="cpu")
    sim = gpu_or_skip(lambda: lamina.Simulator(net, backend="gpu"))
    syn = sim.plastic_synapses(proj)
    sim.run(0.5)
    arrivals = sim.plastic_model_state(proj, "arrivals")
    w = sim.plastic_weights(proj)
    assert arrivals.sum() > 100 and (w >= 0).all() and (w <= W_MAX).all()
    assert not np.array_equal(w, syn["weight_pa"].astype(np.float32))


def lif_row(v_th):
    """Ten LIF neurons on the same 450 pA: they settle at -52 mV, so a threshold of -55 mV
    fires and one of -50 mV does not."""
    net = lamina.Network(seed=1)
    pop = net.population("pop", 10, v_init_mv=-70.0)
    net.current(pop, 450.0)
    if v_th is not None:
        net.parameter_each(pop, "v_th_mv", v_th)
    return net, pop, net.probe_spikes(pop)


def test_per_neuron_threshold_changes_who_fires():
    thresholds = np.array([-55.0, -50.0] * 5)
    net, pop, probe = lif_row(thresholds)
    sim = lamina.Simulator(net, backend="cpu")
    sim.run(0.2)
    fired = np.unique(sim.spikes(probe)[2])
    assert fired.tolist() == [0, 2, 4, 6, 8]
    # Each neuron runs as it would in a population of its own with that threshold.
    alone = lamina.Network(seed=1)
    low = alone.population("low", 1, v_init_mv=-70.0, v_th_mv=-55.0)
    alone.current(low, 450.0)
    p_low = alone.probe_spikes(low)
    s_alone = lamina.Simulator(alone, backend="cpu")
    s_alone.run(0.2)
    steps, _, neurons = sim.spikes(probe)
    assert np.array_equal(steps[neurons == 0], s_alone.spikes(p_low)[0])
    gpu = gpu_or_skip(lambda: lamina.Simulator(net, backend="gpu"))
    gpu.run(0.2)
    assert np.array_equal(gpu.spikes(probe)[0], steps)
    assert np.array_equal(gpu.spikes(probe)[2], neurons)


def test_per_neuron_parameters_refused_with_a_message():
    net, pop, _ = lif_row(None)
    with pytest.raises(lamina.ValidationError, match=r"no parameter `v_thresh`.*v_th_mv"):
        net.parameter_each(pop, "v_thresh", np.full(10, -50.0))
    with pytest.raises(lamina.ValidationError):
        net.parameter_each(pop, "v_th_mv", np.full(3, -50.0))  # one value per neuron
    with pytest.raises(lamina.ValidationError, match="tau_m_ms"):
        net.parameter_each(pop.slice(0, 2), "tau_m_ms", [10.0, -1.0])


def test_per_neuron_model_parameters_read_back():
    """Izhikevich neurons are a neuron model with a Rust twin: per-neuron `d` on the CPU."""
    net = lamina.Network(seed=2)
    pop = net.izhikevich("rs", 6)
    net.parameter_each(pop.slice(2, 5), "d", [2.0, 4.0, 6.0])
    net.current(pop, 10.0)
    sim = lamina.Simulator(net, backend="cpu")
    assert np.allclose(sim.neuron_param_each(pop, "d"), [8, 8, 2, 4, 6, 8])
    assert np.allclose(sim.neuron_param_each(pop.slice(3, 6), "d"), [4, 6, 8])
    # Once one parameter is per neuron, the population keeps a row of them per neuron.
    with pytest.raises(lamina.SimulationError, match="value per neuron"):
        sim.neuron_param(pop, "a")
    sim.set_neuron_param(pop, "d", 3.0)
    assert np.allclose(sim.neuron_param_each(pop, "d"), 3.0)
    shared = lamina.Network(seed=2)
    rs = shared.izhikevich("rs", 4)
    s2 = lamina.Simulator(shared, backend="cpu")
    assert s2.neuron_param(rs, "a") == pytest.approx(0.02)
    s2.set_neuron_param(rs, "a", 0.1)
    assert s2.neuron_param(rs, "a") == pytest.approx(0.1)
    with pytest.raises(lamina.SimulationError, match=r"no parameter `e`"):
        sim.neuron_param_each(pop, "e")
