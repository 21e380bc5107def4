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
"""
from __future__ import annotations

import json
import secrets
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
    rows = db.execute("SELECT question FROM knowledge_edits WHERE action IN (?, ?) AND undone_at IS NULL",
                      [ADD, IGNORE]).fetchall()
    return {normal(row[0]) for row in rows if row[0]}


class TeachDesk:
    """The buttons under ``/sans_reponse``, ``/ajouter``, ``/modifs`` and "Annuler"."""

    PREFIX = PREFIX + "t:"  # + action letter + ":" + code [+ ":" + index]

    def __init__(self, desk: StaffDesk) -> None:
        self.desk = desk

    @property
    def db(self) -> sqlite_utils.Database:
        return self.desk.assistant.db

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
        question, count, candidates = pending[0], pending[1], json.loads(pending[2])
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
            edit = editing.add_example(self.directory, item_id, question)
        except editing.EditRefused as refused:
            return StaffResult([Reply(self._refusal(refused, item_id))])
        problems = self.desk.assistant.knowledge.reload()
        if problems:  # cannot happen after check_folder passed; never leave the file half-applied
            editing.write_text(edit.path, edit.before)
            return StaffResult([Reply(self._refusal(editing.EditRefused("base_invalide", problems), item_id))])
        edit_id = self._record(inp, ADD, item_id, question, edit)
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
        try:
            editing.undo(self.directory, path, before, after)
        except editing.EditRefused as refused:
            return StaffResult([Reply(self._refusal(refused, item_id))])
        self.desk.assistant.knowledge.reload()
        self.db.execute("UPDATE knowledge_edits SET undone_at = ? WHERE id = ?", [stamp(self.desk.now()), int(edit_id)])
        self._record(inp, UNDO, item_id, question, editing.Edit(path, after, before), undo_of=int(edit_id))
        return StaffResult([Reply(self.desk.text("staff.apprendre_annule", question=clean(question, 200),
                                                 fichier=file))])

    def _refusal(self, refused: editing.EditRefused, item_id: str) -> str:
        lines = [self.desk.text(REFUSALS.get(refused.reason, "staff.apprendre_refuse"), id=item_id)]
        lines += [clean(str(p), 300) for p in refused.problems[:MAX_PROBLEMS]]
        return "\n".join(lines)

    def _relative(self, path: Path) -> str:
        return str(path.relative_to(self.directory))

    def _record(self, inp: StaffInput, action: str, item_id: str, question: str, edit: editing.Edit | None,
                undo_of: int | None = None) -> int:
        row: dict[str, Any] = {"at": stamp(self.desk.now()), "staff_id": inp.user_id,
                               "staff_name": clean(inp.first_name, 40), "action": action, "item": item_id,
                               "question": question[:300], "undo_of": undo_of}
        if edit is not None:
            row.update(file=self._relative(edit.path), before=edit.before, after=edit.after)
        return self.db["knowledge_edits"].insert(row).last_pk

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
                               "FROM knowledge_edits ORDER BY id DESC LIMIT ?", [MAX_LISTED]).fetchall()
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
