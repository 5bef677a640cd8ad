"""Cell values as text: how a date, a number or any cell is written and quoted.

One place for the text forms shared by the CSV writer (:mod:`optimiser.writers`) and the
validator's messages (:mod:`optimiser.tables`), so a date in a workbook and in its CSV
conversion load to the same text, and every message quotes a cell the same way.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

#: Longest cell text quoted in a message.
SHOWN_MAX = 60

#: Text that is a date (or date and time) as ISO writes it: 2024-01-31, 2024-01-31T08:00:00, 2024-01-31 08:00.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?", re.IGNORECASE)


def date_text(value: _dt.date | _dt.datetime | _dt.time) -> str:
    """A date cell as text: ``2024-01-31`` for a date (or midnight), ISO otherwise.

    The CSV writer uses the same form, so a date in a workbook and in its CSV
    conversion load to the same text.
    """
    if isinstance(value, _dt.datetime) and value.time() == _dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()
    return value.isoformat()


def number_text(x: float) -> str:
    """A float as text, the way the CSV writer writes it (``5`` for 5.0, ``1e-07``, ``1e+16``).

    Whole numbers below 1e16 are written without a decimal point, as a workbook
    gives them back (it does not tell 5 from 5.0), so both forms read alike.
    """
    return str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)


def shown(raw: Any) -> str:
    """A cell value as quoted in a message: one line, at most SHOWN_MAX characters."""
    if isinstance(raw, bool):
        text = "TRUE" if raw else "FALSE"
    elif isinstance(raw, float):
        text = number_text(raw)
    elif isinstance(raw, (_dt.datetime, _dt.date, _dt.time)):
        text = date_text(raw)
    elif isinstance(raw, str):
        text = repr(raw) if (raw != raw.strip() or not raw or not raw.isprintable()) else raw
    else:
        text = str(raw)
    if len(text) > SHOWN_MAX:
        text = text[: SHOWN_MAX - 1] + "…"
    return text


def quoted(value: Any) -> str:
    """A cell value in quotes for a message (:func:`shown` already quotes text with invisible characters)."""
    text = shown(value)
    return text if text.startswith(("'", '"')) else f"'{text}'"
