"""Shared by the examples: a quick mode for the tests, JSON output, optional plots."""

import argparse
import json
import os

import numpy as np


def args(doc, **extra):
    ap = argparse.ArgumentParser(description=doc.strip().split("\n")[0])
    ap.add_argument("--out", default=".", help="folder for the plot (PNG)")
    ap.add_argument("--quick", action="store_true", help="a short run (what the tests use)")
    for k, v in extra.items():
        ap.add_argument(f"--{k}", type=type(v), default=v)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    return a


def rmse(x, y):
    return float(np.sqrt(np.mean((np.asarray(x) - np.asarray(y)) ** 2)))


def report(**fields):
    print(json.dumps(fields))


def plot(path, t, series, title, xlabel="time (s)"):
    """Lines over time, if matplotlib is installed; returns the path or None."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for label, y in series.items():
        ax.plot(t, y, label=label, lw=1)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
