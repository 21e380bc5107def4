"""The staff's commands in their group: leads, export, statistics, unanswered questions, reload.

Each command returns :class:`~bot.staff.desk.StaffResult` replies built from the
database and ``knowledge/texts/staff.yaml``; the ``run_bot.py export`` and
``run_bot.py stats`` subcommands call the same functions, so the command line and
the group always agree.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import TYPE_CHECKING, Callable

import sqlite_utils

from bot.conversation.messages import Reply
from bot.knowledge.checks import check_examples
from bot.staff import stats as stats_module
from bot.staff.csv_export import leads_csv
from bot.staff.leads import LINK as LEAD_LINK
from bot.conversation import feedback
from bot.staff.teach import handled_questions, normal
from bot.staff.types import StaffInput, StaffResult, clean
from bot.staff.unanswered import Group, group_questions, unanswered_questions
from bot.storage.staff import stamp

if TYPE_CHECKING:
    from bot.staff.desk import StaffDesk

#: The commands shown to staff in Telegram's menu, with the text key of their description.
STAFF_COMMANDS: list[tuple[str, str]] = [
    ("leads", "staff.cmd_leads"),
    ("mes_leads", "staff.cmd_mes_leads"),
    ("lead", "staff.cmd_lead"),
    ("export", "staff.cmd_export"),
    ("stats", "staff.cmd_stats"),
    ("sans_reponse", "staff.cmd_sans_reponse"),
    ("modifs", "staff.cmd_modifs"),
    ("campagne", "staff.cmd_campagne"),
    ("campagnes", "staff.cmd_campagnes"),
    ("recharger", "staff.cmd_recharger"),
    ("fin", "staff.cmd_fin"),
    ("aide", "staff.cmd_aide"),
]
#: Problems listed by ``/recharger`` before "… and N more".
MAX_PROBLEMS = 25
#: Groups listed by ``/sans_reponse``, and its default and longest period in days.
MAX_GROUPS = 20
UNANSWERED_DAYS, MAX_DAYS = 30, 365
#: Tokens in more than this share of the entries do not tell questions apart.
COMMON_SHARE = 0.2
#: Read-only commands whose work grows with the database: run off the event loop, on their own connection.
HEAVY = frozenset({"sans_reponse", "stats"})


class StaffCommands:
    """The command table of the staff group."""

    def __init__(self, desk: StaffDesk) -> None:
        self.desk = desk
        self.table: dict[str, Callable[[StaffInput], StaffResult]] = {
            "leads": self.leads,
            "lead": self.lead,
            "export": self.export,
            "stats": self.stats,
            "sans_reponse": self.unanswered,
            "recharger": self.reload,
            "ajouter": desk.teach.pick_command,
            "modifs": desk.teach.changes_command,
            "mes_leads": desk.followup.mine_command,
            "fin": desk.handoffs.end_command,
            "aide": self.help,
            "help": self.help,
            "start": self.help,
        }

    def names(self) -> list[str]:
        """Every command name the staff group answers."""
        return list(self.table)

    def menu(self) -> list[tuple[str, str]]:
        """(name, description) of the commands shown in the staff group's menu."""
        return [(name, self.desk.text(key)) for name, key in STAFF_COMMANDS]

    def run(self, inp: StaffInput) -> StaffResult:
        """Run a staff command (the caller checked that the user is staff).

        ``/lead_7k3q9p``, the command a grouped message gives each lead, is ``/lead MCO-7K3Q9P``.
        """
        if inp.command not in self.table and inp.command.startswith(LEAD_LINK) and len(inp.command) > len(LEAD_LINK):
            return self.lead(dataclasses.replace(inp, args=(inp.command[len(LEAD_LINK):],)))
        return self.table.get(inp.command, self.unknown)(inp)

    def is_heavy(self, inp: StaffInput) -> bool:
        """Whether a command reads a lot and writes nothing: it may run off the event loop."""
        return not inp.callback_data and inp.command in HEAVY

    def run_heavy(self, inp: StaffInput, db: sqlite_utils.Database) -> StaffResult:
        """A heavy read-only command computed on ``db``, a connection of the calling thread's own."""
        if inp.command == "sans_reponse":
            text, groups = self.unanswered_report(self._days(inp), db)
            result = StaffResult([Reply(text)])
            result.later = groups  # offered with buttons by :meth:`complete`, on the main connection
            return result
        return StaffResult([Reply(self.stats_text(db))])

    # --- the commands ----------------------------------------------------------------------

    def leads(self, inp: StaffInput) -> StaffResult:
        """``/leads``: the latest leads with their status."""
        return StaffResult([Reply(self.desk.leads.list_text())])

    def lead(self, inp: StaffInput) -> StaffResult:
        """``/lead REF``: one lead in full."""
        if not inp.args:
            return StaffResult([Reply(self.desk.text("staff.lead_usage"))])
        return StaffResult([self.desk.leads.detail(inp.args[0])])

    def export(self, inp: StaffInput) -> StaffResult:
        """``/export``: every lead as a CSV document."""
        name, content, count = self.export_file()
        return StaffResult([Reply(self.desk.text("staff.export_legende", n=count), document=(name, content))])

    def stats(self, inp: StaffInput) -> StaffResult:
        """``/stats``: the figures of the last 7 and 30 days."""
        return StaffResult([Reply(self.stats_text())])

    def unanswered(self, inp: StaffInput) -> StaffResult:
        """``/sans_reponse [jours]``: unanswered questions, grouped, the first ones with teaching buttons."""
        text, groups = self.unanswered_report(self._days(inp))
        return StaffResult([Reply(text), *self.desk.teach.offers(groups)])

    def complete(self, result: StaffResult) -> StaffResult:
        """A heavy command's result finished on the main connection (teaching buttons write their codes)."""
        groups = result.later
        if groups:
            with self.desk.assistant.db.atomic():
                result.replies.extend(self.desk.teach.offers(groups))
        return result

    @staticmethod
    def _days(inp: StaffInput) -> int:
        """The period of ``/sans_reponse [jours]``, within bounds."""
        if inp.args and inp.args[0].isdigit():
            return max(1, min(MAX_DAYS, int(inp.args[0])))
        return UNANSWERED_DAYS

    def reload(self, inp: StaffInput) -> StaffResult:
        """``/recharger``: reload ``knowledge/``; on a problem, keep the base in use and say why."""
        return StaffResult([Reply(self.reload_text())])

    def help(self, inp: StaffInput) -> StaffResult:
        """``/aide`` in the staff group: what the bot does for the team."""
        return StaffResult([Reply(self.desk.text("staff.aide_equipe"))])

    def unknown(self, inp: StaffInput) -> StaffResult:
        """Any other command from a staff member: the list of commands."""
        return StaffResult([Reply(self.desk.text("staff.commande_inconnue"))])

    # --- what they compute (also used by run_bot.py) ----------------------------------------

    def export_file(self) -> tuple[str, bytes, int]:
        """(file name, CSV bytes, number of leads) of the export."""
        store = self.desk.leads.store
        leads = store.all()
        content = leads_csv(self.desk.render(), leads, store.last_change, self.desk.leads.status_label)
        name = f"preinscriptions_{self.desk.now():%Y-%m-%d_%H%M}.csv"
        return name, content, len(leads)

    def stats_text(self, db: sqlite_utils.Database | None = None) -> str:
        """The ``/stats`` text (read from ``db``, by default the assistant's connection)."""
        render = self.desk.render()
        lines = [render.text("staff.stats_titre")]
        for period in stats_module.compute_all(db or self.desk.assistant.db, self.desk.now()):
            lines += ["", render.text("staff.stats_periode", jours=period.days)]
            share = period.answered_share
            pourcent = f"{share:.0%}".replace("%", " %") if share is not None else "—"
            lines.append(render.text("staff.stats_questions", n=period.questions,
                                     total=period.questions - period.smalltalk, pourcent=pourcent))
            lines.append(render.text("staff.stats_conseiller", n=period.handoffs))
            useful, rated = feedback.useful_share(db or self.desk.assistant.db,
                                                  feedback.since(self.desk.now(), period.days))
            if rated:
                lines.append(render.text("staff.stats_avis", n=rated, pourcent=f"{useful / rated:.0%}".replace("%", " %")))
            lines.append(render.text("staff.stats_leads", n=period.leads))
            if period.leads:
                statuses = ", ".join(f"{self.desk.leads.status_label(s)} {n}"
                                     for s, n in stats_module.statuses_in_order(period.by_status))
                sources = ", ".join(f"{clean(s, 64) or render.text('staff.source_directe')} {n}"
                                    for s, n in period.by_source.most_common())
                lines.append(render.text("staff.stats_par_statut", liste=statuses))
                lines.append(render.text("staff.stats_par_source", liste=sources))
            lines += self._funnel_lines(db or self.desk.assistant.db, period.days)
        return "\n".join(lines)

    def _funnel_lines(self, db: sqlite_utils.Database, days: int) -> list[str]:
        """Per source: started, asked, pre-registered, contacted, closed (the prospects first seen in the period)."""
        rows = stats_module.funnel(db, self.desk.now(), days)
        if not rows:
            return []
        render = self.desk.render()
        lines = [render.text("staff.stats_entonnoir_titre")]
        for row in rows[:MAX_GROUPS]:
            lines.append(render.text("staff.stats_entonnoir", source=clean(row.source, 64) or render.text(
                "staff.source_directe"), arrivees=row.started, ont_demande=row.asked, inscrites=row.registered,
                contactees=row.contacted, closes=row.closed))
        return lines

    def unanswered_text(self, days: int = UNANSWERED_DAYS, db: sqlite_utils.Database | None = None) -> str:
        """The ``/sans_reponse`` text for the last ``days`` days (read from ``db``, by default the assistant's)."""
        return self.unanswered_report(days, db)[0]

    def unanswered_report(self, days: int = UNANSWERED_DAYS,
                          db: sqlite_utils.Database | None = None) -> tuple[str, list[Group]]:
        """The ``/sans_reponse`` text and its groups (questions already taught or dismissed left out)."""
        render = self.desk.render()
        db = db or self.desk.assistant.db
        done = handled_questions(db)
        cutoff = self.desk.now() - dt.timedelta(days=days)
        disliked = [(q, e) for q, e in feedback.disliked_since(db, stamp(cutoff)) if normal(q) not in done]
        texts = [t for t in unanswered_questions(db, cutoff) + [q for q, _ in disliked] if normal(t) not in done]
        if not texts:
            return render.text("staff.sans_reponse_aucune", jours=days), []
        matcher = self.desk.assistant.knowledge.current.faq
        common = frozenset(t for t, w in matcher.idf.items() if w < _idf_of_share(COMMON_SHARE))
        groups = group_questions(texts, matcher.tokens, common)
        lines = [render.text("staff.sans_reponse_titre", jours=days, n=len(texts), total=len(groups))]
        for group in groups[:MAX_GROUPS]:
            lines.append(render.text("staff.sans_reponse_groupe", n=group.count, question=clean(group.example, 120)))
            variants = group.variants()
            if variants:
                liste = ", ".join(f"« {clean(v, 80)} »" for v in variants)
                lines.append(render.text("staff.sans_reponse_variantes", liste=liste))
        if len(groups) > MAX_GROUPS:
            lines.append(render.text("staff.sans_reponse_plus", n=len(groups) - MAX_GROUPS))
        lines += self._disliked_lines(disliked)
        return "\n".join(lines), groups

    def _disliked_lines(self, disliked: list[tuple[str, str]]) -> list[str]:
        """The answers rated 👎, each with the entry that gave it (the answer it got)."""
        if not disliked:
            return []
        render = self.desk.render()
        kb = self.desk.assistant.knowledge.current.kb
        lines = [render.text("staff.sans_reponse_avis_titre", n=len(disliked))]
        for question, entry_id in disliked[:MAX_GROUPS]:
            title = kb.entries[entry_id].title if entry_id in kb.entries else (entry_id or "—")
            lines.append(render.text("staff.sans_reponse_avis", question=clean(question, 120), titre=clean(title, 60)))
        return lines

    def reload_text(self) -> str:
        """Reload the knowledge base and report: problems (base kept), or counts and warnings."""
        render = self.desk.render()
        knowledge = self.desk.assistant.knowledge
        problems = knowledge.reload()
        if problems:
            lines = [render.text("staff.recharger_erreur", n=len(problems))]
            lines += [str(p) for p in problems[:MAX_PROBLEMS]]
            if len(problems) > MAX_PROBLEMS:
                lines.append(render.text("staff.recharger_plus", n=len(problems) - MAX_PROBLEMS))
            return "\n".join(lines)
        loaded = knowledge.current
        render = self.desk.render()  # the new texts
        lines = [render.text("staff.recharger_ok", n=len(loaded.kb.entries),
                             total=sum(len(e.questions) for e in loaded.kb.entries.values()))]
        warnings = check_examples(loaded)
        if warnings:
            lines.append(render.text("staff.recharger_avertissements", n=len(warnings)))
            lines += [str(p) for p in warnings[:MAX_PROBLEMS]]
            if len(warnings) > MAX_PROBLEMS:
                lines.append(render.text("staff.recharger_plus", n=len(warnings) - MAX_PROBLEMS))
        return "\n".join(lines)


def _idf_of_share(share: float) -> float:
    """The matcher's IDF of a token found in ``share`` of the entries (``log(1 + n/df)``)."""
    return math.log(1 + 1 / share)
