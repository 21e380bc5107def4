"""``/export`` and ``run_bot.py export --csv FILE``: every lead in a file Excel opens as is.

Format choices, for the admissions office's French Excel:

* UTF-8 **with a BOM**: without it Excel reads UTF-8 as Windows-1252 and shows
  "Ã©" for "é";
* **semicolon** separator: French Excel uses the comma as the decimal mark and
  expects ``;`` between columns (a comma-separated file opens in one column);
* CRLF line ends and ``"`` quoting (the csv module's ``excel`` dialect);
* codes written as their labels ("Bac pro", not ``bac_pro``), dates as
  ``AAAA-MM-JJ HH:MM`` (Paris time), phone numbers spaced;
* a cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return)
  gets a leading apostrophe, so a prospect's text can never run as a formula
  (CSV injection); an international number "+44 ..." therefore shows as "'+44 ...".

The column titles are in ``knowledge/texts/staff.yaml`` (``export_colonnes``).
"""
from __future__ import annotations

import csv
import io
from typing import Any, Callable

from bot.knowledge.render import Renderer
from bot.registration.display import exported_value
from bot.storage.times import in_paris

BOM = "\ufeff"
SEPARATOR = ";"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: The columns, in order: (name, how to get the value from a lead and its last status change).
Column = Callable[[Renderer, dict[str, Any], dict[str, Any] | None, Callable[[str], str]], str]


def _plain(name: str) -> Column:
    return lambda render, lead, change, status: str(lead.get(name) or "")


def _field(name: str) -> Column:
    """A field of the form, written as its record says (``bot/registration/steps.py``)."""
    return lambda render, lead, change, status: exported_value(render, name, lead)


def _moment(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        return in_paris(stamp).strftime("%Y-%m-%d %H:%M")  # stored in UTC, read in Paris
    except ValueError:
        return stamp


COLUMNS: list[Column] = [
    _plain("ref"),
    lambda render, lead, change, status: _moment(lead.get("created_at")),
    lambda render, lead, change, status: _moment(lead.get("updated_at")),
    lambda render, lead, change, status: status(lead.get("status") or ""),
    lambda render, lead, change, status: (f"{change['staff_name']} ({change['staff_id']})" if change else ""),
    lambda render, lead, change, status: _moment(change["at"]) if change else "",
    _field("last_name"),
    _field("first_name"),
    _field("birth_date"),
    _field("email"),
    _field("phone"),
    _field("diploma"),
    _field("situation"),
    _field("company"),
    _field("company_name"),
    _field("heard"),
    _plain("source"),
    lambda render, lead, change, status: _moment(lead.get("consent_at")),
    _field("intake"),
]


def safe_cell(value: str) -> str:
    """A cell Excel shows as text: no formula, no line break."""
    value = " ".join(value.split()) if value else ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def leads_csv(render: Renderer, leads: list[dict[str, Any]],
              last_change: Callable[[str], dict[str, Any] | None], status_label: Callable[[str], str]) -> bytes:
    """The CSV file of ``leads`` (BOM, ``;``, CRLF), as bytes."""
    titles = [t.strip() for t in render.text("staff.export_colonnes").split("|")]
    titles = (titles + [""] * len(COLUMNS))[:len(COLUMNS)]  # an edit of the titles never shifts the columns
    out = io.StringIO()
    writer = csv.writer(out, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow(titles)
    for lead in leads:
        change = last_change(lead["ref"])
        writer.writerow([safe_cell(column(render, lead, change, status_label)) for column in COLUMNS])
    return (BOM + out.getvalue()).encode("utf-8")
