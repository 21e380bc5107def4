#!/usr/bin/env python3
"""The one entry point of the admissions assistant.

    python run_bot.py            the Telegram bot if TELEGRAM_BOT_TOKEN is set, else the terminal chat
    python run_bot.py chat       the conversation in this terminal
    python run_bot.py ask [QUESTION] [--json] [--today YYYY-MM-DD]
    python run_bot.py check      validate knowledge/ (exit 1 and path:line: message on problems)
    python run_bot.py purge      delete pre-registrations and drafts past RETENTION_MONTHS (prints counts)
    python run_bot.py export --csv FILE   every pre-registration as a CSV for Excel (as /export)
    python run_bot.py stats      the figures of the last 7 and 30 days, with the funnel per source (as /stats)
    python run_bot.py qr SOURCE [--out FILE.png|.svg] [--bot-username NAME]   the QR code of a tracking link
    python run_bot.py doctor     check the installation (token, staff group rights, database...), exit 1 on failure
    python run_bot.py backup FILE    a consistent copy of the database, even while the bot runs
    python run_bot.py restore FILE   replace the database by a backup (refused while the bot runs)

Run ``python run_bot.py --help`` for every command.
"""
from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
