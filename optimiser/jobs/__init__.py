"""Independent solves as plain data, and the executors that run them.

* :mod:`optimiser.jobs.tasks` — :class:`Job`, :class:`Group` (jobs sharing one model), ``Task``;
  :func:`run_job`, :func:`run_group`, :func:`run_task` (one task → plain result rows) and
  :func:`group_tasks` (jobs → groups);
* :mod:`optimiser.jobs.reuse` — :class:`SharedModel`: one compiled model kept in HiGHS for a group;
* :mod:`optimiser.jobs.executors` — the :class:`Executor` protocol, :class:`SerialExecutor`,
  :class:`LocalPoolExecutor`, :func:`make_executor`, :class:`PartialComparison` (Ctrl-C mid-batch);
* :mod:`optimiser.jobs.dask` — :class:`DaskExecutor` (Dask is an optional extra, imported only
  when an executor is made).

Analyses (:mod:`optimiser.compare`, :mod:`optimiser.sweep`, :mod:`optimiser.tornado`) plan jobs and
read the rows; nothing here knows what they compute.
"""
