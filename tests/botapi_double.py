"""The Bot API double now lives in :mod:`testing.botapi` (split by concern); this name stays
so that existing imports (``from botapi_double import ...``, ``from tests.botapi_double import ...``)
keep working."""
from testing.botapi import *  # noqa: F401,F403
from testing.botapi import __all__  # noqa: F401
