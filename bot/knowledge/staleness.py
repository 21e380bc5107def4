"""When the base itself is out of date: warnings for ``check`` and the staff group.

A base whose intake dates are all past still loads and answers soundly (the answers
say the next dates are not yet published), so this is a warning, not an error: the
people who edit ``knowledge/`` must hear it until they add the next intake, and a
figure copied from an official source (``checked:``) must be looked at again yearly.
"""
from __future__ import annotations

import datetime as dt

from bot.knowledge.intake import FACT_INTAKE, intake_label, intake_of
from bot.knowledge.loader import official_fact_warnings
from bot.knowledge.model import KnowledgeBase, Problem
from bot.knowledge.render import french_date

#: A fact checked longer ago than this is flagged (the legal pay grid changes yearly).
RECHECK_AFTER = dt.timedelta(days=365)
FACTS_FILE = "knowledge/facts.yaml"


def staleness_warnings(kb: KnowledgeBase, today: dt.date) -> list[Problem]:
    """The reasons the base is out of date today, located in ``facts.yaml`` (empty when fresh)."""
    warnings: list[Problem] = []
    intake = intake_of(kb.facts)
    if intake is not None and intake.is_over(today):
        warnings.append(Problem(
            FACTS_FILE, kb.fact_lines.get(FACT_INTAKE, 0),
            f"base périmée : les dates de la rentrée {intake.label} sont toutes passées "
            f"(la dernière le {french_date(intake.last_date)}) ; ajoutez celles de la rentrée "
            f"{intake_label(intake.start_year + 1)} (facts.yaml, calendar.yaml)",
        ))
    for key, source in sorted(kb.fact_sources.items()):
        if source.checked is not None and today - source.checked > RECHECK_AFTER:
            warnings.append(Problem(
                FACTS_FILE, source.line,
                f"fait « {key} » vérifié le {french_date(source.checked)}, il y a plus d'un an : "
                f"revérifiez-le à sa source ({source.source}) puis mettez à jour « checked: »",
            ))
    warnings += official_fact_warnings(kb, today, RECHECK_AFTER.days)  # official_facts.yaml (pay grid, SMIC)
    return warnings
