"""Numbers as a planner sees them: solver noise shown as 0, money in one compact form, never "-0".

HiGHS solves to tolerances (primal feasibility 1e-7, a relative MIP gap), so a difference of two
optimal NPVs — a regret, EVPI, VSS — can come out as −5.6e-07 where the exact answer is 0.
:func:`snap` sets such values to 0 before they are printed or written (terminal, JSON, workbook);
:func:`money` and :func:`whole` are the one way money and unit counts are written as text.
"""

from __future__ import annotations

import math

#: Values smaller than this fraction of the figures they are compared with are solver noise.
REL_TOL = 1e-6
#: Below this absolute size a value is 0 whatever the scale.
ABS_TOL = 1e-9


def tolerance(scale: float = 0.0, gap: float | None = None) -> float:
    """The noise level of a value derived from solves of size ``scale``: max(1e-6·|scale|, gap·|scale|, 1e-9).

    ``gap`` is the largest relative MIP gap of the solves involved (their optimality is only
    proven to within it, so differences below gap·|scale| are not meaningful).
    """
    s = abs(scale) if scale is not None and math.isfinite(scale) else 0.0
    g = gap if gap is not None and math.isfinite(gap) and gap > 0 else 0.0
    return max(REL_TOL * s, g * s, ABS_TOL)


def snap(x: float | None, tol: float = ABS_TOL) -> float | None:
    """``x`` with |x| < ``tol`` as 0.0 (and −0.0 as 0.0); ``None`` and NaN unchanged."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return x
    return 0.0 if abs(x) < tol else x + 0.0


def whole(x: float) -> str:
    """``x`` rounded to a whole number with thousands separators; never ``-0``."""
    text = f"{x:,.0f}"
    return "0" if text == "-0" else text


def money(x: float | None, currency: str, missing: str = "—") -> str:
    """Money compactly: ``1.23 bn USD``, ``374.10 m USD``, ``25,000 USD``; ``missing`` for none."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return missing
    a = abs(x)
    for div, unit in ((1e9, "bn"), (1e6, "m")):
        if a >= div:
            return f"{x / div:,.2f} {unit} {currency}"
    return f"{whole(x)} {currency}"
