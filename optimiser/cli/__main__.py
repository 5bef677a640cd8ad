"""``python -m optimiser.cli``: the ``optimiser`` command."""

from .main import main

main()
