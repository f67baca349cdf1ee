"""``python -m weir ...`` runs the engine as the ``weir`` command does."""

from weir._cli import main

main()
