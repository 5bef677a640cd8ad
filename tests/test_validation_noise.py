"""A root cause is reported once (issue 17, item 18).

Before: the default case without its lines table gave 1 error and 21 knock-on warnings ("factory …
has no lines", "programme … has no routing"); without its options table, one error per cell naming
an option (15). And `validate --json` promised "one JSON object" but printed an array.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optimiser.cli import app
from optimiser.errors import InvalidInstance
from optimiser.validate import load_instance

DEFAULT = Path(__file__).resolve().parents[1] / "instances" / "foxconn-vinfast-2021"


def _without(tmp_path: Path, table: str) -> Path:
    folder = tmp_path / f"no-{table}"
    shutil.copytree(DEFAULT, folder)
    (folder / f"{table}.csv").unlink()
    return folder


@pytest.mark.parametrize("table", ["lines", "programmes", "routings", "demand", "factories", "markets"])
def test_missing_required_table_is_one_problem(tmp_path: Path, table: str) -> None:
    with pytest.raises(InvalidInstance) as caught:
        load_instance(_without(tmp_path, table))
    assert [(p.table, p.severity, p.message) for p in caught.value.problems] == [
        (table, "error", f"required table {table} is missing")]


def test_missing_optional_table_named_by_others_is_one_located_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInstance) as caught:
        load_instance(_without(tmp_path, "options"))
    problems = caught.value.problems
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p.table, p.row, p.column, p.severity) == ("lines", 2, "requires_option", "error")
    # lines row 2 is hp_va_jv (the partnership); 11 lines need a deal, the 10 strategy rows name one
    assert p.message == ("unknown option partner_vinfast (there is no options table; 21 cells name one: "
                         "lines.requires_option ×11, strategies.option_id ×10)")


def test_validate_json_is_an_array_as_its_help_says(tmp_path: Path) -> None:
    runner = CliRunner()
    helptext = " ".join(runner.invoke(app, ["validate", "--help"], env={"COLUMNS": "300"}).output.split())
    assert "one JSON array of objects" in helptext and "one JSON object" not in helptext
    ok = runner.invoke(app, ["validate", str(DEFAULT), "--json"])
    assert ok.exit_code == 0 and isinstance(json.loads(ok.stdout), list)
    bad = runner.invoke(app, ["validate", str(_without(tmp_path, "lines")), "--json"])
    data = json.loads(bad.stdout)
    assert bad.exit_code == 1 and isinstance(data, list) and len(data) == 1
    assert set(data[0]) == {"table", "row", "column", "severity", "message"}
