"""Office hours: is someone there now, and if not, when will they be?

A prospect who asks for a person at 22:00 on a Friday must not wait in silence:
they are told the next opening (day and time), computed here from
``Settings.office_hours``/``office_days`` in Europe/Paris time. Public holidays are
not known: a holiday counts as an ordinary day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.clock import PARIS
from bot.config import Settings
from bot.knowledge.render import WEEKDAYS, Renderer, french_date, french_time


@dataclass(frozen=True)
class OfficeHours:
    """Opening time, closing time and open days (ISO numbers, 1 = Monday)."""

    start: dt.time
    end: dt.time
    days: frozenset[int]

    @classmethod
    def from_settings(cls, settings: Settings) -> "OfficeHours":
        """The hours configured by ``OFFICE_HOURS`` and ``OFFICE_DAYS``."""
        start, end = settings.office_hours
        return cls(start, end, frozenset(settings.office_days))

    def is_open(self, now: dt.datetime) -> bool:
        """Whether ``now`` falls within the office hours (Paris time)."""
        local = now.astimezone(PARIS)
        return local.isoweekday() in self.days and self.start <= local.time().replace(tzinfo=None) < self.end

    def next_opening(self, now: dt.datetime) -> dt.datetime | None:
        """``now`` when open, else the next opening time; None when no day is open."""
        if self.is_open(now):
            return now
        local = now.astimezone(PARIS)
        for offset in range(0, 8):
            day = local.date() + dt.timedelta(days=offset)
            opening = dt.datetime.combine(day, self.start, tzinfo=PARIS)
            if day.isoweekday() in self.days and opening > local:
                return opening
        return None

    # --- in words -------------------------------------------------------------------

    def describe(self, render: Renderer) -> str:
        """``du lundi au vendredi, de 9h à 17h`` (the sentence shapes are in ``staff.yaml``)."""
        return render.text("staff.horaires", jours=self._days_text(render),
                           debut=_hhmm(self.start), fin=_hhmm(self.end))

    def when(self, render: Renderer, now: dt.datetime) -> str:
        """When the next opening is, relative to ``now``: today, tomorrow, or a date."""
        opening = self.next_opening(now)
        if opening is None:
            return render.text("staff.ouverture_inconnue")
        local = now.astimezone(PARIS).date()
        heure = _hhmm(opening.time())
        if opening.date() == local:
            return render.text("staff.ouverture_aujourdhui", heure=heure)
        if opening.date() == local + dt.timedelta(days=1):
            return render.text("staff.ouverture_demain", heure=heure)
        return render.text("staff.ouverture_date", date=french_date(opening.date(), weekday=True), heure=heure)

    def _days_text(self, render: Renderer) -> str:
        days = sorted(d for d in self.days if 1 <= d <= 7)
        names = [WEEKDAYS[d - 1] for d in days]
        if len(days) == 1:
            return render.text("staff.jours_un", jour=names[0])
        if len(days) > 1 and days == list(range(days[0], days[-1] + 1)):
            return render.text("staff.jours_plage", debut=names[0], fin=names[-1])
        return render.text("staff.jours_liste", liste=", ".join(names))


def _hhmm(moment: dt.time) -> str:
    return french_time(moment.strftime("%H:%M"))
