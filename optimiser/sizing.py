"""Model size from the prepared index sets, before anything is built (`solve --dry-run`)."""

from __future__ import annotations

from dataclasses import dataclass

from .model.sets import ModelData

#: Peak memory per model element (variable or constraint, incl. the compiled matrices and
#: HiGHS's own copy), from the whole-run peaks measured on generated instances
#: (benchmarks/README.md: large 3.0 GiB for 1.77 M elements, xl 4.7 GiB for 4.41 M): the
#: larger of the two, so the estimate errs high.
BYTES_PER_ELEMENT = 1_900
#: Above this many variables the CLI prints the estimate before building.
WARN_VARIABLES = 1_000_000


@dataclass(frozen=True)
class ModelSize:
    variables: int
    binaries: int
    constraints: int
    scenarios: int

    @property
    def memory_bytes(self) -> int:
        return int((self.variables + self.constraints) * BYTES_PER_ELEMENT + 150e6)

    def describe(self) -> str:
        return (f"about {self.variables:,} variables ({self.binaries:,} binary) and {self.constraints:,} constraints "
                f"over {self.scenarios} scenario(s); estimated peak memory {self.memory_bytes / 2**30:.1f} GiB")


def variable_counts(md: ModelData) -> tuple[int, int]:
    """(binary, continuous) variables the builder will create — cheap: lengths of index sets."""
    binaries = (len(md.options) + len(md.build_index) + len(md.tool_index) + len(md.active_index)
                + len(md.takeyear_index))  # takeyear[o,τ,s]: a later option taken in τ in scenario s
    continuous = (len(md.make_index) + len(md.ship_index) + len(md.demand_index) + len(md.internal_index)
                  + len(md.extbuy_index) + (len(md.scenarios) if md.share_penalty is not None and md.share_rhs else 0))
    return binaries, continuous


def estimate(md: ModelData) -> ModelSize:
    """Counts of the variables and constraints the builder will create (upper bounds for optional rows)."""
    binaries, continuous = variable_counts(md)
    ramp = sum(1 for k in md.active_index if k[0] in md.ramp_up)
    cand_active = sum(1 for k in md.active_index if k[0] in md.build_years)
    gated = sum(1 for k in md.active_index if k[0] in md.requires_option)
    constraints = (len(md.active_index) + ramp + len(md.make_index) + len({p for p, _ in md.tool_index})
                   + len(md.build_years) + cand_active + len(md.tool_index) + gated + len(md.exclusive_groups)
                   + len(md.flow_index) + len(md.demand_index) + len(md.bom_index) + len(md.budget)
                   + (len(md.scenarios) if md.share_rhs else 0))
    if md.later:  # later options: their two rows per scenario; budget, exclusive groups and sourcing per scenario
        extra = len(md.scenarios) - 1
        constraints += (2 * len(md.later) * len(md.scenarios)
                        + extra * (len(md.budget) + len(md.exclusive_groups) + len({p for p, _ in md.tool_index})))
    if md.tighten:  # the linking inequalities (model/linking.py)
        from .model.linking import running_costs, running_link_index, ship_link_index  # noqa: PLC0415

        constraints += (len(running_link_index(md)) + len(ship_link_index(md))
                        + sum(1 for k in md.active_index if running_costs(md, k[0])))
    return ModelSize(binaries + continuous, binaries, constraints, len(md.scenarios))
