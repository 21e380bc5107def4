"""The one place where a moment becomes a stored string, and a stored string a moment again.

Every timestamp column of the base holds UTC in one fixed form,
``YYYY-MM-DDTHH:MM:SS+00:00`` (:func:`to_db`). Why UTC: a Paris wall-clock time
repeats itself for an hour each late October and skips one each late March, so Paris
strings neither sort nor compare as text across a change of time; UTC strings of one
fixed width do, and SQLite's ``julianday()`` reads them as well. People never see
these strings: what is shown (staff cards, ``/lead``, the CSV export, ``/mesdonnees``,
digests, recalls) is converted to Paris time at that edge, with :func:`in_paris`.

Older bases kept Paris times in some tables; the migration ``_v13_utc_timestamps``
of ``bot/storage/db.py`` rewrote them with :func:`legacy_paris_to_db`.
"""
from __future__ import annotations

import datetime as dt

from bot.clock import PARIS

UTC = dt.timezone.utc


def to_db(moment: dt.datetime) -> str:
    """The stored form of an aware moment: UTC, to the second, always 25 characters.

    A naive datetime is refused: which clock it was read on cannot be guessed.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime cannot be stored: say its time zone")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db(stamp: str) -> dt.datetime:
    """A stored timestamp as an aware UTC datetime (``ValueError`` if it is not one).

    A value with another offset (written by hand, or by an older version) is converted;
    one with none is read as UTC, the convention of the base.
    """
    moment = dt.datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def in_paris(stamp: str) -> dt.datetime:
    """A stored timestamp as Paris time: what people are shown."""
    return from_db(stamp).astimezone(PARIS)


def legacy_paris_to_db(stamp: str | None) -> str | None:
    """A value written by an older version in Paris time, in the stored form of today (see the migration).

    With an offset (what the bot wrote: ``2026-10-25T02:30:00+01:00``) the instant is
    exact. Without one (typed by hand) it is read as Paris wall-clock time; of the two
    instants a late-October hour between 2 and 3 names, the first (summer time) is
    taken, as ``zoneinfo`` does by default. Anything that is not a date and time
    (empty, a bare date, text) is left as it is.
    """
    if not stamp or len(stamp) <= 10:
        return stamp
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return to_db(moment)
