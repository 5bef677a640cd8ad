"""The one place money, numbers and names become text for reports and the terminal.

* Money: :func:`money` (``1.23 bn USD``, ``374.10 m USD``, ``25,000 USD``; ``—`` for none, the form
  the terminal summary and the workbooks show) and :func:`money_or_na` (``n/a`` for none, the form
  the recommendation sentences use); :func:`money_bare` without a currency. Never ``-0``
  (:func:`whole`). They are :func:`optimiser.numbers.money` and :func:`optimiser.numbers.whole`, which
  the analysis layers below use directly.
* Shares: :func:`pct_words` (``2.1 %``, ``10 %``).
* Names: :func:`safe_stem` and :func:`safe_key` (from :mod:`optimiser.names`), :func:`table_prefix` (an Excel Table-name prefix), :func:`short` (a label cut
  with an ellipsis).
* Input cells: :func:`input_cell`, text spelling a number typed as a number (the Inputs sheet).
"""

from __future__ import annotations

import math
from typing import Any

from ..names import SAFE_STEM_CHARS, safe_key, safe_stem
from ..numbers import money, whole

__all__ = ["money", "money_or_na", "money_bare", "whole", "pct_words", "short", "safe_stem", "safe_key",
           "table_prefix", "input_cell", "SAFE_STEM_CHARS"]



def money_or_na(x: float | None, currency: str) -> str:
    """:func:`money`, with ``n/a`` for a missing amount (the form sentences use)."""
    return money(x, currency, missing="n/a")


def money_bare(x: float | None) -> str:
    """:func:`money` without a currency: ``1.23 bn``, ``25,000``, ``—``."""
    return money(x, "").strip()


def pct_words(x: float) -> str:
    """A share in words: ``0.021`` → ``2.1 %``, ``0.1`` → ``10 %`` (one decimal, ``.0`` dropped)."""
    text = f"{x * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + " %"


def short(text: str, n: int = 24) -> str:
    """``text`` in at most ``n`` characters, cut with ``…``."""
    text = str(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def table_prefix(prefix: str) -> str:
    """A sheet prefix as the start of an Excel Table name: letters and digits, others ``_``."""
    return "".join(ch if ch.isalnum() else "_" for ch in prefix)


def input_cell(value: Any, col_type: str | None) -> Any:
    """An input cell as the Inputs sheet shows it: text spelling a number exactly (``5``, ``0.1``) becomes
    a number in a number column (``int``/``float``; integers below 1e15); anything else as it is.

    (The instance writer, :mod:`optimiser.writers`, types cells too, for a lossless CSV ⇄ xlsx round trip:
    there integers up to 1e16, ``TRUE``/``FALSE`` in true/false columns, NaN as text.)"""
    if hasattr(value, "text") and not isinstance(value, str):  # a formula without a cached value
        return value.text
    if hasattr(value, "values") and isinstance(getattr(value, "values"), tuple):  # cells beyond the header
        return " ".join(str(v) for v in value.values)
    if not isinstance(value, str):
        return value
    if col_type in ("int", "float"):
        try:
            x = float(value)
        except ValueError:
            return value
        if math.isfinite(x):
            if x.is_integer() and abs(x) < 1e15 and str(int(x)) == value:
                return int(x)
            if repr(x) == value:
                return x
    return value
