"""Read an instance's tables from an ``.xlsx`` workbook or a folder of CSV files.

Both produce the same :class:`RawTables`: per table, the header and the rows
as raw cell values with the row number the planner sees (Excel row / CSV line,
header = 1). Nothing is interpreted here; :mod:`optimiser.validate` does that.
The CSV reader is :mod:`optimiser.read_csv`, the workbook reader :mod:`optimiser.read_xlsx`
(after the zip checks of :mod:`optimiser.read_zip`); the tables they return are :mod:`optimiser.raw`.
Hostile files (not a workbook, zip bombs, XML entity attacks, huge sheets) are
refused with an :class:`~optimiser.errors.InputError`. Inputs are opened
read-only and never modified.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .raw import FORMULA, IGNORED_SHEETS, OVERFLOW, RawTable, RawTables
from .read_csv import not_a_file, read_csv_folder
from .read_xlsx import read_workbook

__all__ = ["FORMULA", "IGNORED_SHEETS", "OVERFLOW", "RawTable", "RawTables", "read_csv_folder",
           "read_instance_tables", "read_workbook"]


def read_instance_tables(path: str | Path) -> RawTables:
    """Read the tables of the instance at ``path`` (a workbook or a CSV folder)."""
    p = Path(path)
    if not p.exists():
        if p.is_symlink():
            raise InputError(f"{p}: {not_a_file(p)}")
        raise InputError(f"{p}: no such file or folder")
    if p.is_dir():
        return read_csv_folder(p)
    if not p.is_file():
        what = not_a_file(p)
        if what:
            raise InputError(f"{p}: {what}; an instance is an .xlsx workbook or a folder of CSV files")
        raise InputError(f"{p}: not a regular file (a device, pipe or socket cannot be an instance)")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return read_workbook(p)
    if p.suffix.lower() == ".csv":
        raise InputError(f"{p}: give the folder that holds the CSV tables, not one CSV file")
    raise InputError(f"{p}: not an instance (expected an .xlsx workbook or a folder of CSV files)")
