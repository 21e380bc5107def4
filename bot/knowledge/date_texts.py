"""The date texts of the computed placeholders, and their English versions.

``{rentree}``, ``{statut_candidature}``... are sentences of ``texts/dates.yaml`` filled
with today's countdown (see :mod:`bot.knowledge.render`). An English answer that uses
them reads each from ``texts/english.yaml`` under ``dates_<key>``; ``check`` requires
them all there before an English answer may use a computed placeholder, so an English
reader never gets a French sentence (or a raw key) in the middle of their answer.
"""
from __future__ import annotations

#: The texts of ``texts/dates.yaml`` the computed placeholders use.
DATE_TEXTS = ("quand_aujourdhui", "quand_dernier_jour", "quand_demain", "quand_dans", "quand_dans_mois",
              "jpo_intro", "jpo_ligne", "jpo_aujourdhui", "jpo_demain", "aucune_jpo",
              "rentree_a_venir", "rentree_aujourdhui", "rentree_passee", "rentree_suivante",
              "rentree_suivante_passee", "entree_avant_rentree", "entree_en_cours", "entree_close",
              "candidature_pas_ouverte", "candidature_ouverte", "candidature_fin_proche", "candidature_close")


def english_texts_missing(texts: dict[str, str]) -> list[str]:
    """The English date texts (``english.dates_…``) an English dated answer needs and the base lacks."""
    return [f"english.dates_{key}" for key in DATE_TEXTS if f"english.dates_{key}" not in texts]
