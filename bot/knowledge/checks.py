"""Checks that need the matcher: does each example question still find its entry?

An example that the matcher would send to another entry is a sign of two entries
overlapping, or of an example that does not say what its entry is about. Each
example is matched *as if it were not in the base* (leave-one-out): matching it
with itself present would always succeed and prove nothing.
"""
from __future__ import annotations

from bot.knowledge.model import Problem
from bot.knowledge.store import Loaded


def check_examples(loaded: Loaded) -> list[Problem]:
    """One problem per example question confidently matched to a different entry."""
    problems = []
    for entry in loaded.kb.entries.values():
        for question, line in zip(entry.questions, entry.question_lines):
            match = loaded.faq.match(question, leave_out=(entry.id, question))
            if match.entry_id is not None and match.entry_id != entry.id:
                problems.append(Problem(
                    entry.path, line,
                    f"l'exemple « {question} » mène à l'entrée « {match.entry_id} » et non à "
                    f"« {entry.id} » : reformulez-le ou ajoutez des mots-clés",
                ))
    return problems
