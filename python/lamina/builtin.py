"""The built-in models the command line runs, as Python objects."""

from . import _lamina
from ._api import Network


def cuba(neurons: int = 4000, seed: int = 1) -> dict:
    """The Vogels-Abbott CUBA benchmark as in Brian2's example: a dict with ``network``,
    ``excitatory``, ``inhibitory``, ``exc_spikes`` and ``inh_spikes``."""
    d = _lamina.cuba(neurons, seed)
    d["network"] = Network._wrap(d["network"])
    return d


def microcircuit(scale: float = 1.0, seed: int = 1, thalamus: bool = False) -> dict:
    """The Potjans-Diesmann (2014) cortical microcircuit (77,169 neurons at scale 1): a dict
    with ``network``, ``populations`` and ``spikes`` (one probe per population)."""
    d = _lamina.microcircuit(scale, seed, thalamus)
    d["network"] = Network._wrap(d["network"])
    return d
