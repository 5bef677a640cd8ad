"""The solver layer: compiled models as arrays handed to HiGHS, and typed outcomes back.

Modules, lowest first: :mod:`.arrays` (the compiled model and its row/column roles),
:mod:`.outcome` (status, termination, what a run gives), :mod:`.highs` (every HiGHS primitive),
:mod:`.options` (SolveOptions), :mod:`.start` (MIP starts and their check), :mod:`.row_generation`,
:mod:`.local_search`, :mod:`.construct` (heuristics before the MIP), :mod:`.child` (the MIP in a
child process), :mod:`.duals` (fixed-integer LP duals and ranging), :mod:`.iis`, :mod:`.solve`
(solve_compiled), :mod:`.session` (re-use of one model for many bounds).
"""
