//! Lowering of the NEF path: decoder and weight solvers (as Nengo 4's `nengo/solvers.py`).

pub mod solvers;
