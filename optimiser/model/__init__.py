"""The planning MILP: one module per constraint family, assembled in :func:`build_model`."""

from .build import FAMILIES, build_model
from .sets import ModelData, prepare

__all__ = ["FAMILIES", "ModelData", "build_model", "prepare"]
