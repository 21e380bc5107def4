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
from pathlib import Path
from typing import Sequence

from bot.clock import Clock
from bot.config import Settings, load_settings
from bot.composition import make_assistant, retention_purge  # noqa: F401  (also imported from here)
from bot.knowledge.checks import check_examples
from bot.knowledge.loader import load_knowledge
from bot.knowledge.staleness import staleness_warnings
from bot.knowledge.store import KnowledgeProblems, Loaded
from bot.logs import configure_logging
from bot.storage.db import CorruptDatabase, open_database
from bot.storage.times import to_db

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
    ask.add_argument("--dialogue", action="store_true",
                     help="stdin : des conversations, un message par ligne, une ligne vide entre deux conversations")
    purge = commands.add_parser("purge", help="appliquer les durées de conservation (données personnelles)")
    purge.add_argument("--today", type=dt.date.fromisoformat, help="purger comme si on était ce jour (AAAA-MM-JJ)")
    export = commands.add_parser("export", help="exporter toutes les pré-inscriptions (CSV pour Excel)")
    export.add_argument("--csv", required=True, metavar="FICHIER", help="fichier CSV à écrire (« - » : la sortie standard)")
    commands.add_parser("stats", help="les statistiques sur 7 et 30 jours, par lien de suivi (comme /stats)")
    qr = commands.add_parser("qr", help="le QR code du lien de suivi https://t.me/<bot>?start=SOURCE")
    qr.add_argument("source", metavar="SOURCE", help="le nom de la campagne : A-Z a-z 0-9 _ -, 64 caractères au plus")
    qr.add_argument("--out", metavar="FICHIER", help="image à écrire, .png ou .svg (sinon : dans le terminal)")
    qr.add_argument("--bot-username", metavar="NOM", help="le nom du bot (sinon : demandé à Telegram, getMe)")
    reminders = commands.add_parser("reminders", help="les rappels qui partiraient ce jour-là (nombres par sorte, sans rien envoyer)")
    reminders.add_argument("--today", type=dt.date.fromisoformat, help="le jour (AAAA-MM-JJ), aujourd'hui sinon")
    check = commands.add_parser("check", help="valider le dossier knowledge/")
    check.add_argument("--no-examples", action="store_true", help="ne pas vérifier les exemples avec le matcher")
    check.add_argument("--today", type=dt.date.fromisoformat, help="vérifier comme si on était ce jour (AAAA-MM-JJ)")
    _ops_parsers(commands)
    return parser


def _ops_parsers(commands: argparse._SubParsersAction) -> None:
    """The operators' subcommands (``bot/ops/``)."""
    backup = commands.add_parser("backup", help="copie cohérente de la base, même bot en marche")
    backup.add_argument("file", metavar="FICHIER", help="fichier de sauvegarde à écrire (mode 0600)")
    restore = commands.add_parser("restore", help="remplacer la base par une sauvegarde (bot arrêté)")
    restore.add_argument("file", metavar="FICHIER", help="la sauvegarde à restaurer")
    commands.add_parser("doctor", help="vérifier l'installation : jeton, groupe, droits, base, connaissances")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the subcommand; returns the exit code.

    Every file the bot creates (database, exports) holds personal data: the umask
    makes them private to its user whatever the shell's umask is.
    """
    args = _parser().parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")  # tracebacks without exception messages (personal data)
    os.umask(0o077)
    command = args.command or ("run" if settings.telegram_token else "chat")
    try:
        return _run(command, args, settings)
    except KnowledgeProblems as refused:
        for problem in refused.problems:
            print(problem, file=sys.stderr)
        print(f"{len(refused.problems)} problème(s) dans {settings.knowledge_dir} : le bot ne démarre pas "
              f"(corrigez-les, « run_bot.py check » pour vérifier).", file=sys.stderr)
        return 1
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


def _run(command: str, args: argparse.Namespace, settings: Settings) -> int:
    """Run one subcommand."""
    if command == "check":
        return cmd_check(settings, examples=not args.no_examples, today=args.today)
    if command == "ask":
        if args.dialogue:
            return cmd_dialogue(settings, args.json, args.today)
        return cmd_ask(settings, args.question, args.json, args.today)
    if command == "chat":
        return cmd_chat(settings)
    if command == "purge":
        return cmd_purge(settings, args.today)
    if command == "export":
        return cmd_export(settings, args.csv)
    if command == "stats":
        return cmd_stats(settings)
    if command == "qr":
        return cmd_qr(settings, args.source, args.out, args.bot_username)
    if command == "reminders":
        return cmd_reminders(settings, args.today)
    if command in OPS_COMMANDS:
        return OPS_COMMANDS[command](settings, args)
    if command == "run":
        if not settings.telegram_token:
            print("TELEGRAM_BOT_TOKEN n'est pas défini : lancement de la conversation dans le terminal.",
                  file=sys.stderr)
            return cmd_chat(settings)
        from bot.ops.running import DatabaseBusy
        from handlers.app import run_telegram

        try:
            run_telegram(settings)
        except DatabaseBusy:
            print(f"{settings.database} est en cours de restauration : relancez le bot une fois finie.",
                  file=sys.stderr)
            return 1
        return 0
    return 2


def cmd_check(settings: Settings, examples: bool = True, today: dt.date | None = None) -> int:
    """Validate ``knowledge/``: every problem as ``path:line: message``, exit 1 if any.

    Staleness (intake dates all past, a fact checked more than a year ago) is printed
    as a warning and keeps exit code 0: the base is still sound, only out of date.
    """
    kb, problems = load_knowledge(settings.knowledge_dir)
    if examples and not problems:
        problems = check_examples(Loaded.build(kb))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problème(s) dans {settings.knowledge_dir}", file=sys.stderr)
        return 1
    warnings = staleness_warnings(kb, (today or Clock().today()))
    for warning in warnings:
        print(f"{warning} (avertissement)")
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
                   "entries": list(answer.entries), "score": round(answer.score, 4),
                   "outcome": answer.outcome, "candidates": list(answer.candidates)}
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            label = answer.entry or ("choix : " + ", ".join(answer.candidates) if answer.candidates
                                     else answer.outcome)
            print(f"? {question}\n[{label} · {answer.score:.2f}]\n{text}\n", flush=True)
    return 0


def cmd_dialogue(settings: Settings, as_json: bool, today: dt.date | None) -> int:
    """Play conversations from stdin through the same path as Telegram, one prospect each.

    One turn per line, a blank line between two conversations. Each turn goes through
    :meth:`Assistant.handle` (state, context, question log in a throw-away database),
    so what is printed is what a prospect would read. Nothing goes to the staff group.
    """
    import dataclasses

    from bot.conversation.messages import Incoming, Kind, Person

    assistant = make_assistant(dataclasses.replace(settings, staff_chat_id=None), Clock(today),
                               database=":memory:")
    user_id = 1
    for line in sys.stdin:
        question = line.rstrip("\n")
        if not question.strip():
            user_id += 1  # a blank line: the next turn is a new prospect
            continue
        turn = assistant.handle_turn(Incoming(Person(user_id), Kind.TEXT, question))
        text = "\n\n".join(r.plain_text() for r in turn.replies)
        entries = [e for a in turn.answers for e in (a.entries or ((a.entry,) if a.entry else ()))]
        score = max((a.score for a in turn.answers), default=0.0)
        if as_json:
            row = {"question": question, "answer": text, "entries": entries, "score": round(score, 4),
                   "outcomes": [a.outcome for a in turn.answers]}
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            print(f"? {question}\n[{', '.join(entries) or '-'} · {score:.2f}]\n{text}\n", flush=True)
    return 0


def cmd_purge(settings: Settings, today: dt.date | None = None) -> int:
    """Apply every retention period (see :func:`retention_purge`); print how many (counts only)."""
    assistant = make_assistant(settings, Clock(today))
    counts = retention_purge(assistant)
    if today is not None:  # the blanking edits were stamped with that day: due at once, not in years
        real_now = to_db(Clock().now())
        assistant.db.execute("UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ?",
                             [real_now, real_now])
    print(f"Purge ({settings.retention_months} mois sans mise à jour) : "
          f"{counts['registrations']} pré-inscription(s) et {counts['drafts']} brouillon(s) supprimé(s), "
          f"{counts['personnes']} personne(s) effacée(s) entièrement.")
    print(f"Purge : {counts['handoffs']} conversation(s) avec l'équipe et {counts['lead_events']} "
          f"historique(s) de statut supprimé(s) ; {counts['questions']} question(s) de plus de "
          f"{settings.question_retention_days} jours effacée(s).")
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


def cmd_qr(settings: Settings, source: str, out: str | None, username: str | None) -> int:
    """Print the deep link of ``source`` and write (or show) its QR code; exit 2 on an invalid source."""
    from bot.staff import qr

    if not qr.valid_source(source):
        print(f"« {source} » n'est pas accepté par Telegram : lettres sans accent, chiffres, _ et -, "
              "64 caractères au plus.", file=sys.stderr)
        return 2
    if not username:
        username = _bot_username(settings)
        if not username:
            print("Nom du bot inconnu : donnez --bot-username, ou TELEGRAM_BOT_TOKEN pour le demander à Telegram.",
                  file=sys.stderr)
            return 2
    try:
        link = qr.deep_link(username, source)
        code = qr.make_qr(link)
        if out:
            qr.save(code, Path(out))
    except ValueError as exc:
        print(f"Refusé ({exc}) : nom du bot invalide, ou fichier autre que .png/.svg.", file=sys.stderr)
        return 2
    print(link)
    if out:
        print(f"QR code écrit dans {out}", file=sys.stderr)
    else:
        code.terminal(compact=True)
    return 0


def _bot_username(settings: Settings) -> str | None:
    """The bot's username, asked to Telegram by the front end (None without a token or on error)."""
    if not settings.telegram_token:
        return None
    import asyncio

    from handlers.doctor import bot_username

    return asyncio.run(bot_username(settings))


def cmd_reminders(settings: Settings, today: dt.date | None) -> int:
    """Print what the reminder rounds would queue on that day: counts per kind, nobody named, nothing sent."""
    from bot.reminders.sending import preview

    assistant = make_assistant(settings)
    day = today or assistant.clock.today()
    counts = preview(assistant.db, assistant.knowledge.current.kb, day)
    print(f"Rappels du {day.isoformat()} : {sum(v for k, v in counts.items() if not k.startswith('('))} à envoyer")
    for kind, count in sorted(counts.items()):
        print(f"  {kind} : {count}")
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


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """A consistent copy of the database, while the bot runs or not (counts only on output)."""
    from bot.ops.backup import BackupError, backup

    try:
        done = backup(settings.database, args.file)
    except BackupError as exc:
        print(f"Sauvegarde impossible : {exc}", file=sys.stderr)
        return 1
    print(f"Sauvegarde écrite dans {args.file} : {done.registrations} pré-inscription(s), "
          f"{done.size_bytes // 1024} Kio, intégrité vérifiée.")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Replace the database by a backup (refused while a bot runs), then migrate and purge it."""
    from bot.ops.backup import BackupError, restore
    from bot.ops.running import DatabaseBusy

    try:
        done = restore(args.file, settings.database)
    except BackupError as exc:
        print(f"Restauration refusée : {exc}", file=sys.stderr)
        return 1
    except DatabaseBusy:
        print(f"Restauration refusée : un bot tourne sur {settings.database}. Arrêtez-le d'abord "
              f"(systemctl stop, docker compose stop…), puis relancez la restauration.", file=sys.stderr)
        return 1
    from bot.ops.backup import settle_restored

    settled = settle_restored(open_database(settings.database), Clock().now())  # migrated first
    print(f"Base restaurée depuis {args.file} : {done.registrations} pré-inscription(s) ; "
          f"{settled['outbox']} message(s) en attente marqué(s) « renvoi possible », "
          f"{settled['inbox']} mise(s) à jour de plus de 24 h écartée(s).")
    return cmd_purge(settings)  # restored data must not outlive the retention period


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """One line per check of the installation, with what to do; exit 1 if any failed."""
    import asyncio

    from bot.ops.doctor import local_checks, report
    from handlers.doctor import telegram_checks

    checks = asyncio.run(telegram_checks(settings)) + local_checks(settings, Clock().today())
    lines, code = report(checks)
    print("\n".join(lines))
    return code


OPS_COMMANDS = {"backup": cmd_backup, "restore": cmd_restore, "doctor": cmd_doctor}
