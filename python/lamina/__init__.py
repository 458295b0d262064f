"""lamina: a GPU spiking neural network engine, from Python.

Two kinds of model, as in the Rust API:

- NEF models, as Nengo describes them (:class:`NefNetwork`, :class:`NefSimulator`):
  ensembles, nodes, connections with solved decoders, PES and plastic synapse models, probes.
  :mod:`lamina.nengo` runs an unchanged ``nengo.Network`` on lamina.
- Spiking networks, as Brian2 and NEST describe them (:class:`Network`, :class:`Simulator`):
  populations, projections with delays (STDP or a synapse model on them), per-neuron
  parameters, Poisson and current inputs, spike and state probes.
  Units are ms, mV, pF and pA.

Every simulator runs on a GPU through wgpu, or on the CPU twin that gives the same bits
(``backend="auto"`` picks a hardware GPU when there is one, else the CPU twin). Arrays come
back as numpy arrays; errors are :class:`LaminaError` subclasses carrying lamina's message.
"""

from . import _lamina
from ._lamina import (
    BuildError,
    DeviceError,
    LaminaError,
    NumericalError,
    ShaderError,
    SimulationError,
    SnippetError,
    ValidationError,
)
from ._api import (
    LIF,
    Alpha,
    Choice,
    Dale,
    Gaussian,
    Izhikevich,
    LIFRate,
    Lowpass,
    LstsqL2,
    NefNetwork,
    NefSimulator,
    Network,
    NeuronModel,
    SynapseModel,
    Nnls,
    Stdp,
    RectifiedLinear,
    ScatteredHypersphere,
    Simulator,
    SpikingRectifiedLinear,
    Uniform,
    UniformHypersphere,
    Normal,
    load,
)
from . import builtin

__version__ = _lamina.__version__

__all__ = [
    "Alpha",
    "BuildError",
    "Choice",
    "Dale",
    "DeviceError",
    "Gaussian",
    "Izhikevich",
    "LIF",
    "LIFRate",
    "LaminaError",
    "Lowpass",
    "LstsqL2",
    "NefNetwork",
    "NefSimulator",
    "Network",
    "NeuronModel",
    "SynapseModel",
    "Nnls",
    "Normal",
    "NumericalError",
    "RectifiedLinear",
    "ScatteredHypersphere",
    "ShaderError",
    "SimulationError",
    "Simulator",
    "SnippetError",
    "Stdp",
    "SpikingRectifiedLinear",
    "Uniform",
    "UniformHypersphere",
    "ValidationError",
    "builtin",
    "load",
]
