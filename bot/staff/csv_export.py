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

The column titles are in ``knowledge/texts/staff.yaml`` (``colonne_…``), one key per column.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Callable

from bot.knowledge.render import Renderer
from bot.registration import steps
from bot.registration.display import exported_value
from bot.storage.times import in_paris

BOM = "\ufeff"
SEPARATOR = ";"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: How a column's value is read from a lead and its last status change.
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


#: The columns, in order: (text key of the title, how to get the value). The form's fields come
#: from their records (``bot/registration/steps.py``): a field added there is exported here.
COLUMNS: list[tuple[str, Column]] = [
    ("staff.colonne_reference", _plain("ref")),
    ("staff.colonne_recue_le", lambda render, lead, change, status: _moment(lead.get("created_at"))),
    ("staff.colonne_mise_a_jour_le", lambda render, lead, change, status: _moment(lead.get("updated_at"))),
    ("staff.colonne_statut", lambda render, lead, change, status: status(lead.get("status") or "")),
    ("staff.colonne_statut_par",
     lambda render, lead, change, status: f"{change['staff_name']} ({change['staff_id']})" if change else ""),
    ("staff.colonne_statut_le", lambda render, lead, change, status: _moment(change["at"]) if change else ""),
    *((record.export_title, _field(record.name)) for record in steps.FIELDS),
    ("staff.colonne_source", _plain("source")),
    ("staff.colonne_accord_le", lambda render, lead, change, status: _moment(lead.get("consent_at"))),
]


def safe_cell(value: str) -> str:
    """A cell Excel shows as text: no formula, no line break."""
    value = " ".join(value.split()) if value else ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def leads_csv(render: Renderer, leads: list[dict[str, Any]],
              last_change: Callable[[str], dict[str, Any] | None], status_label: Callable[[str], str]) -> bytes:
    """The CSV file of ``leads`` (BOM, ``;``, CRLF), as bytes."""
    titles = [render.text(title) for title, _ in COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow(titles)
    for lead in leads:
        change = last_change(lead["ref"])
        writer.writerow([safe_cell(column(render, lead, change, status_label)) for _, column in COLUMNS])
    return (BOM + out.getvalue()).encode("utf-8")
