"""The bot-process helper now lives in :mod:`testing.process` and its fixtures in
:mod:`testing.fixtures` (provided to every test by ``tests/conftest.py``); this name stays
so that existing imports (``from e2e_support import ...``) keep working."""
from testing.fixtures import bot_api_double, bot_process, bot_process_factory, botapi_double  # noqa: F401
from testing.process import PROJECT_ROOT, BotApiDouble, BotProcess, bot_env, intake_steps  # noqa: F401
