"""Synthetic instances of any size, feasible by construction, for tests and benchmarks.

:func:`generate_tables` returns ``{table: [row dicts]}`` with the column names
of the instance format (``docs``, :mod:`optimiser.schema`); :func:`generate_instance` writes them as a CSV
folder (or, with ``xlsx=True`` / a ``.xlsx`` target, a workbook) through
:func:`optimiser.writers.write_tables`. Everything is drawn from one
``random.Random(seed)``, in list order (no set iteration), so the same
parameters and seed give the same tables and byte-identical files (the
workbook's zip timestamps and document dates are pinned too).

The package: :mod:`~optimiser.generate.state` (the run's state, all declared in
``Generator.__init__``), the draw steps in :mod:`~optimiser.generate.plant`,
:mod:`~optimiser.generate.products`, :mod:`~optimiser.generate.volumes` and
:mod:`~optimiser.generate.economy`, their order and the writing in
:mod:`~optimiser.generate.instance`, names and rounding in :mod:`~optimiser.generate.vocabulary`.

What an instance holds
----------------------
Every table of the format is present and non-empty:

* ``settings`` — horizon from 2026, discount rate, a *soft* market-share target
  (``share_target`` + ``share_penalty``) on the last year, a default unmet penalty.
* ``factories`` in several countries and regions; one site per counterparty
  (e.g. VinFast's plant) whose lines need a deal option.
* ``lines`` — a few *dedicated* lines (see feasibility below), existing lines
  (some coming online late via ``available_from``, some with ``retire_after``),
  candidate lines (``build_cost``, ``lead_time`` 1–2, ``ramp_up`` < 1, some with
  ``available_from``), counterparty lines behind a *buy* or *partner* option
  (partner lines charge a ``unit_fee``), JV and licence candidate lines.
* ``programmes`` — vehicles, batteries and components; ``max_lines`` 1–3,
  ``must_serve``, own ``unmet_penalty``, late starts / early ends, vehicles that
  ``counts_for_share``, ``external_price`` on every BOM component.
* ``routings`` — each programme routes to 1–3 line *types* of its family
  (about five lines per type), plus a few ``line_id`` overrides. This keeps the
  routable (programme, line) pairs at about 9–10 per programme whatever the size.
* ``demand`` (lifecycle curves over the programme's years, split over 1–4 markets,
  ``min_volume`` commitments), ``logistics`` (not every route; freight and
  tariffs by region), ``bom`` (vehicle → pack + e-drive(s); some packs → module),
  ``options`` (buy/partner per counterparty in one ``exclusive_group``, a JV, a
  licence), ``strategies`` (status quo = forbid all; buy-X = take buy, forbid
  partner; …), ``scenarios`` (probabilities in thousandths, summing to 1),
  ``scenario_demand`` overrides, ``market_size``, ``budget`` (mildly binding),
  ``prices`` (falling pack prices, model-year pricing), ``capacity_profile``
  (shifts added from some year on).

Feasible by construction
------------------------
For every strategy and every scenario (and hence the stochastic form):

* every programme with committed volume (``min_volume``) or ``must_serve`` is
  routed (by a ``line_id`` row) to a *dedicated* line: existing, option-free,
  available every year, no capacity profile, in a factory with a logistics route
  to every market, with capacity ≥ 1.25 × the most those programmes can be forced
  to make in any year and scenario (scenario factors and overrides included);
* every BOM component has an ``external_price``, so parents never wait for it;
* demand exists only inside the programme's own years;
* the capex budget of each year is at least the tooling of those programmes on
  their dedicated lines plus (first year) the upfront cost of the most
  expensive strategy, so doing nothing costly is always allowed;
* strategies take at most one option per exclusive group; the share target is soft.

Sizes
-----
:data:`SIZES` holds recommended parameters (all seed 1). Routable pairs stay at
about 9–10 per programme, so the model grows roughly with
programmes × live years × scenarios (make, tool-link rows) and
programmes × factories reached × markets × years × scenarios (ship).

Measured 2026-11-26 on the development box (2 cores, 24 GiB, Python 3.11,
Pyomo 6.10, HiGHS 1.16) **while other jobs kept the load average at 5–10**, so
wall times are inflated perhaps 3–5× against an idle machine. Stochastic form
(every scenario), strategy ``optimise``; counts as handed to HiGHS
(``compile_model``); *validate* = read the CSV folder + validate; *build* =
``prepare`` + ``build_model`` (+ ``compile_model``); *solve* = ``solve_instance``
with ``SolveOptions(time_limit=60)``.

======  ================  ========  =========  ========  ===========  =========  ==============================  ==========================
size    l/p/y/m/s         validate  variables  binaries  constraints  nonzeros   build (+ compile), peak RSS     solve, 60 s limit
======  ================  ========  =========  ========  ===========  =========  ==============================  ==========================
small   12/16/5/4/3       0.1 s     2,294      227       1,882        7,000      0.7 s (+ 8.5 s, first call)     optimal (gap 3e-5), 34 s
medium  60/100/8/8/3      0.3 s     45,996     2,400     36,002       160,244    1.9 s (+ 0.9 s), 0.4 GiB        no plan in 60 s (root LP
                                                                                                                 unfinished; see below)
large   250/500/12/15/5   4.9 s     734,202    19,632    517,941      2,308,217  22 s + 95 s (+ 89 s), 1.5 GiB   not attempted
xl      500/1000/15/20/5  9.1 s     1,819,690  46,940    1,322,833    5,806,219  106 s + 479 s (+ 388 s),        not attempted
                                                                                 3.6 GiB
======  ================  ========  =========  ========  ===========  =========  ==============================  ==========================

**What to expect now** (``SIZE_ADVICE``, printed by ``optimiser generate --size``; issue 22,
measured with ``benchmarks/plan_quality.py`` on 2 cores, one HiGHS thread, ``benchmarks/README.md``):
``small`` solves to optimality in seconds; ``medium`` at ``--time-limit 120`` has a constructed
plan after ~2 s, improved by fix-and-optimise, and HiGHS's root bound by 120 s (gap 11–19 % on
seeds 1–3), where HiGHS alone has no plan; ``large`` at ``--time-limit 600`` has its first plan
(built by open-then-close) after ~1 min, improved by fix-and-optimise for most of the limit (HiGHS's
root LP would not end: 1,084.8 → 1,105.7 bn on seed 1), and no proven gap (HiGHS alone: no plan);
``xl`` at ``--time-limit 600`` has its first plan after ~2.5 min (open-then-close, block by block), no
proven gap, the whole solve 14–16 min and 5.7 GiB peak (before the block-wise LPs: no plan at
``--time-limit 1800``, exit 3).
The table below is the first landing's.

``large`` is the first size past 500,000 variables; ``xl`` (500 lines × 1,000
programmes) takes more than 5 minutes to build in Pyomo on this box.
``medium`` with the HiGHS log on (900 s limit, same load): presolve 26,381 rows ×
34,584 columns; the root LP took ~44,000 dual simplex iterations and the first
plan (randomized rounding) came at 285 s, gap 31 %; at 790 s still in the root
node with gap 27.7 %. HiGHS also warns the model is badly scaled (costs and the
budget right-hand sides reach 1e9 in currency units). Plan on minutes, not
seconds, for ``medium`` on two cores.
"""

from .instance import LIMITS, SIZE_ADVICE, SIZES, check_counts, generate_instance, generate_tables
from .vocabulary import FIRST_YEAR

__all__ = ["FIRST_YEAR", "LIMITS", "SIZE_ADVICE", "SIZES", "check_counts", "generate_instance", "generate_tables"]
