"""A stored pre-registration answer as people read it, the same for the prospect and for staff.

The prospect's summary (``flow.py``) and the staff's lead message (``bot/staff/leads.py``)
show the same fields; writing the conversion once keeps "12 mars 2007", the spaced
phone number and the choice labels identical on both sides.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from bot.knowledge.render import Renderer, french_date
from bot.registration import steps
from bot.registration.validators import format_phone_for_humans


def shown_value(render: Renderer, field: str, data: dict[str, Any]) -> str:
    """A stored answer in words: dates spelled out, phone numbers spaced, labels for codes."""
    value = data.get(field)
    if value in (None, ""):
        return "—"
    shown = steps.BY_NAME[field].shown if field in steps.BY_NAME else "text"
    if shown == "date":
        try:
            return french_date(dt.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if shown == "phone":
        return format_phone_for_humans(str(value))
    if shown == "company":
        if value == steps.COMPANY_FOUND and data.get(steps.COMPANY_NAME):
            return str(data[steps.COMPANY_NAME])
        return render.text("form.valeur_recherche")
    if shown == "intake":
        return render.text("form.valeur_rentree", annees=value)
    if shown == "choice":
        return render.text(steps.label_key(field, str(value)))
    return str(value)


def exported_value(render: Renderer, field: str, data: dict[str, Any]) -> str:
    """A stored answer as the CSV export writes it: as stored, or its label, or spaced (phone)."""
    value = data.get(field)
    if not value:
        return ""
    exported = steps.BY_NAME[field].exported
    if exported == "phone":
        return format_phone_for_humans(str(value))
    if exported == "label":
        return render.text(steps.label_key(field, str(value)))
    return str(value)
