"""``python -m xinit``: the same as the ``xinit`` command."""

from xinit._cli import main

raise SystemExit(main())
