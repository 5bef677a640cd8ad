"""Names made safe for files and task keys: the one place a free-text name becomes a file stem or a key.

:func:`safe_stem` (a default report file name: the report, compare, sweep, decide and PH commands) and
:func:`safe_key` (a short key for Dask task names). Kept in the base layer because the jobs, the
reports and the CLI all name things.
"""

from __future__ import annotations

import hashlib

#: Longest default report stem; a longer instance name is cut and told apart by a hash.
SAFE_STEM_CHARS = 120


def safe_stem(name: str) -> str:
    """``name`` as a default file name: letters, digits, ``-_.``; at most SAFE_STEM_CHARS characters
    (a longer name is cut and ends in a short hash of the whole, so two long names stay apart)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    if len(safe) > SAFE_STEM_CHARS:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        safe = f"{safe[:SAFE_STEM_CHARS - 11]}-{digest}"
    return safe


def safe_key(text: str, limit: int = 60) -> str:
    """``text`` as a short key: letters, digits, ``-_.``, others ``_``; cut at ``limit`` characters."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[:limit]
