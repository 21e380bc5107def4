"""``run_bot.py doctor``: the checks that need no Telegram, and how every check is reported.

Why: the IT person installing the bot should learn from one command, before the
first prospect writes, what is wrong and what to do about it — not by watching a
lead notification fail. Each check gives one line: its verdict, what was found,
and for a failure what to do. The Telegram checks live in ``handlers/doctor.py``
(the core has no Telegram types); this module holds the local ones (database,
knowledge base, time-zone data) and the report.
"""
from __future__ import annotations

import datetime as dt
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings

OK, WARNING, FAILED = "OK", "ATTENTION", "ÉCHEC"
#: Below this much free space beside the database, SQLite writes (and backups) may fail.
MIN_FREE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Check:
    """One line of the report: a failure says what to do (``fix``)."""

    name: str
    verdict: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.verdict:<9} {self.name} : {self.detail}"
        return f"{text} → {self.fix}" if self.fix and self.verdict != OK else text


def passed(name: str, detail: str) -> Check:
    return Check(name, OK, detail)


def warned(name: str, detail: str, fix: str) -> Check:
    return Check(name, WARNING, detail, fix)


def failed(name: str, detail: str, fix: str) -> Check:
    return Check(name, FAILED, detail, fix)


def report(checks: Iterable[Check]) -> tuple[list[str], int]:
    """The lines to print and the exit code (1 if any check failed; warnings do not fail)."""
    checks = list(checks)
    return [check.line() for check in checks], int(any(c.verdict == FAILED for c in checks))


def local_checks(settings: Settings, today: dt.date) -> list[Check]:
    """Every check that needs no network."""
    return [*database_checks(Path(settings.database)), *knowledge_checks(settings.knowledge_dir, today),
            timezone_check()]


def database_checks(path: Path) -> list[Check]:
    """Integrity, schema version, file modes and free disk space of the SQLite file (opened read-only)."""
    from bot.ops.backup import integrity_problems, summary
    from bot.storage.db import MIGRATIONS

    name = "base de données"
    checks = [disk_check(path)]
    if not path.exists():
        return [passed(name, f"{path} n'existe pas encore : elle sera créée au premier lancement"), *checks]
    problems = integrity_problems(path)
    if problems:
        return [failed(name, f"{path} est endommagée ({problems[0]})",
                       "arrêter le bot et restaurer la dernière sauvegarde : run_bot.py restore FICHIER"), *checks]
    version, latest = summary(path).schema_version, len(MIGRATIONS)
    if version > latest:
        checks.insert(0, failed(name, f"schéma v{version}, plus récent que ce code (v{latest})",
                                "mettre le code à jour (git pull / nouvelle image) ou restaurer une sauvegarde"))
    else:
        later = "" if version == latest else f", mis à jour en v{latest} au prochain lancement"
        checks.insert(0, passed(name, f"{path} intègre, schéma v{version}{later}"))
    loose = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
             if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077]
    if loose:
        checks.insert(1, failed("droits de la base", "lisible par d'autres utilisateurs : "
                                + ", ".join(f"{p.name} ({stat.S_IMODE(p.stat().st_mode):o})" for p in loose),
                                f"chmod 600 {' '.join(str(p) for p in loose)} (données personnelles)"))
    else:
        checks.insert(1, passed("droits de la base", "fichiers lisibles par le seul utilisateur du bot"))
    return checks


def disk_check(path: Path) -> Check:
    """Free space where the database lives (the first existing parent folder)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    size = path.stat().st_size if path.exists() else 0
    needed = max(MIN_FREE_BYTES, 2 * size)  # a backup beside it, and room to grow
    detail = f"{free // (1024 * 1024)} Mio libres dans {folder}"
    if free < needed:
        return failed("espace disque", detail, f"libérer au moins {needed // (1024 * 1024)} Mio "
                      "(vieilles sauvegardes, journaux)")
    return passed("espace disque", detail)


def knowledge_checks(directory: Path, today: dt.date) -> list[Check]:
    """``run_bot.py check`` in one line, then whether the dated content is still ahead of ``today``."""
    from bot.knowledge.loader import load_knowledge

    kb, problems = load_knowledge(directory)
    if problems:
        return [failed("base de connaissances", f"{len(problems)} problème(s), dont {problems[0]}",
                       "run_bot.py check les liste tous : corriger les fichiers YAML, puis /recharger")]
    checks = [passed("base de connaissances", f"{directory} valide, {len(kb.entries)} entrées")]
    if kb.open_days and max(day.date for day in kb.open_days) < today:
        checks.append(warned("journées portes ouvertes", "toutes passées",
                             "ajouter les prochaines dates dans knowledge/calendar.yaml, puis /recharger"))
    return checks


def timezone_check() -> Check:
    """The bot lives in Paris time: ``zoneinfo`` needs the tz database (system or the ``tzdata`` package)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        offset = dt.datetime.now(ZoneInfo("Europe/Paris")).utcoffset()
    except ZoneInfoNotFoundError:
        return failed("fuseau horaire", "Europe/Paris introuvable",
                      "pip install tzdata (ou apt install tzdata)")
    hours = offset.total_seconds() / 3600 if offset is not None else None
    if hours not in (1.0, 2.0):
        return failed("fuseau horaire", f"Europe/Paris donne UTC{hours:+}", "mettre à jour tzdata")
    return passed("fuseau horaire", f"Europe/Paris (UTC+{hours:g} aujourd'hui)")

