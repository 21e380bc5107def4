"""Teaching the bot from the staff group: an unanswered question becomes an example in one tap.

Closing a knowledge gap used to mean opening a YAML file on a computer; now each
group of ``/sans_reponse`` comes with buttons: "➕" one of the three likeliest
entries (or another, found by its title with ``/ajouter``), "Hors sujet" (an example
of the not-covered item ``hors_sujet``: the bot then says honestly it cannot help
with that), "Ignorer". The file edit itself is :mod:`bot.knowledge.editing`: checked
exactly as ``run_bot.py check`` before anything is kept, then the base is reloaded.

Callback data must fit in 64 bytes and a question does not: the question and its
candidate entries are stored in ``teach_pending`` under a short random code, and the
buttons carry only that code. Every edit, dismissal and undo is a row of
``knowledge_edits`` (who, when, what), listed by ``/modifs``; an edit's row keeps the
file's text before and after, which is what "Annuler" writes back.

Questions mentioning health are never offered, nor accepted by ``/ajouter``: the
question log already replaces them with a marker, and they must not reach a file
that is kept for years and copied around.

A teaching button costs the full ``check`` of the base (about 1.5 s of CPU) and a
reload: the Telegram side runs it in a worker thread (:meth:`TeachDesk.run_button`
with a connection of that thread's own), one teaching at a time (:attr:`TeachDesk.lock`):
two staff members pressing at once never check or write the same file together.

Crash-safety: the edit is recorded (``pending``) before its file is written and marked
done, with the update's answer, after the base was reloaded. A process killed in
between leaves a pending row; at the next start :meth:`TeachDesk.reconcile` compares it
with the file: written (and sound) -> done; not written -> the row goes, and the
redelivered button press does it again. No line is ever added without its ``/modifs`` row.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils
from rapidfuzz import fuzz, process

from bot.conversation.messages import Button, Reply
from bot.knowledge import editing
from bot.matching.health import mentions_health
from bot.staff.types import PREFIX, StaffInput, StaffResult, clean
from bot.staff.unanswered import Group
from bot.storage.staff import stamp
from bot.storage.updates import HandledUpdates

if TYPE_CHECKING:
    from bot.staff.desk import StaffDesk

#: Groups of ``/sans_reponse`` offered with buttons (each is one message).
MAX_OFFERS = 5
#: Entries proposed per question, and found by ``/ajouter CODE words``.
CANDIDATES, TITLE_MATCHES = 3, 5
#: The not-covered item that "Hors sujet" adds to.
OFF_TOPIC = "hors_sujet"
#: Edits listed by ``/modifs``.
MAX_LISTED = 15
#: Problems shown when an edit is refused.
MAX_PROBLEMS = 5
ADD, UNDO, IGNORE = "ajout", "annulation", "ignore"

log = logging.getLogger(__name__)

#: Why an edit was refused -> the sentence staff read.
REFUSALS = {
    "deja_present": "staff.apprendre_deja_present",
    "entree_introuvable": "staff.apprendre_entree_introuvable",
    "sans_questions": "staff.apprendre_entree_introuvable",
    "base_invalide": "staff.apprendre_refuse",
    "fichier_modifie_depuis": "staff.apprendre_annulation_impossible",
}


def normal(question: str) -> str:
    """A question as compared with the ones already handled (case and spaces do not count)."""
    return " ".join(question.lower().split())


def handled_questions(db: sqlite_utils.Database) -> set[str]:
    """Questions taught or dismissed (and not undone): ``/sans_reponse`` no longer lists them."""
    rows = db.execute("SELECT question FROM knowledge_edits WHERE action IN (?, ?) AND undone_at IS NULL "
                      "AND pending = 0", [ADD, IGNORE]).fetchall()
    return {normal(row[0]) for row in rows if row[0]}


class TeachDesk:
    """The buttons under ``/sans_reponse``, ``/ajouter``, ``/modifs`` and "Annuler"."""

    PREFIX = PREFIX + "t:"  # + action letter + ":" + code [+ ":" + index]

    def __init__(self, desk: StaffDesk, db: sqlite_utils.Database | None = None,
                 lock: threading.Lock | None = None) -> None:
        self.desk = desk
        self._db = db
        #: One teaching at a time, whichever thread runs it (see the module docstring).
        self.lock = lock or threading.Lock()
        #: Edits of this run, recorded pending: marked done with the update's answer.
        self.opened: list[int] = []

    @property
    def db(self) -> sqlite_utils.Database:
        return self._db if self._db is not None else self.desk.assistant.db

    # --- running a button, once, on any thread ------------------------------------------------

    def owns(self, inp: StaffInput) -> bool:
        """Whether the input is a teaching button (see :meth:`run_button`)."""
        return inp.callback_data.startswith(self.PREFIX)

    def run_button(self, inp: StaffInput, db: sqlite_utils.Database) -> StaffResult:
        """A teaching button handled once per update id, on ``db`` (a connection of the calling thread).

        Not inside one transaction like other staff inputs: the edit's row must be in
        the file before the YAML file changes (see the module docstring). The answer is
        recorded with the edit marked done, in one transaction.
        """
        with self.lock:
            handled = HandledUpdates(db)
            if inp.update_id is not None and (earlier := handled.answer_of(inp.update_id)) is not None:
                return StaffResult.from_dict(earlier)
            worker = TeachDesk(self.desk, db, self.lock)
            result = worker.on_button(inp)
            with db.atomic():
                for edit_id in worker.opened:
                    db.execute("UPDATE knowledge_edits SET pending = 0 WHERE id = ?", [edit_id])
                if inp.update_id is not None:
                    handled.record_answer(inp.update_id, inp.user_id, result.to_dict(), self.desk.now())
            return result

    def reconcile(self) -> int:
        """At start-up: settle the edits a killed process left pending, against their files. Returns how many.

        The file holds the edit's text: it was written; checked again (the kill may have
        come during the check), then kept and marked done, or put back. The file holds
        the text from before: nothing happened, the row goes (the button press, never
        acknowledged, comes again). Anything else (the file was edited by hand since):
        the row goes, the file is left alone.
        """
        rows = self.db.execute("SELECT id, action, file, before, after, undo_of FROM knowledge_edits "
                               "WHERE pending = 1").fetchall()
        for edit_id, action, file, before, after, undo_of in rows:
            path = self.directory / file if file else None
            current = path.read_text(encoding="utf-8") if path is not None and path.exists() else None
            if path is not None and current == after and current != before:
                _, problems = editing.check_folder(self.directory)
                if not problems:
                    self._done(edit_id, action, undo_of)
                    continue
                editing.write_text(path, before)
            self.db.execute("DELETE FROM knowledge_edits WHERE id = ?", [edit_id])
            log.warning("knowledge edit %s was interrupted by a stop: not kept", edit_id)
        if rows:
            self.desk.assistant.knowledge.reload()
        return len(rows)

    def _done(self, edit_id: int, action: str, undo_of: int | None) -> None:
        with self.db.atomic():
            self.db.execute("UPDATE knowledge_edits SET pending = 0 WHERE id = ?", [edit_id])
            if action == UNDO and undo_of is not None:
                self.db.execute("UPDATE knowledge_edits SET undone_at = COALESCE(undone_at, ?) WHERE id = ?",
                                [stamp(self.desk.now()), undo_of])

    @property
    def directory(self) -> Path:
        return self.desk.assistant.knowledge.directory

    # --- offering ---------------------------------------------------------------------------

    def offerable(self, question: str) -> bool:
        """Not a health question (nor the log's marker standing for one), not empty."""
        render = self.desk.render()
        kb = self.desk.assistant.knowledge.current.kb
        if not question.strip() or question == render.text("general.question_sante_retiree"):
            return False
        return not mentions_health(question, kb.health_words)

    def offers(self, groups: list[Group]) -> list[Reply]:
        """One message with buttons per group (the first :data:`MAX_OFFERS` that may be offered)."""
        replies = []
        for group in groups:
            if len(replies) >= MAX_OFFERS:
                break
            if not self.offerable(group.example):
                continue
            replies.append(self._offer(group.example, group.count))
        return replies

    def _offer(self, question: str, count: int) -> Reply:
        candidates = self.likeliest(question)
        code = self._pending(question, count, candidates)
        return Reply(self.desk.text("staff.apprendre_question", n=count, question=clean(question, 200)),
                     self._buttons(code, candidates, extra=True))

    def likeliest(self, question: str, limit: int = CANDIDATES) -> list[str]:
        """The entries the matcher ranks first for the question (FAQ entries and not-covered items)."""
        ranked = self.desk.assistant.knowledge.current.faq.ranked(question)
        return [entry_id for entry_id, _score, _fit in ranked[:limit]]

    def _pending(self, question: str, count: int, candidates: list[str]) -> str:
        code = secrets.token_hex(4)
        self.db["teach_pending"].insert({"code": code, "question": question[:300], "count": count,
                                         "candidates": json.dumps(candidates), "created_at": stamp(self.desk.now())})
        return code

    def _buttons(self, code: str, candidates: list[str], extra: bool) -> list[list[Button]]:
        rows = [[Button(self.desk.text("staff.apprendre_bouton_entree", titre=clean(self.title(c), 40)),
                        f"{self.PREFIX}a:{code}:{i}")] for i, c in enumerate(candidates)]
        if extra:
            rows.append([Button(self.desk.text("staff.apprendre_bouton_autre"), f"{self.PREFIX}o:{code}"),
                         Button(self.desk.text("staff.apprendre_bouton_hors_sujet"), f"{self.PREFIX}h:{code}"),
                         Button(self.desk.text("staff.apprendre_bouton_ignorer"), f"{self.PREFIX}i:{code}")])
        return rows

    def title(self, item_id: str) -> str:
        """An entry's title; a not-covered item has none: its id, marked as such."""
        kb = self.desk.assistant.knowledge.current.kb
        entry = kb.entries.get(item_id)
        if entry is not None:
            return entry.title
        return self.desk.text("staff.apprendre_non_couvert", id=item_id)

    # --- buttons ----------------------------------------------------------------------------

    def on_button(self, inp: StaffInput) -> StaffResult:
        """A teaching button: add, other entry, off topic, ignore, or undo."""
        action, _, rest = inp.callback_data[len(self.PREFIX):].partition(":")
        if action == "u":
            return self.undo(inp, rest)
        code, _, index = rest.partition(":")
        pending = self.db.execute("SELECT question, count, candidates FROM teach_pending WHERE code = ?",
                                  [code]).fetchone()
        if pending is None:
            return StaffResult(notice=self.desk.text("staff.bouton_indisponible"))
        question, candidates = pending[0], json.loads(pending[2])
        if action == "a" and index.isdigit() and int(index) < len(candidates):
            return self.add(inp, question, candidates[int(index)])
        if action == "h":
            return self.add(inp, question, OFF_TOPIC)
        if action == "i":
            return self.ignore(inp, question)
        if action == "o":
            return StaffResult([Reply(self.desk.text("staff.apprendre_autre", code=code))])
        return StaffResult(notice=self.desk.text("staff.bouton_indisponible"))

    def add(self, inp: StaffInput, question: str, item_id: str) -> StaffResult:
        """Append the question to the item's file if the base stays sound; reload; say what changed."""
        if not self.offerable(question):
            return StaffResult([Reply(self.desk.text("staff.apprendre_sante"))])
        try:
            edit = editing.plan_example(self.directory, item_id, question)
        except editing.EditRefused as refused:
            return StaffResult([Reply(self._refusal(refused, item_id))])
        edit_id = self._record(inp, ADD, item_id, question, edit, pending=True)  # in the file before the YAML
        try:
            editing.apply_checked(self.directory, edit.path, edit.after)
        except editing.EditRefused as refused:
            self._drop(edit_id)
            return StaffResult([Reply(self._refusal(refused, item_id))])
        except Exception:
            self._drop(edit_id)
            raise
        problems = self.desk.assistant.knowledge.reload()
        if problems:  # cannot happen after check_folder passed; never leave the file half-applied
            editing.write_text(edit.path, edit.before)
            self._drop(edit_id)
            return StaffResult([Reply(self._refusal(editing.EditRefused("base_invalide", problems), item_id))])
        self.opened.append(edit_id)
        text = self.desk.text("staff.apprendre_ajoute", question=clean(question, 200),
                              titre=clean(self.title(item_id), 60), fichier=self._relative(edit.path), n=edit_id)
        return StaffResult([Reply(text, [[Button(self.desk.text("staff.apprendre_bouton_annuler"),
                                                 f"{self.PREFIX}u:{edit_id}")]])],
                           notice=self.desk.text("staff.apprendre_ajoute_court"))

    def ignore(self, inp: StaffInput, question: str) -> StaffResult:
        """Take the question out of ``/sans_reponse`` without teaching anything."""
        self._record(inp, IGNORE, "", question, None)
        return StaffResult(notice=self.desk.text("staff.apprendre_ignore"))

    def undo(self, inp: StaffInput, edit_id: str) -> StaffResult:
        """"Annuler": the file's text from before the edit, checked, then the base reloaded."""
        row = self.db.execute("SELECT file, before, after, undone_at, item, question FROM knowledge_edits "
                              "WHERE id = ? AND action = ?", [int(edit_id) if edit_id.isdigit() else -1, ADD]
                              ).fetchone()
        if row is None:
            return StaffResult(notice=self.desk.text("staff.bouton_indisponible"))
        file, before, after, undone_at, item_id, question = row
        if undone_at:
            return StaffResult(notice=self.desk.text("staff.apprendre_deja_annule"))
        path = self.directory / file
        undo_id = self._record(inp, UNDO, item_id, question, editing.Edit(path, after, before), undo_of=int(edit_id),
                               pending=True)  # in the file before the YAML, like an addition
        try:
            editing.undo(self.directory, path, before, after)
        except editing.EditRefused as refused:
            self._drop(undo_id)
            return StaffResult([Reply(self._refusal(refused, item_id))])
        except Exception:
            self._drop(undo_id)
            raise
        self.desk.assistant.knowledge.reload()
        self.db.execute("UPDATE knowledge_edits SET undone_at = ? WHERE id = ?", [stamp(self.desk.now()), int(edit_id)])
        self.opened.append(undo_id)
        return StaffResult([Reply(self.desk.text("staff.apprendre_annule", question=clean(question, 200),
                                                 fichier=file))])

    def _refusal(self, refused: editing.EditRefused, item_id: str) -> str:
        lines = [self.desk.text(REFUSALS.get(refused.reason, "staff.apprendre_refuse"), id=item_id)]
        lines += [clean(str(p), 300) for p in refused.problems[:MAX_PROBLEMS]]
        return "\n".join(lines)

    def _relative(self, path: Path) -> str:
        return str(path.relative_to(self.directory))

    def _record(self, inp: StaffInput, action: str, item_id: str, question: str, edit: editing.Edit | None,
                undo_of: int | None = None, pending: bool = False) -> int:
        row: dict[str, Any] = {"at": stamp(self.desk.now()), "staff_id": inp.user_id,
                               "staff_name": clean(inp.first_name, 40), "action": action, "item": item_id,
                               "question": question[:300], "undo_of": undo_of, "pending": int(pending)}
        if edit is not None:
            row.update(file=self._relative(edit.path), before=edit.before, after=edit.after)
        return self.db["knowledge_edits"].insert(row).last_pk

    def _drop(self, edit_id: int) -> None:
        """Forget a pending edit whose file was left (or put back) as it was."""
        self.db.execute("DELETE FROM knowledge_edits WHERE id = ?", [edit_id])

    # --- commands ---------------------------------------------------------------------------

    def pick_command(self, inp: StaffInput) -> StaffResult:
        """``/ajouter CODE mots du titre``: the entries whose title is closest, as buttons."""
        if len(inp.args) < 2:
            return StaffResult([Reply(self.desk.text("staff.apprendre_ajouter_usage"))])
        code, words = inp.args[0].lower(), " ".join(inp.args[1:])
        pending = self.db.execute("SELECT question, count FROM teach_pending WHERE code = ?", [code]).fetchone()
        if pending is None:
            return StaffResult([Reply(self.desk.text("staff.apprendre_code_inconnu", code=clean(code, 20)))])
        kb = self.desk.assistant.knowledge.current.kb
        titles = {entry_id: entry.title for entry_id, entry in kb.entries.items()}
        found = process.extract(words, titles, scorer=fuzz.WRatio, limit=TITLE_MATCHES)
        candidates = [entry_id for _title, _score, entry_id in found]
        # A code of its own: the first message's buttons keep pointing to their own entries.
        choice = self._pending(pending[0], pending[1], candidates)
        return StaffResult([Reply(self.desk.text("staff.apprendre_choisir", question=clean(pending[0], 200)),
                                  self._buttons(choice, candidates, extra=False))])

    def changes_command(self, inp: StaffInput) -> StaffResult:
        """``/modifs``: the latest changes made from the group (who, when, what)."""
        rows = self.db.execute("SELECT id, at, staff_id, staff_name, action, item, file, question, undone_at "
                               "FROM knowledge_edits WHERE pending = 0 ORDER BY id DESC LIMIT ?",
                               [MAX_LISTED]).fetchall()
        if not rows:
            return StaffResult([Reply(self.desk.text("staff.modifs_aucune"))])
        render = self.desk.render()
        lines = [render.text("staff.modifs_titre", n=len(rows))]
        for edit_id, at, staff_id, name, action, item, file, question, undone_at in rows:
            qui = render.text("staff.qui", prenom=clean(name, 40) or "?", id=staff_id)
            what = {ADD: "staff.modifs_ajout", UNDO: "staff.modifs_annulation", IGNORE: "staff.modifs_ignore"}
            lines.append(render.text(what.get(action, "staff.modifs_ignore"), n=edit_id, date=self.desk.moment(at),
                                     qui=qui, question=clean(question, 80), id=item or "—", fichier=file or "—"))
            if undone_at:
                lines.append(render.text("staff.modifs_annulee", date=self.desk.moment(undone_at)))
        return StaffResult([Reply("\n".join(lines))])
