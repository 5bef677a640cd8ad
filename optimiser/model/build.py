"""Assemble the model from its families, in one flat, readable list."""

from __future__ import annotations

from typing import Callable

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from .availability import define_availability
from .bom import define_bom
from .budget import define_budget
from .capacity import define_capacity, define_ramp_up
from .compile import LINE_FACTORY_ATTRIBUTE
from .demand import define_demand
from .flow import define_flow
from .linking import define_running_link, define_running_needs_tooling, define_ship_link
from .objective import define_objective
from .options import define_option_gating
from .sets import ModelData
from .share import define_share_target
from .sourcing import define_sourcing
from .tooling import define_tooling_link
from .variables import define_variables

Family = Callable[[pyo.ConcreteModel, ModelData], None]

FAMILIES: tuple[Family, ...] = (
    define_variables,
    define_capacity,          # 1
    define_ramp_up,           # 1 (first year of a built line)
    define_tooling_link,      # 2
    define_sourcing,          # 3
    define_availability,      # 4
    define_option_gating,     # 5
    define_flow,              # 6
    define_demand,            # 7
    define_bom,               # 8
    define_budget,            # 9
    define_share_target,      # 10
    define_running_link,      # valid inequalities (tighter LP): make ≤ U·active
    define_ship_link,         #   ship ≤ d·Σ active
    define_running_needs_tooling,  # active ≤ Σ tool
    define_objective,
)


def build_model(md: ModelData) -> pyo.ConcreteModel:
    """A Pyomo model of ``md`` (first stage shared, second stage per scenario).

    The large families are :class:`~.matrix.LinearRows` (sparse rows stored as arrays) and the
    objective a :class:`~.matrix.LinearObjective`; see :mod:`.matrix`. Python's cyclic garbage
    collector is paused while building (no cycles are made; its passes over millions of new
    objects would cost about a fifth of the time). The model keeps ``md.line_factory`` as a plain
    attribute (:data:`~.compile.LINE_FACTORY_ATTRIBUTE`): the compiled model's column sites
    (:func:`~.compile.column_sites`) come from it.
    """
    m = pyo.ConcreteModel(name=f"{md.instance_name}:{md.strategy}")
    with PauseGC():
        for family in FAMILIES:
            family(m, md)
    setattr(m, LINE_FACTORY_ATTRIBUTE, dict(md.line_factory))
    return m
