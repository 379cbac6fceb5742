"""Test-wide settings.

xinit's adapters turn on JAX's persistent compilation cache in ``~/.cache``;
the suite runs without it (so compile counters count real compiles and no test
depends on what an earlier run left on disk), except where a test sets
``XINIT_COMPILATION_CACHE`` itself.
"""

import os

os.environ.setdefault("XINIT_COMPILATION_CACHE", "off")
