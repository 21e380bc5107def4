"""Staff campaigns: one message to a segment of the prospects who opted in (issue 13).

Only prospects with at least one active reminder subscription (they said yes to
hearing from the bot) and not known to have blocked it are ever recipients. A
campaign is a draft until staff confirm it with a button (twice above
:data:`SECOND_CONFIRMATION` recipients); confirming writes one outbox row per
recipient in one transaction, so a kill -9 leaves all of them queued or none. The
outbox delivers them within its rate limit, one at a time like reminders (a row in
flight at a crash is not sent again: at most one lost, counted, never doubled),
while prospects' answers go out through the bot's own client and keep priority.
``/campagnes`` shows each campaign's figures, read from the outbox.
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
    """sent, blocked, failed, pending: what became of a campaign's messages."""
    counts = {"sent": 0, "blocked": 0, "failed": 0, "pending": 0}
    for status, error, n in db.execute(
            "SELECT status, last_error LIKE '403%', COUNT(*) FROM outbox WHERE kind = ? AND ref = ? "
            "GROUP BY status, last_error LIKE '403%'", [KIND_CAMPAIGN, str(campaign_id)]).fetchall():
        key = "sent" if status == "sent" else "pending" if status == "pending" else "blocked" if error else "failed"
        counts[key] += n
    return counts


class CampaignDesk:
    """``/campagne``, its confirmation buttons, ``/campagnes``, and the end-of-campaign report."""

    def __init__(self, desk: StaffDesk) -> None:
        self.desk = desk
        self.db = desk.assistant.db

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
            outbox.put(PROSPECT, KIND_CAMPAIGN, Reply(text, stop), now, chat_id=user_id, ref=str(campaign_id))
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
        return {"envoyes": got["sent"], "bloques": got["blocked"], "echecs": got["failed"], "attente": got["pending"]}

    def report_finished(self) -> int:
        """Campaigns with nothing left to send: mark them done and post their report once."""
        done = 0
        for (campaign_id,) in self.db.execute("SELECT id FROM campaigns WHERE status = ? AND reported = 0",
                                              [SENDING]).fetchall():
            if figures(self.db, campaign_id)["pending"]:
                continue
            with self.db.atomic():
                self.db.execute("UPDATE campaigns SET status = ?, reported = 1 WHERE id = ?", [DONE, campaign_id])
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
