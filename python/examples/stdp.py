"""STDP on a spiking projection: Song, Miller and Abbott (2000), "Competitive Hebbian learning
through spike-timing-dependent synaptic plasticity". 1,000 Poisson-like inputs (15 Hz) excite
4 LIF neurons through plastic synapses with random delays (0.1 to 5 ms); additive STDP with
depression slightly stronger than potentiation (``lamina.Stdp.song_abbott``: Brian2's example
rule) drives the weights apart, many towards zero and some towards the maximum, so their
histogram, uniform at the start, becomes bimodal. The Rust example ``song_abbott`` runs the
same network; this one runs 200 s (40 s with ``--quick``, or ``--seconds``) on the default
backend and prints the fractions of weights near 0 and near w_max, beside the initial ones.
"""

import os

import numpy as np

import lamina
from _common import args, report

a = args(__doc__, seconds=0.0)
SECONDS = a.seconds or (40.0 if a.quick else 200.0)
N_IN, N_POST, RATE_HZ, W_MAX, MAX_DELAY_MS, DT_MS = 1000, 4, 15.0, 6.0, 5.0, 0.1

rng = np.random.default_rng(2000)
net = lamina.Network(seed=2000, dt_ms=DT_MS)
# Exponential intervals drawn on the host (the same trains on every backend); a few more than
# the mean count, cut at the run's end.
n_draw = int(RATE_HZ * SECONDS * 1.5) + 20
times = np.cumsum(rng.exponential(1000.0 / RATE_HZ, size=(N_IN, n_draw)), axis=1)
inputs = net.spike_source("inputs", [t[t < SECONDS * 1000.0] for t in times])
# Song et al.'s neuron as current-based LIF: 20 ms membrane, rest -70 mV, threshold -54 mV,
# reset -60 mV, 5 ms synapses. With every weight at w_max the drive is about twice what
# reaches threshold: learning has to pick which inputs stay strong.
post = net.population("post", N_POST, tau_m_ms=20.0, c_m_pf=250.0, e_l_mv=-70.0,
                      v_reset_mv=-60.0, v_th_mv=-54.0, t_ref_ms=1.0, tau_syn_ex_ms=5.0,
                      tau_syn_in_ms=5.0, v_init_mv=lamina.Uniform(-70.0, -54.0))
pre_idx, post_idx = np.divmod(np.arange(N_IN * N_POST), N_POST)
initial = rng.uniform(0.0, W_MAX, size=N_IN * N_POST)
max_delay_steps = int(round(MAX_DELAY_MS / DT_MS))
delays = DT_MS * rng.integers(1, max_delay_steps + 1, size=N_IN * N_POST)
proj = net.connect(inputs, post, "explicit", pre=pre_idx, post=post_idx, weight_pa=initial,
                   delay_ms=delays)
net.stdp(proj, lamina.Stdp.song_abbott(W_MAX))
probe = net.probe_spikes(post)

sim = lamina.Simulator(net)
sim.run(SECONDS)
w = sim.plastic_weights(proj).astype(np.float64)
window = min(SECONDS, 10.0)
late = np.count_nonzero(sim.spikes(probe)[1] >= SECONDS - window)


def near(x, bound):
    """Fraction of weights within 10% of w_max of ``bound``."""
    return float(np.mean(np.abs(x - bound) <= 0.1 * W_MAX))


png = None
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    bins = np.linspace(0.0, W_MAX, 21)
    ax.hist(initial, bins=bins, alpha=0.6, label="initial weights (uniform)", color="grey")
    ax.hist(w, bins=bins, alpha=0.7, label=f"after {SECONDS:g} s of STDP")
    ax.set_xlabel("synaptic weight (pA)")
    ax.set_ylabel("number of synapses")
    ax.set_title(f"STDP on {len(w)} synapses with delays (Song, Miller & Abbott 2000)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    png = os.path.join(a.out, "stdp_weights.png")
    fig.savefig(png, dpi=100)
    plt.close(fig)
except ImportError:
    pass

report(example="stdp", backend=sim.backend_description(), seconds=SECONDS, synapses=len(w),
       max_delay_steps=max_delay_steps, w_max_pa=W_MAX,
       fraction_near_zero=near(w, 0.0), fraction_near_max=near(w, W_MAX),
       initial_fraction_near_zero=near(initial, 0.0),
       initial_fraction_near_max=near(initial, W_MAX),
       post_rate_hz=late / (N_POST * window), plot=png)
