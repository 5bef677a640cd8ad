"""What the planner may set for a solve (:class:`SolveOptions`): checked on creation, turned into HiGHS options.

:meth:`SolveOptions.from_flags` builds the options from the command-line flags (``--highs-option
NAME=VALUE`` parsed here), :meth:`SolveOptions.highs_settings` gives the HiGHS option names and
values they stand for.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import InputError
from .arrays import INF
from .highs import check_highs_options

LocalSearch = Literal["auto", "on", "off"]
LinkingRows = Literal["auto", "all", "needed"]
SecondCore = Literal["auto", "off"]

#: HiGHS options that read or write a file, or switch such writing on (HiGHS 1.16's list; any
#: other option whose name says "file", starts with write_ or read_ is refused the same way).
FILE_OPTIONS = frozenset({
    "log_file", "solution_file", "write_solution_to_file", "write_solution_style", "read_solution_file",
    "read_basis_file", "write_basis_file", "write_model_file", "write_model_to_file",
    "write_presolved_model_file", "write_presolved_model_to_file", "write_iis_model_file",
    "mip_improving_solution_file", "glpsol_cost_row_location",
})
#: HiGHS options that put its log on stdout (where --json goes).
CONSOLE_OPTIONS = frozenset({"output_flag", "log_to_console"})


@dataclass(frozen=True)
class SolveOptions:
    """What the planner may set; every HiGHS option name is checked before the run."""

    time_limit: float | None = None
    mip_gap: float | None = None
    threads: int | None = None
    seed: int | None = None
    highs_options: dict[str, Any] = field(default_factory=dict)
    write_model: Path | None = None
    duals: bool = True
    log: bool = False
    #: Run a MIP in a child process that can be stopped at the deadline (optimiser.isolation).
    isolate: bool = True
    #: Look for a start plan before HiGHS's MIP (optimiser.solver.local_search): auto | on | off.
    #: ``auto``: on MIPs of LOCAL_SEARCH_MIN_ROWS rows or more. Only where the MIP runs isolated.
    local_search: LocalSearch = "auto"
    #: Which linking rows HiGHS's MIP gets (optimiser.solver.row_generation): auto | all | needed.
    #: ``needed``: only those its LP relaxation needs (same optimum, a much smaller LP);
    #: ``auto``: so on the facility-location shape (see optimiser.solver.child). Only where isolated.
    linking_rows: LinkingRows = "auto"
    #: Use the machine's second core beside the MIP child's own search: auto | off. ``auto``, with
    #: a second CPU: the LP relaxation's bound while the plan is built (where the construction runs,
    #: below 500,000 rows: optimiser.solver.lp_bound), the start-plan search beside the row
    #: generation (facility-location shape: optimiser.solver.beside). Jobs of ``compare`` and the
    #: like run with ``off`` (their workers use the cores; the same answers with any number of them).
    second_core: SecondCore = "auto"

    def __post_init__(self) -> None:
        """Refuse what HiGHS would misread or spend minutes on (InputError, one line each):
        time limit a finite number of seconds > 0; gap in [0, 1); 1 ≤ threads ≤ :func:`max_threads`;
        0 ≤ seed ≤ 2^31 − 1; ``local_search``, ``linking_rows`` and ``second_core`` one of their words; HiGHS
        options that read or write files (:data:`FILE_OPTIONS`; the project's ``--write-model``
        and ``--log`` do that through its own output rules); then every HiGHS option's name and
        value (:func:`~optimiser.solver.highs.check_highs_options`)."""
        if self.time_limit is not None and not (_is_number(self.time_limit) and 0 < self.time_limit < INF):
            raise InputError(f"--time-limit {self.time_limit!r}: give a number of seconds > 0 (e.g. 60)")
        if self.mip_gap is not None and not (_is_number(self.mip_gap) and 0 <= self.mip_gap < 1):
            raise InputError(f"--mip-gap {self.mip_gap!r}: give a fraction in [0, 1), e.g. 0.001 for 0.1 %")
        if self.threads is not None:
            check_threads(self.threads, "--threads")
        if self.seed is not None and not (isinstance(self.seed, int) and 0 <= self.seed <= 2**31 - 1):
            raise InputError(f"--seed {self.seed!r}: give a whole number from 0 to 2147483647")
        if self.local_search not in ("auto", "on", "off"):
            raise InputError(f"--local-search {self.local_search!r}: use auto, on or off")
        if self.linking_rows not in ("auto", "all", "needed"):
            raise InputError(f"--linking-rows {self.linking_rows!r}: use auto, all or needed")
        if self.second_core not in ("auto", "off"):
            raise InputError(f"--second-core {self.second_core!r}: use auto or off")
        if self.write_model is not None and Path(self.write_model).suffix.lower() not in (".mps", ".lp"):
            raise InputError(f"--write-model {_short(self.write_model)}: use a .mps or .lp suffix")
        for name, value in self.highs_options.items():
            refuse_file_option(name)
            if isinstance(value, float) and math.isnan(value):
                raise InputError(f"--highs-option {name}=nan: give a number")
            if name == "threads":
                check_threads(value, "--highs-option threads")
        if self.highs_options:
            check_highs_options(dict(self.highs_options))

    @classmethod
    def from_flags(cls, time_limit: float | None = None, mip_gap: float | None = None, threads: int | None = None,
                   seed: int | None = None, highs_option: list[str] | None = None, write_model: Path | None = None,
                   log: bool = False, local_search: str = "auto", linking_rows: str = "auto",
                   second_core: str = "auto") -> "SolveOptions":
        """The options as the command line gives them: ``highs_option`` items ``NAME=VALUE`` (the
        value read as true/false, an integer, a float, else text); checked (InputError)."""
        extra: dict[str, Any] = {}
        for item in highs_option or []:
            if "=" not in item:
                raise InputError(f"--highs-option {item!r}: write it as NAME=VALUE")
            k, v = item.split("=", 1)
            extra[k.strip()] = parse_scalar(v.strip())
        return cls(time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed, highs_options=extra,
                   write_model=write_model, log=log, local_search=local_search,  # type: ignore[arg-type]
                   linking_rows=linking_rows, second_core=second_core)  # type: ignore[arg-type]

    def highs_settings(self) -> dict[str, Any]:
        """The HiGHS options these stand for: time_limit, mip_rel_gap, threads, random_seed (those
        set), then every ``highs_options`` entry (which wins)."""
        d: dict[str, Any] = {}
        if self.time_limit is not None:
            d["time_limit"] = float(self.time_limit)
        if self.mip_gap is not None:
            d["mip_rel_gap"] = float(self.mip_gap)
        if self.threads is not None:
            d["threads"] = int(self.threads)
        if self.seed is not None:
            d["random_seed"] = int(self.seed)
        d.update(self.highs_options)
        return d


def parse_scalar(v: str) -> Any:
    """A ``--highs-option`` value: ``true``/``false`` (any case), an integer, a float, else the text."""
    low = v.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


def refuse_file_option(name: str) -> None:
    """A HiGHS option that would read or write files, or print to stdout, is refused with the
    project's own flag to use instead: files written by HiGHS would not pass the project's output
    rules (never an input, atomic, regular files only)."""
    low = str(name).strip().lower()
    if low in CONSOLE_OPTIONS:
        raise InputError(f"--highs-option {name}: not allowed (it prints to stdout); use --log for the "
                         "HiGHS log on stderr")
    if low in FILE_OPTIONS or "file" in low or low.startswith(("write_", "read_")):
        raise InputError(f"--highs-option {name}: HiGHS options that read or write files are not allowed; "
                         "use --write-model PATH (.mps/.lp) for the model, --log for the HiGHS log (stderr), "
                         "--out for the report")


def max_threads() -> int:
    """Most HiGHS threads allowed: 4 per CPU, at least 16 (more only queue on the same cores)."""
    return max(16, 4 * (os.cpu_count() or 1))


def check_threads(value: Any, flag: str) -> None:
    """A thread count: a whole number from 1 to :func:`max_threads` (InputError naming ``flag``)."""
    if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= max_threads()):
        raise InputError(f"{flag} {value!r}: give a whole number from 1 to {max_threads()} "
                         f"(this machine has {os.cpu_count() or 1} CPU(s))")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and not math.isnan(x)


def _short(path: Any) -> str:
    from ..writers import shown  # noqa: PLC0415 — the file layer only for this message

    return shown(path)
