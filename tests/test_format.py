"""The one formatting module of the reports and the terminal (optimiser.report.format, issue 16):
money in millions and billions, ``—`` vs ``n/a`` for a missing amount, negatives, never ``-0``,
shares in words, file names and Table-name prefixes made safe, input cells typed."""

from __future__ import annotations

import hashlib
import math

from optimiser.numbers import money as numbers_money
from optimiser.report.format import (
    SAFE_STEM_CHARS,
    input_cell,
    money,
    money_bare,
    money_or_na,
    pct_words,
    safe_key,
    safe_stem,
    short,
    table_prefix,
    whole,
)


def test_money_scales_to_millions_and_billions() -> None:
    assert money(374_100_000, "USD") == "374.10 m USD"  # 374.1e6 / 1e6, two decimals
    assert money(1_234_567_890, "USD") == "1.23 bn USD"
    assert money(999_999, "USD") == "999,999 USD"  # below a million: whole units with separators
    assert money(1_000_000, "VND") == "1.00 m VND"  # the boundary belongs to millions
    assert money(25_000.4, "EUR") == "25,000 EUR"
    assert money is numbers_money  # one implementation: the analysis layers use the same function


def test_missing_amount_dash_in_tables_na_in_sentences() -> None:
    assert money(None, "USD") == "—" and money(float("nan"), "USD") == "—"
    assert money_or_na(None, "USD") == "n/a" and money_or_na(float("nan"), "USD") == "n/a"
    assert money_or_na(2_500_000, "USD") == "2.50 m USD"  # present amounts are the same in both forms
    assert money_bare(None) == "—" and money_bare(2_500_000) == "2.50 m" and money_bare(12.0) == "12"


def test_negatives_and_no_minus_zero() -> None:
    assert money(-1.5e9, "USD") == "-1.50 bn USD" and money(-2_000_000, "USD") == "-2.00 m USD"
    assert money(-999.6, "USD") == "-1,000 USD"
    for tiny in (-0.4, -1e-9, -0.0, -5.6e-07):  # rounds to zero: "0", never "-0"
        assert whole(tiny) == "0" and money(tiny, "USD") == "0 USD" and money_bare(tiny) == "0"
    assert whole(-0.6) == "-1" and whole(1234.5) == "1,234"


def test_shares_and_labels_in_words() -> None:
    assert pct_words(0.021) == "2.1 %" and pct_words(0.1) == "10 %" and pct_words(1.0) == "100 %"
    assert pct_words(0.0) == "0 %" and pct_words(-0.079) == "-7.9 %"
    assert short("Ho Chi Minh City plant") == "Ho Chi Minh City plant"  # 22 ≤ 24 characters: unchanged
    assert short("Foxconn Kaohsiung contract line", 10) == "Foxconn K…" and len(short("x" * 40, 10)) == 10


def test_file_names_made_safe() -> None:
    assert safe_stem("foxconn-vinfast 2021/..\\x:y") == "foxconn-vinfast_2021_.._x_y"
    assert safe_stem("Hà Nội.v2") == "Hà_Nội.v2"  # letters of any script stay, the space does not
    long = "a" * 200
    digest = hashlib.sha256(long.encode()).hexdigest()[:10]
    assert safe_stem(long) == "a" * (SAFE_STEM_CHARS - 11) + "-" + digest and len(safe_stem(long)) == SAFE_STEM_CHARS
    assert safe_stem("b" * 200) != safe_stem(long)  # two long names stay apart
    assert safe_key("strategy=buy vinfast; scenario=high") == "strategy_buy_vinfast__scenario_high"
    assert safe_key("x" * 100) == "x" * 60 and safe_key("y" * 100, limit=8) == "y" * 8
    assert table_prefix("Plan A-1 ") == "Plan_A_1_" and table_prefix("") == ""


def test_input_cells_typed_like_the_instance_workbook() -> None:
    assert input_cell("5", "int") == 5 and isinstance(input_cell("5", "int"), int)
    assert input_cell("0.1", "float") == 0.1 and input_cell("1e-07", "float") == 1e-07
    assert input_cell("007", "int") == "007"  # not how the number is spelled: stays text
    assert input_cell("5", "text") == "5" and input_cell("abc", "float") == "abc"
    assert input_cell("1000000000000000", "int") == "1000000000000000"  # 1e15: kept as text (the report's limit)
    assert input_cell("999999999999999", "int") == 999_999_999_999_999
    assert input_cell("inf", "float") == "inf" and input_cell(2.5, "float") == 2.5
    assert math.isnan(input_cell(float("nan"), "float"))
