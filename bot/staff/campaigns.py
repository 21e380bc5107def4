"""Staff campaigns: one message to a segment of the prospects who opted in (issue 13).

Only prospects with at least one active reminder subscription (they said yes to
hearing from the bot) and not known to have blocked it are ever recipients. A
campaign is a draft until staff confirm it with a button (twice above
:data:`SECOND_CONFIRMATION` recipients); confirming writes one outbox row per
recipient in one transaction, so a kill -9 leaves all of them queued or none. The
rows are *bulk* rows: the outbox's bulk lane sends them like reminders, with what the
bot-wide rate leaves once prospects' answers and the other messages are served
(``handlers/budget.py``); a row in flight at a crash is not sent again (lost, counted,
never doubled). While it sends, one progress message in the staff group is edited
(through the outbox, at most every :data:`PROGRESS_SECONDS` and only on a visible change,
so the group's own limit of ~20 messages a minute is never the bottleneck), and a report
ends it. ``/campagnes`` shows each campaign's figures, read from the outbox.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.conversation.messages import Button, Reply
from bot.staff.types import PREFIX, StaffInput, StaffResult, clean
from bot.storage.outbox import PROSPECT, STAFF
from bot.storage.times import to_db

if TYPE_CHECKING:
    from bot.staff.desk import StaffDesk

KIND_CAMPAIGN = "campaign"
KIND_CAMPAIGN_REPORT = "campaign_report"
#: The staff message showing a campaign's progress, and the edits that update it (ref: the campaign).
KIND_CAMPAIGN_PROGRESS = "campaign_progress"
KIND_CAMPAIGN_PROGRESS_EDIT = "campaign_progress_edit"
#: The progress message is edited at most this often, and sooner than :data:`PROGRESS_QUIET` only
#: when the campaign advanced by :data:`PROGRESS_STEP` percent.
PROGRESS_SECONDS, PROGRESS_QUIET, PROGRESS_STEP = 5.0, 15.0, 5
#: What ``last_error`` says of a bulk row whose request was in flight at a stop (handlers/delivery.py).
LOST_ERROR = "in flight%"
SECOND_CONFIRMATION = 100
MAX_TEXT = 3000
#: ``s:c:<action>:<id>``.
BUTTONS = PREFIX + "c:"
DRAFT, CONFIRMING, SENDING, DONE, CANCELLED = "brouillon", "a_confirmer", "en_cours", "terminee", "annulee"
#: The segments staff may name, and the filter each adds (on the opted-in prospects).
SEGMENT_FILTERS = {
    "tous": ("", False),
    "source": ("AND p.source = ?", True),
    "statut": ("AND r.status = ?", True),
    "rentree": ("AND r.intake = ?", True),
    "sans_entreprise": ("AND r.company = 'recherche'", False),
}


def recipients(db: Any, segment: str, value: str) -> list[int]:
    """The opted-in prospects of a segment (never anyone who did not say yes, nor a blocked one)."""
    condition, takes_value = SEGMENT_FILTERS[segment]
    sql = ("SELECT DISTINCT s.user_id FROM reminder_subscriptions s "
           "LEFT JOIN prospects p ON p.user_id = s.user_id LEFT JOIN registrations r ON r.user_id = s.user_id "
           "WHERE s.stopped_at IS NULL AND s.user_id NOT IN "
           f"(SELECT user_id FROM reminder_people WHERE blocked_at IS NOT NULL) {condition} ORDER BY s.user_id")
    return [row[0] for row in db.execute(sql, [value] if takes_value else []).fetchall()]


def figures(db: Any, campaign_id: int) -> dict[str, int]:
    """sent, blocked, failed, lost, pending: what became of a campaign's messages.

    ``lost``: in flight when the bot stopped, never sent again (perhaps received);
    ``failed``: refused by Telegram for another reason.
    """
    counts = {"sent": 0, "blocked": 0, "failed": 0, "lost": 0, "pending": 0}
    for status, blocked, lost, n in db.execute(
            "SELECT status, last_error LIKE '403%', last_error LIKE ?, COUNT(*) FROM outbox WHERE kind = ? AND ref = ? "
            "GROUP BY 1, 2, 3", [LOST_ERROR, KIND_CAMPAIGN, str(campaign_id)]).fetchall():
        key = ("sent" if status == "sent" else "pending" if status == "pending" else "blocked" if blocked
               else "lost" if lost else "failed")
        counts[key] += n
    return counts


class CampaignDesk:
    """``/campagne``, its confirmation buttons, ``/campagnes``, and the end-of-campaign report."""

    def __init__(self, desk: StaffDesk) -> None:
        self.desk = desk
        self.db = desk.assistant.db
        #: Campaign id -> (when its progress was last queued, messages done, percent shown): in memory
        #: only, since after a restart an early update is harmless.
        self._shown: dict[int, tuple[dt.datetime, int, int]] = {}

    def compose(self, inp: StaffInput) -> StaffResult:
        """``/campagne SEGMENT[:valeur] message``: a draft, its preview and its number of recipients."""
        words = inp.text.split(None, 2)
        if len(words) < 3:
            return StaffResult([Reply(self.desk.text("staff.campagne_usage"))])
        segment, _, value = words[1].partition(":")
        segment = segment.lower()
        if segment not in SEGMENT_FILTERS or bool(value) != SEGMENT_FILTERS[segment][1]:
            return StaffResult([Reply(self.desk.text("staff.campagne_usage"))])
        text = words[2].strip()[:MAX_TEXT]
        count = len(recipients(self.db, segment, value))
        campaign_id = self.db["campaigns"].insert({
            "created_at": to_db(self.desk.now()), "created_by": inp.user_id,
            "segment": segment, "value": value, "text": text, "status": DRAFT, "recipients": count}).last_pk
        preview = self.desk.text("staff.campagne_apercu", n=count, segment=clean(words[1], 60), message=text)
        if count == 0:
            return StaffResult([Reply(preview)])
        buttons = [[Button(self.desk.text("staff.campagne_bouton_envoyer", n=count), f"{BUTTONS}ok:{campaign_id}"),
                    Button(self.desk.text("staff.campagne_bouton_annuler"), f"{BUTTONS}no:{campaign_id}")]]
        return StaffResult([Reply(preview, buttons)])

    def on_button(self, inp: StaffInput) -> StaffResult:
        action, _, raw = inp.callback_data[len(BUTTONS):].partition(":")
        row = self.db.execute("SELECT status, segment, value, text FROM campaigns WHERE id = ?",
                              [int(raw) if raw.isdigit() else -1]).fetchone()
        if row is None or row[0] not in (DRAFT, CONFIRMING):
            return StaffResult(notice=self.desk.text("staff.bouton_indisponible"))
        campaign_id, (status, segment, value, text) = int(raw), row
        if action == "no":
            self.db.execute("UPDATE campaigns SET status = ? WHERE id = ?", [CANCELLED, campaign_id])
            return StaffResult([Reply(self.desk.text("staff.campagne_annulee", n=campaign_id))])
        people = recipients(self.db, segment, value)
        if action == "ok" and status == DRAFT and len(people) > SECOND_CONFIRMATION:
            self.db.execute("UPDATE campaigns SET status = ? WHERE id = ?", [CONFIRMING, campaign_id])
            button = [[Button(self.desk.text("staff.campagne_bouton_confirmer", n=len(people)),
                              f"{BUTTONS}ok2:{campaign_id}")]]
            return StaffResult([Reply(self.desk.text("staff.campagne_seconde", n=len(people)), button)])
        if not (action == "ok" and status == DRAFT or action == "ok2" and status == CONFIRMING):
            return StaffResult(notice=self.desk.text("staff.bouton_indisponible"))
        return self._send(campaign_id, text, people)

    def _send(self, campaign_id: int, text: str, people: list[int]) -> StaffResult:
        """Queue one message per recipient, all in this transaction (the desk's): all or none."""
        now = self.desk.now()
        stop = [[Button(self.desk.text("rappels.bouton_ne_plus_recevoir"), "rp:stop")]]
        outbox = self.desk.assistant.outbox
        for user_id in people:
            outbox.put(PROSPECT, KIND_CAMPAIGN, Reply(text, stop), now, chat_id=user_id, ref=str(campaign_id), bulk=True)
        self.db.execute("UPDATE campaigns SET status = ?, recipients = ?, confirmed_at = ? WHERE id = ?",
                        [SENDING, len(people), to_db(now), campaign_id])
        self.desk.assistant.wake_delivery()
        return StaffResult([Reply(self.desk.text("staff.campagne_partie", n=len(people), id=campaign_id))])

    def list(self, inp: StaffInput) -> StaffResult:
        """``/campagnes``: the latest campaigns with their figures."""
        rows = self.db.execute("SELECT id, created_at, segment, value, status, recipients FROM campaigns "
                               "WHERE status IN (?, ?) ORDER BY id DESC LIMIT 15", [SENDING, DONE]).fetchall()
        if not rows:
            return StaffResult([Reply(self.desk.text("staff.campagnes_aucune"))])
        lines = [self.desk.text("staff.campagnes_titre")]
        for campaign_id, created, segment, value, status, count in rows:
            lines.append(self.desk.text("staff.campagnes_ligne", id=campaign_id, date=self.desk.moment(created),
                                        segment=clean(f"{segment}:{value}" if value else segment, 60), n=count,
                                        **self._figures_params(campaign_id)))
        return StaffResult([Reply("\n".join(lines))])

    def _figures_params(self, campaign_id: int) -> dict[str, int]:
        got = figures(self.db, campaign_id)
        return {"envoyes": got["sent"], "bloques": got["blocked"], "echecs": got["failed"], "perdus": got["lost"],
                "attente": got["pending"]}

    def tick(self) -> int:
        """Often (a job of the bot): the progress of the campaigns being sent, then the reports of those done."""
        queued = 0
        for campaign_id, recipients_count in self.db.execute(
                "SELECT id, recipients FROM campaigns WHERE status = ? AND reported = 0", [SENDING]).fetchall():
            queued += self.progress(campaign_id, recipients_count)
        return queued + self.report_finished()

    def progress(self, campaign_id: int, total: int, final: bool = False) -> int:
        """Show where a campaign stands in its progress message (posted first, then edited); returns 1 if queued.

        Never more often than :data:`PROGRESS_SECONDS`, only when the figure shown changes, and
        never while an earlier update still waits in the staff queue (the group's limit then
        decides the pace, and updates do not pile up). ``final``: the last update, always queued.
        """
        ref = str(campaign_id)
        now = self.desk.now()
        if not final and self.db.execute("SELECT 1 FROM outbox WHERE kind IN (?, ?) AND ref = ? AND status = 'pending'",
                                         [KIND_CAMPAIGN_PROGRESS, KIND_CAMPAIGN_PROGRESS_EDIT, ref]).fetchone():
            return 0
        params = self._figures_params(campaign_id)
        done = total - params["attente"]
        percent = 100 * done // total if total else 100
        if not final and not self._worth_showing(campaign_id, now, done, percent):
            return 0
        text = self.desk.text("staff.campagne_progression_fin" if final else "staff.campagne_progression",
                              id=campaign_id, faits=done, n=total, pourcent=percent, **params)
        root = self.db.execute("SELECT id FROM outbox WHERE kind = ? AND ref = ? ORDER BY id LIMIT 1",
                               [KIND_CAMPAIGN_PROGRESS, ref]).fetchone()
        if root is None:
            self.desk.queue_staff(KIND_CAMPAIGN_PROGRESS, Reply(text), ref=ref)
        else:
            self.desk.queue_staff(KIND_CAMPAIGN_PROGRESS_EDIT, Reply(text), ref=ref, edit_of=root[0])
        self._shown[campaign_id] = (now, done, percent)
        return 1

    def _worth_showing(self, campaign_id: int, now: dt.datetime, done: int, percent: int) -> bool:
        """A change, and not too soon: :data:`PROGRESS_SECONDS` apart, :data:`PROGRESS_QUIET` unless a step passed."""
        last = self._shown.get(campaign_id)
        if last is None:
            return True
        waited = (now - last[0]).total_seconds()
        return done != last[1] and waited >= PROGRESS_SECONDS and \
            (percent - last[2] >= PROGRESS_STEP or waited >= PROGRESS_QUIET)

    def report_finished(self) -> int:
        """Campaigns with nothing left to send: mark them done and post their report once."""
        done = 0
        for (campaign_id,) in self.db.execute("SELECT id FROM campaigns WHERE status = ? AND reported = 0",
                                              [SENDING]).fetchall():
            if figures(self.db, campaign_id)["pending"]:
                continue
            with self.db.atomic():
                self.db.execute("UPDATE campaigns SET status = ?, reported = 1 WHERE id = ?", [DONE, campaign_id])
                if self.db.execute("SELECT 1 FROM outbox WHERE kind = ? AND ref = ?",
                                   [KIND_CAMPAIGN_PROGRESS, str(campaign_id)]).fetchone():
                    total = self.db.execute("SELECT recipients FROM campaigns WHERE id = ?", [campaign_id]).fetchone()[0]
                    self.progress(campaign_id, total, final=True)  # the progress message ends at 100 %
                text = self.desk.text("staff.campagne_rapport", id=campaign_id, **self._figures_params(campaign_id))
                self.desk.assistant.outbox.put(STAFF, KIND_CAMPAIGN_REPORT, Reply(text), self.desk.now(),
                                               ref=str(campaign_id))
            done += 1
        if done:
            self.desk.assistant.wake_delivery()
        return done


def install(desk: StaffDesk) -> CampaignDesk:
    """Add ``/campagne``, ``/campagnes`` and the confirmation buttons to the staff desk."""
    campaigns = CampaignDesk(desk)
    desk.commands.table["campagne"] = campaigns.compose
    desk.commands.table["campagnes"] = campaigns.list
    desk.button_owners[BUTTONS] = campaigns.on_button
    desk.campaigns = campaigns
    return campaigns
