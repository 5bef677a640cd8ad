"""Seeded fuzz run of the CLI: mutated instances, hostile files and hostile options.

Each case takes a base instance (``instances/tiny`` or a small generated one), applies one
mutation class, and runs ``optimiser validate``; when that passes, ``optimiser solve --time-limit 5
--out <tmp>`` (hostile-option cases run their own command line). Most cases run in this process
through typer's CliRunner (cheap); every ``--subprocess-every``-th case runs ``python -m
optimiser`` in a fresh process (real exit codes, real streams). For every case it checks:

* no Python traceback in the output;
* the exit code is one of 0, 1, 2, 3 (never 4, an internal error);
* every input file is byte-identical afterwards (and still the same kind of file).

Usage::

    .venv/bin/python benchmarks/fuzz_cli.py                 # 1,000 cases, seed 17
    .venv/bin/python benchmarks/fuzz_cli.py --cases 200 --seed 3 --json

Also counted: the id variants (an invisible character, a case change, an NBSP duplicate) and
the hostile table files (a FIFO, a folder, a symlink loop as an optional table) that validate:
ids compared in a normalised form and such tables named for what they are belong to issue 17
items 5 and 16.

Deterministic: the same seed gives the same cases (the outcome of a solve at its time limit may
differ with the machine's speed, never its class). Prints a summary (cases, exit codes per class,
failures); exit 1 if any case failed a check.
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import io
import json
import os
import random
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "instances" / "tiny"

HOSTILE_VALUES = [
    "", " ", "=1+1", "+1", "-1", "@SUM(A1)", "=HYPERLINK(\"http://x\")", "NaN", "nan", "inf", "-inf",
    "1e308", "-1e308", "1e16", "9" * 400, "-0", "0x10", "TRUE", "é", "\u200b", "\u00a0", "NULL", "None",
    "1,000", "\u0661\u0662\u0663", "2025-01-01", "'", '"', "a\nb", "x" * 10_000, "\ufeff", "\u202e", "💥",
    "1e-320", "0.1e", "--5", "1_000", "  7  ",
]
INVISIBLE = ["\u200b", "\u00a0", "\u200d", "\ufeff", "\u2060"]
MUTATIONS = ["cell", "id_variant", "row_duplicate", "row_drop", "table_remove", "huge_number", "negative",
             "nan", "header", "formula", "hostile_file", "hostile_option"]
HOSTILE_FILES = ["not_a_zip", "truncated_zip", "zip_bomb", "xml_entities", "symlink_loop", "fifo", "directory",
                 "empty", "binary", "utf16"]


@dataclass
class Case:
    index: int
    kind: str
    detail: str
    base: str
    commands: list[list[str]] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    subprocess: bool = False


# ------------------------------------------------------------------ files

def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return (rows[0] if rows else []), rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _tables(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".csv" and p.is_file())


def snapshot(path: Path) -> dict[str, tuple[str, str]]:
    """Every entry under ``path``: its kind and (for regular files) its content hash."""
    out: dict[str, tuple[str, str]] = {}
    entries = [path] + (sorted(path.rglob("*")) if path.is_dir() and not path.is_symlink() else [])
    for p in entries:
        try:
            st = os.lstat(p)
        except OSError:
            continue
        mode = stat.S_IFMT(st.st_mode)
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(mode) else ""
        out[str(p)] = (oct(mode), digest)
    return out


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def hostile_file(kind: str, target: Path, workbook: Path | None) -> None:
    """Replace ``target`` (a table .csv, or an .xlsx) with a hostile file of ``kind``."""
    original = workbook.read_bytes() if workbook is not None and workbook.is_file() else None
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    if kind == "not_a_zip":
        target.write_bytes(b"this is not a workbook\n" * 10)
    elif kind == "truncated_zip":
        data = original if original is not None else _zip_bytes({"a.xml": b"<a/>" * 100})
        target.write_bytes(data[: len(data) // 2])
    elif kind == "zip_bomb":
        target.write_bytes(_zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"\0" * 30_000_000}))
    elif kind == "xml_entities":
        laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'
                            for i in range(9))
                  + ']><worksheet>&lol8;</worksheet>').encode()
        target.write_bytes(_zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": laughs,
                                       "xl/worksheets/sheet1.xml": laughs}))
    elif kind == "symlink_loop":
        other = target.with_name(target.name + ".loop")
        os.symlink(other, target)
        os.symlink(target, other)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "binary":
        target.write_bytes(bytes(range(256)) * 8)
    elif kind == "utf16":
        target.write_bytes("line_id,capacity\nA,1\n".encode("utf-16"))


# ------------------------------------------------------------------ mutations

def mutate(rng: random.Random, folder: Path, kind: str) -> str:
    """Apply one mutation of ``kind`` to the CSV folder; return what was done."""
    tables = _tables(folder)
    path = rng.choice(tables)
    header, rows = _read(path)
    if kind in ("cell", "huge_number", "negative", "nan", "formula") and rows and header:
        i, j = rng.randrange(len(rows)), rng.randrange(len(header))
        row = rows[i] + [""] * (len(header) - len(rows[i]))
        old = row[j]
        if kind == "cell":
            row[j] = rng.choice(HOSTILE_VALUES)
        elif kind == "huge_number":
            row[j] = rng.choice(["1e15", "9.99e14", "1e16", "1e100", "1e300", str(2**63), str(10**25)])
        elif kind == "negative":
            row[j] = "-" + old if old and not old.startswith("-") else "-1"
        elif kind == "nan":
            row[j] = rng.choice(["NaN", "nan", "inf", "-inf", "Infinity"])
        else:
            row[j] = rng.choice(["=1+1", "=A1*2", "+SUM(1)", "-1+1", "@A1", "=cmd|' /C calc'!A0"])
        rows[i] = row
        _write(path, header, rows)
        return f"{path.name} row {i + 2} col {header[j]}: {old[:20]!r} -> {row[j][:20]!r}"
    if kind == "id_variant" and rows:
        i = rng.randrange(len(rows))
        row = rows[i]
        old = row[0]
        how = rng.choice(["invisible", "case", "nbsp_dup"])
        if how == "invisible":
            row[0] = old + rng.choice(INVISIBLE)
        elif how == "case":
            row[0] = old.upper() if old != old.upper() else old.lower()
        else:
            rows.append([old + "\u00a0", *row[1:]])
        _write(path, header, rows)
        return f"{path.name} row {i + 2} id {how}: {old!r}"
    if kind == "row_duplicate" and rows:
        i = rng.randrange(len(rows))
        rows.insert(i, list(rows[i]))
        _write(path, header, rows)
        return f"{path.name} row {i + 2} duplicated"
    if kind == "row_drop" and rows:
        i = rng.randrange(len(rows))
        del rows[i]
        _write(path, header, rows)
        return f"{path.name} row {i + 2} dropped"
    if kind == "table_remove":
        path.unlink()
        return f"{path.name} removed"
    if kind == "header" and header:
        j = rng.randrange(len(header))
        old = header[j]
        header[j] = rng.choice([old.upper(), old + " ", "", old + "\u200b", header[(j + 1) % len(header)]])
        _write(path, header, rows)
        return f"{path.name} header {old!r} -> {header[j]!r}"
    return f"{path.name}: unchanged"


def hostile_options(rng: random.Random, inst: Path, work: Path) -> tuple[str, list[str]]:
    """A command line with a hostile option (or target) against a valid instance."""
    victim = str(next(iter(_tables(inst)), inst)) if inst.is_dir() else str(inst)
    fifo = work / "out.fifo.xlsx"
    if not fifo.exists():
        os.mkfifo(fifo)
    folder = work / "out-folder.xlsx"
    folder.mkdir(exist_ok=True)
    out = str(work / "r.xlsx")
    choices: list[tuple[str, list[str]]] = [
        ("time_limit_nan", ["solve", str(inst), "--time-limit", "nan", "--out", out]),
        ("time_limit_neg", ["solve", str(inst), "--time-limit", "-1", "--out", out]),
        ("time_limit_inf", ["solve", str(inst), "--time-limit", "inf", "--out", out]),
        ("time_limit_abc", ["solve", str(inst), "--time-limit", "abc", "--out", out]),
        ("threads_huge", ["solve", str(inst), "--threads", "100000", "--out", out]),
        ("threads_two", ["solve", str(inst), "--threads", "two", "--out", out]),
        ("mip_gap_2", ["solve", str(inst), "--mip-gap", "2", "--out", out]),
        ("seed_neg", ["solve", str(inst), "--seed", "-3", "--out", out]),
        ("solution_file", ["solve", str(inst), "--highs-option", f"solution_file={victim}",
                           "--highs-option", "write_solution_to_file=true", "--out", out]),
        ("log_file", ["solve", str(inst), "--highs-option", f"log_file={victim}", "--out", out]),
        ("improving_file", ["solve", str(inst), "--highs-option", f"mip_improving_solution_file={victim}",
                            "--out", out]),
        ("write_model_to_file", ["solve", str(inst), "--highs-option", "write_model_to_file=true", "--out", out]),
        ("unknown_highs", ["solve", str(inst), "--highs-option", "nonsense=1", "--out", out]),
        ("out_is_input", ["solve", str(inst), "--out", victim]),
        ("out_is_fifo", ["solve", str(inst), "--out", str(fifo)]),
        ("out_is_folder", ["solve", str(inst), "--out", str(folder)]),
        ("write_model_input", ["solve", str(inst), "--write-model", victim, "--no-report"]),
        ("write_model_fifo", ["solve", str(inst), "--write-model", str(fifo), "--no-report"]),
        ("unknown_option", ["solve", str(inst), "--bogus"]),
        ("unknown_strategy", ["solve", str(inst), "--strategy", "nope", "--out", out]),
        ("unknown_scenario", ["solve", str(inst), "--scenario", "nope", "--out", out]),
        ("local_search", ["solve", str(inst), "--local-search", "maybe", "--out", out]),
        ("convert_onto_input", ["convert", str(inst), victim]),
        ("convert_existing", ["convert", str(inst), str(folder)]),
        ("template_onto_input", ["template", victim]),  # an .xlsx instance (exists), or a table .csv
        ("generate_years_2", ["generate", str(work / "gen"), "--years", "2"]),
        ("generate_programmes_huge", ["generate", str(work / "gen"), "--programmes", "100000"]),
        ("compare_workers_0", ["compare", str(inst), "--workers", "0", "--no-report"]),
        ("debug_after", ["validate", str(inst), "--debug"]),
        ("missing_argument", ["solve"]),
    ]
    return rng.choice(choices)


# ------------------------------------------------------------------ running

def _run(args: list[str], in_process: bool, cwd: Path) -> tuple[int, str]:
    if in_process:
        from typer.testing import CliRunner  # noqa: PLC0415

        from optimiser.cli import app  # noqa: PLC0415

        res = CliRunner().invoke(app, args)
        text = res.output
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            import traceback  # noqa: PLC0415

            text += "Traceback (in process):\n" + "".join(traceback.format_exception(res.exception))
        return res.exit_code, text
    try:
        proc = subprocess.run([sys.executable, "-m", "optimiser", *args], capture_output=True, text=True,
                              timeout=300, cwd=cwd, encoding="utf-8", errors="replace",
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return -1, "timed out after 300 s"
    return proc.returncode, proc.stdout + proc.stderr


def base_instances(work: Path, seed: int) -> dict[str, Path]:
    from optimiser.generate import generate_instance  # noqa: PLC0415

    bases = {"tiny": work / "base-tiny"}
    shutil.copytree(TINY, bases["tiny"], ignore=shutil.ignore_patterns("*.md"))
    bases["generated"] = generate_instance(work / "base-gen", lines=4, programmes=5, years=3, markets=2,
                                           scenarios=2, seed=seed)
    return bases


def run_case(i: int, rng: random.Random, bases: dict[str, Path], work: Path, time_limit: float,
             in_process: bool) -> Case:
    from optimiser.writers import dict_tables, write_tables  # noqa: F401, PLC0415

    base_name = rng.choice(sorted(bases))
    kind = MUTATIONS[i % len(MUTATIONS)] if rng.random() < 0.5 else rng.choice(MUTATIONS)
    case_dir = work / f"case-{i}"
    case_dir.mkdir()
    inst = case_dir / "inst"
    shutil.copytree(bases[base_name], inst)
    as_xlsx = rng.random() < 0.25
    detail = ""
    commands: list[list[str]] = []
    if kind == "hostile_file":
        hf = rng.choice(HOSTILE_FILES)
        book = case_dir / "inst.xlsx"
        if as_xlsx and hf not in ("symlink_loop", "fifo", "directory") and _to_workbook(inst, book):
            shutil.rmtree(inst)
            hostile_file(hf, book, book)
            inst = book
        else:
            hostile_file(hf, rng.choice(_tables(inst)), None)
        detail = hf
    elif kind == "hostile_option":
        detail, args = hostile_options(rng, inst, case_dir)
        commands.append(args)
    else:
        detail = mutate(rng, inst, kind)
        if as_xlsx:
            book = case_dir / "inst.xlsx"
            if _to_workbook(inst, book):
                shutil.rmtree(inst)
                inst = book
    case = Case(i, kind, detail, base_name + (" (xlsx)" if inst.suffix == ".xlsx" else ""), subprocess=not in_process)
    before = snapshot(inst)
    if not commands:
        commands = [["validate", str(inst)]]
    for args in commands:
        code, text = _run(args, in_process, case_dir)
        case.commands.append(args)
        case.codes.append(code)
        _check(case, code, text)
    if kind != "hostile_option" and case.codes[-1] == 0:
        args = ["solve", str(inst), "--time-limit", str(time_limit), "--out", str(case_dir / "report.xlsx")]
        code, text = _run(args, in_process, case_dir)
        case.commands.append(args)
        case.codes.append(code)
        _check(case, code, text)
    if snapshot(inst) != before:
        case.problems.append("an input changed")
    shutil.rmtree(case_dir, ignore_errors=True)
    return case


def _to_workbook(folder: Path, book: Path) -> bool:
    """The mutated CSV folder as a workbook (False if it cannot be read as tables)."""
    from optimiser.readers import read_instance_tables  # noqa: PLC0415
    from optimiser.writers import raw_to_rows, write_tables  # noqa: PLC0415

    try:
        write_tables(raw_to_rows(read_instance_tables(folder)), book)
        return True
    except Exception:  # noqa: BLE001 — a table the workbook cannot hold: stay with the CSV folder
        return False


def _what(case: Case) -> str:
    """A hostile file's kind, or an id variant's kind (invisible, case, nbsp_dup)."""
    if case.kind == "id_variant":
        return case.detail.split(" id ")[-1].split(":")[0]
    return case.detail + (" (xlsx)" if "xlsx" in case.base else " (a table)")


def _check(case: Case, code: int, text: str) -> None:
    if "Traceback" in text:
        case.problems.append("traceback: " + text[text.index("Traceback"):][:600])
    if code not in (0, 1, 2, 3):
        case.problems.append(f"exit {code}: {text.strip()[-300:]}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--subprocess-every", type=int, default=50, help="every N-th case in a fresh process (0: none)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    all_codes: collections.Counter = collections.Counter()
    failures: list[dict[str, Any]] = []
    validated: collections.Counter = collections.Counter()
    accepted: collections.Counter = collections.Counter()
    n_sub = 0
    with tempfile.TemporaryDirectory(prefix="optimiser-fuzz-") as tmp:
        work = Path(tmp)
        bases = base_instances(work, a.seed)
        for i in range(a.cases):
            rng = random.Random(a.seed * 1_000_003 + i)
            sub = bool(a.subprocess_every) and i % a.subprocess_every == a.subprocess_every - 1
            n_sub += sub
            case = run_case(i, rng, bases, work, a.time_limit, in_process=not sub)
            for c in case.codes:
                codes[case.kind][c] += 1
                all_codes[c] += 1
            if case.kind != "hostile_option" and case.codes and case.codes[0] == 0:
                validated[case.kind] += 1
                if case.kind in ("hostile_file", "id_variant"):  # accepted: which ones (see the docstring)
                    accepted[f"{case.kind}: {_what(case)}"] += 1
            if case.problems:
                failures.append({"case": case.index, "kind": case.kind, "detail": case.detail, "base": case.base,
                                 "commands": case.commands, "codes": case.codes, "problems": case.problems,
                                 "subprocess": case.subprocess})
    summary = {
        "cases": a.cases, "seed": a.seed, "runs": sum(all_codes.values()), "in_fresh_processes": n_sub,
        "seconds": round(time.monotonic() - t0, 1),
        "exit_codes": {str(k): v for k, v in sorted(all_codes.items())},
        "by_kind": {k: {str(c): n for c, n in sorted(v.items())} for k, v in sorted(codes.items())},
        "validated_clean": dict(sorted(validated.items())),
        "accepted_hostile_files_and_id_variants": dict(sorted(accepted.items())),
        "tracebacks": sum(any(p.startswith("traceback") for p in f["problems"]) for f in failures),
        "inputs_changed": sum("an input changed" in f["problems"] for f in failures),
        "failures": failures,
    }
    if a.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(f"{a.cases} cases (seed {a.seed}), {summary['runs']} CLI runs ({n_sub} in fresh processes), "
              f"{summary['seconds']} s")
        print(f"exit codes: {summary['exit_codes']}")
        for k, v in summary["by_kind"].items():
            print(f"  {k:15} {v}  validated clean: {validated.get(k, 0)}")
        for k, n in summary["accepted_hostile_files_and_id_variants"].items():
            print(f"  accepted {k}: {n}")
        print(f"tracebacks: {summary['tracebacks']}, inputs changed: {summary['inputs_changed']}, "
              f"failed cases: {len(failures)}")
        for f in failures[:20]:
            print(f"  case {f['case']} {f['kind']} {f['detail'][:60]!r}: {f['problems'][0][:300]}")
    return summary


if __name__ == "__main__":
    sys.exit(1 if main()["failures"] else 0)
