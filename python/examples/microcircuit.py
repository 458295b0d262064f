"""The Potjans-Diesmann (2014) cortical microcircuit built from Python: 77,169 neurons and
about 3e8 synapses at scale 1 (a Brian2 user's model), from the published parameter table,
with the rate of every population and a raster plot. ``--scale`` shrinks the neuron counts
and keeps the in-degrees. (``lamina.builtin.microcircuit`` is the same network, built in Rust.)
"""

import math
import os
import tomllib  # Python 3.11+

import numpy as np

import lamina
from _common import args, report

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "builtin",
                     "pd14.toml")


def _round(x):
    """Half away from zero, as the reference code (and Rust's f64::round) rounds."""
    return int(math.floor(x + 0.5))


def build(scale, seed=1, table=TABLE):
    """The network, its populations and one spike probe per population."""
    with open(table, "rb") as f:
        p = tomllib.load(f)
    full = p["sizes"]
    sizes = [_round(n * scale) for n in full]
    net = lamina.Network(seed=seed, dt_ms=p["dt"])
    neuron = dict(tau_m_ms=p["tau_m"], c_m_pf=p["c_m"], e_l_mv=p["e_l"],
                  v_reset_mv=p["v_reset"], v_th_mv=p["v_th"], t_ref_ms=p["t_ref"],
                  tau_syn_ex_ms=p["tau_syn"], tau_syn_in_ms=p["tau_syn"],
                  v_init_mv=lamina.Normal(p["v0_mean"], p["v0_sd"]))
    pops = [net.population(name, n, **neuron) for name, n in zip(p["populations"], sizes)]
    excitatory = [name.endswith("E") for name in p["populations"]]
    w = p["w_mean"]
    for t, target in enumerate(pops):
        for s, source in enumerate(pops):
            prob = p["conn_probs"][t][s]
            if prob <= 0:
                continue
            # Synapses at full scale (fixed total number, as the reference code), scaled with
            # the target so that in-degrees stay.
            k_full = _round(math.log(1 - prob) / math.log(1 - 1 / (full[s] * full[t])))
            k = _round(k_full * sizes[t] / full[t])
            if k == 0:
                continue
            if excitatory[s]:
                mean = w * (p["w_l4e_to_l23e"] if (source.name, target.name) == ("L4E", "L23E")
                            else 1.0)
                weight = lamina.Normal(mean, p["w_rel_sd"] * mean, low=0.0)
                d = p["delay_exc"]
            else:
                mean = p["g"] * w
                weight = lamina.Normal(mean, p["w_rel_sd"] * abs(mean), high=0.0)
                d = p["delay_inh"]
            delay = lamina.Normal(d, p["delay_rel_sd"] * d, low=p["dt"], clamp=True)
            net.connect(source, target, "fixed_total_number", weight_pa=weight,
                        delay_ms=delay, n=k)
        net.poisson(target, in_degree=p["k_ext"][t], rate_hz=p["bg_rate"], weight_pa=w)
    return net, pops, [net.probe_spikes(pop) for pop in pops]

def main():
    a = args(__doc__, scale=1.0, duration=1.1, transient=0.1)
    if a.quick:
        a.scale, a.duration, a.transient = 0.02, 0.3, 0.1

    net, pops, probes = build(a.scale, seed=1)
    sim = lamina.Simulator(net)
    sim.run(a.duration)
    rates = {}
    for pop, probe in zip(pops, probes):
        rates[pop.name] = float(np.mean(sim.rates_hz(probe, len(pop), t_start=a.transient)))

    png = None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 5))
        offset = 0
        for pop, probe in zip(pops, probes):
            _, times, neurons = sim.spikes(probe)
            keep = neurons % max(1, len(pop) // 200) == 0  # at most ~200 rows a population
            ax.plot(times[keep], offset + neurons[keep], ",", label=pop.name)
            offset += len(pop)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("neuron")
        ax.invert_yaxis()
        ax.legend(markerscale=20, fontsize=7, loc="upper right")
        png = os.path.join(a.out, "microcircuit_raster.png")
        fig.savefig(png, dpi=100)
        plt.close(fig)
    except ImportError:
        pass

    report(example="microcircuit", backend=sim.backend_description(), scale=a.scale,
           neurons=net.neuron_count, duration_s=a.duration, build_s=sim.build_seconds,
           rates_hz=rates, plot=png)


if __name__ == "__main__":
    main()
