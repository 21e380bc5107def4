"""The command line behind ``run_bot.py``: one function per subcommand.

Staff use ``check`` and ``ask`` after editing the FAQ; everything else starts the
bot in one form or another. Logging goes to stderr so that ``ask --json`` keeps a
clean stdout, through ``bot/logs.py`` so that no traceback prints an exception's
message (it may quote what a user typed).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from typing import Sequence

from bot.clock import Clock
from bot.config import Settings, load_settings
from bot.conversation.engine import Assistant
from bot.knowledge.checks import check_examples
from bot.knowledge.loader import load_knowledge
from bot.knowledge.store import KnowledgeStore, Loaded
from bot.logs import configure_logging
from bot.storage.db import CorruptDatabase, open_database

#: Exit code when the database is damaged (the bot refuses to start).
EXIT_CORRUPT = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run_bot.py", description="Assistant des admissions (BTS MCO).")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="le bot Telegram (TELEGRAM_BOT_TOKEN requis)")
    commands.add_parser("chat", help="la conversation dans ce terminal")
    ask = commands.add_parser("ask", help="répondre à une question, ou à chaque ligne de l'entrée standard")
    ask.add_argument("question", nargs="*", help="la question (sinon : une par ligne sur stdin)")
    ask.add_argument("--json", action="store_true", help="une ligne JSON par question")
    ask.add_argument("--today", type=dt.date.fromisoformat, help="répondre comme si on était ce jour (AAAA-MM-JJ)")
    purge = commands.add_parser("purge", help="effacer les pré-inscriptions et brouillons expirés (durée de conservation)")
    purge.add_argument("--today", type=dt.date.fromisoformat, help="purger comme si on était ce jour (AAAA-MM-JJ)")
    export = commands.add_parser("export", help="exporter toutes les pré-inscriptions (CSV pour Excel)")
    export.add_argument("--csv", required=True, metavar="FICHIER", help="fichier CSV à écrire (« - » : la sortie standard)")
    commands.add_parser("stats", help="les statistiques sur 7 et 30 jours (comme /stats)")
    check = commands.add_parser("check", help="valider le dossier knowledge/")
    check.add_argument("--no-examples", action="store_true", help="ne pas vérifier les exemples avec le matcher")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the subcommand; returns the exit code.

    Every file the bot creates (database, exports) holds personal data: the umask
    makes them private to its user whatever the shell's umask is.
    """
    args = _parser().parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level)  # tracebacks without exception messages (personal data)
    os.umask(0o077)
    try:
        return _run(args, settings)
    except CorruptDatabase as exc:
        print(corrupt_message(exc), file=sys.stderr)
        return EXIT_CORRUPT


def corrupt_message(exc: CorruptDatabase) -> str:
    """What the person running the bot reads when the database is damaged, and what to do."""
    problems = "\n".join(f"  {problem}" for problem in exc.problems[:5])
    return (f"La base de données {exc.path} est endommagée (PRAGMA quick_check) :\n{problems}\n"
            "Le bot ne démarre pas, pour ne pas aggraver les dégâts ni servir des données fausses.\n"
            "À faire : arrêter le bot, mettre la copie endommagée de côté (avec ses fichiers -wal et -shm), "
            "restaurer la dernière sauvegarde de ce fichier à sa place, puis relancer.\n"
            "Sans sauvegarde : « sqlite3 FICHIER .recover | sqlite3 NOUVEAU » récupère ce qui peut l'être.")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the subcommand chosen on the command line."""
    command = args.command or ("run" if settings.telegram_token else "chat")
    if command == "check":
        return cmd_check(settings, examples=not args.no_examples)
    if command == "ask":
        return cmd_ask(settings, args.question, args.json, args.today)
    if command == "chat":
        return cmd_chat(settings)
    if command == "purge":
        return cmd_purge(settings, args.today)
    if command == "export":
        return cmd_export(settings, args.csv)
    if command == "stats":
        return cmd_stats(settings)
    if command == "run":
        if not settings.telegram_token:
            print("TELEGRAM_BOT_TOKEN n'est pas défini : lancement de la conversation dans le terminal.",
                  file=sys.stderr)
            return cmd_chat(settings)
        from handlers.app import run_telegram

        run_telegram(settings)
        return 0
    return 2


def make_assistant(settings: Settings, clock: Clock | None = None, database: str | None = None) -> Assistant:
    """The assistant with its knowledge and database, as every front end needs it."""
    knowledge = KnowledgeStore(settings.knowledge_dir)
    db = open_database(database or settings.database)
    return Assistant(knowledge, db, clock or Clock(), retention_months=settings.retention_months,
                     settings=settings)


def cmd_check(settings: Settings, examples: bool = True) -> int:
    """Validate ``knowledge/``: every problem as ``path:line: message``, exit 1 if any."""
    kb, problems = load_knowledge(settings.knowledge_dir)
    if examples and not problems:
        problems = check_examples(Loaded.build(kb))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problème(s) dans {settings.knowledge_dir}", file=sys.stderr)
        return 1
    print(f"knowledge/ est valide : {len(kb.entries)} entrées, "
          f"{sum(len(e.questions) for e in kb.entries.values())} exemples, {len(kb.facts)} faits.",
          file=sys.stderr)
    return 0


def cmd_ask(settings: Settings, words: list[str], as_json: bool, today: dt.date | None) -> int:
    """Answer one question or each line of stdin, as text or one JSON object per line."""
    assistant = make_assistant(settings, Clock(today), database=":memory:")
    questions = [" ".join(words)] if words else (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        answer = assistant.ask(question)
        text = "\n\n".join(r.plain_text() for r in answer.replies)
        if as_json:
            row = {"question": question, "answer": text, "entry": answer.entry,
                   "score": round(answer.score, 4), "outcome": answer.outcome,
                   "candidates": list(answer.candidates)}
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            label = answer.entry or ("choix : " + ", ".join(answer.candidates) if answer.candidates
                                     else answer.outcome)
            print(f"? {question}\n[{label} · {answer.score:.2f}]\n{text}\n", flush=True)
    return 0


def cmd_purge(settings: Settings, today: dt.date | None = None) -> int:
    """Delete the pre-registrations and drafts past the retention period; print how many (counts only)."""
    from bot.storage.registrations import purge_expired

    db = open_database(settings.database)
    deleted = purge_expired(db, Clock(today).now(), settings.retention_months)
    print(f"Purge ({settings.retention_months} mois sans mise à jour) : "
          f"{deleted['registrations']} pré-inscription(s) et {deleted['drafts']} brouillon(s) supprimé(s).")
    from bot.storage.registrations import months_before
    from bot.storage.staff import purge_staff_data

    staff = purge_staff_data(db, months_before(Clock(today).now(), settings.retention_months))
    print(f"Purge : {staff['handoffs']} conversation(s) avec l'équipe et {staff['lead_events']} "
          f"historique(s) de statut supprimé(s).")
    return 0


def cmd_export(settings: Settings, target: str) -> int:
    """Write every lead to ``target`` as the staff's ``/export`` does (UTF-8 with BOM, ``;``)."""
    assistant = make_assistant(settings)
    name, content, count = assistant.staff.commands.export_file()
    if target == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        with open(target, "wb") as out:
            out.write(content)
    print(f"{count} pré-inscription(s) exportée(s) vers {target if target != '-' else 'la sortie standard'}.",
          file=sys.stderr)
    return 0


def cmd_stats(settings: Settings) -> int:
    """Print the staff's ``/stats`` text (without the ``**`` markers)."""
    assistant = make_assistant(settings)
    print(assistant.staff.commands.stats_text().replace("**", ""))
    return 0


def cmd_chat(settings: Settings) -> int:
    """The conversation in the terminal, with the configured database.

    It never writes to the staff group: someone trying the bot in a terminal is not
    a prospect for the admissions team (``/conseiller`` then gives the contacts).
    """
    import dataclasses

    from bot.terminal import run_chat

    run_chat(make_assistant(dataclasses.replace(settings, staff_chat_id=None)))
    return 0
