"""Configuration, read from environment variables (a ``.env`` file may supply them).

Every setting has a default that works on a fresh clone, so ``run_bot.py`` runs with
nothing configured (it then starts the terminal chat).
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int_list(raw: str) -> tuple[int, ...]:
    """Parse ``"12, -100345"`` into ``(12, -100345)``, ignoring blanks."""
    return tuple(int(part) for part in raw.replace(";", ",").split(",") if part.strip())


def _hours(raw: str) -> tuple[dt.time, dt.time]:
    """Parse ``"09:00-17:30"`` into two times."""
    start, end = (part.strip() for part in raw.split("-", 1))
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def _days(raw: str) -> frozenset[int]:
    """Parse ``"1-5"`` or ``"1,2,3,4,5"`` (1 = Monday) into ISO weekday numbers."""
    if "-" in raw:
        first, last = (int(part) for part in raw.split("-", 1))
        return frozenset(range(first, last + 1))
    return frozenset(_int_list(raw))


@dataclass(frozen=True)
class Settings:
    """All settings of one bot process. Build it with :func:`load_settings`."""

    telegram_token: str = ""
    telegram_base_url: str = "https://api.telegram.org/bot"
    database: Path = PROJECT_ROOT / "data" / "bot.db"
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    staff_chat_id: int | None = None
    staff_user_ids: tuple[int, ...] = ()
    office_hours: tuple[dt.time, dt.time] = (dt.time(9, 0), dt.time(17, 0))
    office_days: frozenset[int] = field(default_factory=lambda: frozenset(range(1, 6)))
    retention_months: int = 36
    #: Days the text of a question asked to the bot is kept (``/sans_reponse`` reads it), whoever asked.
    question_retention_days: int = 180
    log_level: str = "INFO"
    log_format: str = "text"  # "json": one JSON object per line (bot/logs.py)
    flood_limit: int = 20
    flood_window: float = 5.0
    # Webhook mode (handlers/webhook.py) when webhook_url is set; long polling otherwise.
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_secret: str = ""
    #: After this many minutes of silence, a conversation's context (track, audience...) starts afresh.
    context_fade_minutes: int = 180
    #: When the staff group's daily digest is posted (Paris time, on ``office_days``): ``DIGEST_TIME``
    #: (``off``: no digest).
    digest_time: dt.time | None = dt.time(8, 30)
    #: ``BOT_CLOCK``: the bot's "now" starts at this Paris instant (tests, demonstrations); None: the real time.
    bot_clock: dt.datetime | None = None
    #: Seconds between two reminder rounds (``BOT_REMINDER_SECONDS``; tests shorten it).
    reminder_seconds: float = 300.0
    #: Messages a second for the whole bot (``TELEGRAM_RATE``): answers first, campaigns take what is left.
    telegram_rate: float = 30.0
    #: Messages a second campaigns and reminders may take at most (``CAMPAIGN_RATE``), within ``telegram_rate``:
    #: below Telegram's ~30/s, so a bulk send never runs at the very edge of the bot-wide limit.
    campaign_rate: float = 25.0
    #: Campaign and reminder requests in flight at once (``CAMPAIGN_IN_FLIGHT``): what a kill -9 may lose.
    campaign_in_flight: int = 1


def _bot_clock(raw: str) -> dt.datetime | None:
    """``BOT_CLOCK`` read as Paris time, or None when unset."""
    if not raw.strip():
        return None
    from bot.clock import parse_bot_clock

    return parse_bot_clock(raw)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: the process environment plus ``.env``).

    Relative paths are taken from the project root, so the bot behaves the same
    whatever folder it is started from.
    """
    if env is None:
        from dotenv import load_dotenv

        load_dotenv(PROJECT_ROOT / ".env", override=False)
        env = dict(os.environ)

    def path(name: str, default: Path) -> Path:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        candidate = Path(raw).expanduser()
        return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate

    staff_chat = env.get("STAFF_CHAT_ID", "").strip()
    defaults = Settings()
    return Settings(
        telegram_token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
        telegram_base_url=env.get("TELEGRAM_BASE_URL", "").strip() or defaults.telegram_base_url,
        database=path("BOT_DATABASE", defaults.database),
        knowledge_dir=path("KNOWLEDGE_DIR", defaults.knowledge_dir),
        staff_chat_id=int(staff_chat) if staff_chat else None,
        staff_user_ids=_int_list(env.get("STAFF_USER_IDS", "")),
        office_hours=_hours(env["OFFICE_HOURS"]) if env.get("OFFICE_HOURS") else defaults.office_hours,
        office_days=_days(env["OFFICE_DAYS"]) if env.get("OFFICE_DAYS") else defaults.office_days,
        digest_time=_digest_time(env.get("DIGEST_TIME", ""), defaults.digest_time),
        retention_months=int(env.get("RETENTION_MONTHS", "") or defaults.retention_months),
        question_retention_days=int(env.get("QUESTION_RETENTION_DAYS", "") or defaults.question_retention_days),
        log_level=env.get("LOG_LEVEL", "").strip().upper() or defaults.log_level,
        log_format=env.get("LOG_FORMAT", "").strip().lower() or defaults.log_format,
        flood_limit=int(env.get("FLOOD_LIMIT", "") or defaults.flood_limit),
        flood_window=float(env.get("FLOOD_WINDOW", "") or defaults.flood_window),
        webhook_url=env.get("TELEGRAM_WEBHOOK_URL", "").strip(),
        webhook_listen=env.get("WEBHOOK_LISTEN", "").strip() or defaults.webhook_listen,
        webhook_port=int(env.get("WEBHOOK_PORT", "") or defaults.webhook_port),
        webhook_secret=env.get("WEBHOOK_SECRET", "").strip(),
        context_fade_minutes=int(env.get("CONTEXT_FADE_MINUTES", "") or defaults.context_fade_minutes),
        bot_clock=_bot_clock(env.get("BOT_CLOCK", "")),
        reminder_seconds=float(env.get("BOT_REMINDER_SECONDS", "") or defaults.reminder_seconds),
        telegram_rate=float(env.get("TELEGRAM_RATE", "") or defaults.telegram_rate),
        campaign_in_flight=int(env.get("CAMPAIGN_IN_FLIGHT", "") or defaults.campaign_in_flight),
        campaign_rate=float(env.get("CAMPAIGN_RATE", "") or defaults.campaign_rate),
    )


def _digest_time(raw: str, default: dt.time | None) -> dt.time | None:
    """``DIGEST_TIME``: ``HH:MM`` (Paris), ``off`` for no digest, empty for the default."""
    raw = raw.strip().lower()
    if not raw:
        return default
    return None if raw == "off" else dt.time.fromisoformat(raw)
