"""YAML loading that remembers line numbers.

The FAQ is kept by a staff member, not a developer: every problem the checker finds
must name the file and the line to open. PyYAML knows the line of every node while
parsing but forgets it once it builds plain dicts and lists, so this loader builds
dict and list subclasses that keep, for each key or item, the line it stood on.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LineDict(dict):
    """A dict that knows the line of each of its keys (``key_lines``) and its own (``line``)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        """The 1-based line of ``key``, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A list that knows the line of each item (``item_lines``) and its own (``line``)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        """The 1-based line of item ``index``."""
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) that builds :class:`LineDict` and :class:`LineList`."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    duplicates: list[tuple[Any, int]] = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "une clé doit être un simple mot", key_node.start_mark
            )
        if key in result:
            duplicates.append((key, key_node.start_mark.line + 1))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    result.duplicate_keys = duplicates  # type: ignore[attr-defined]
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


class BadDate(str):
    """A date-looking value that is no real date (2026-02-30): kept so the checker can report it."""


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> object:
    """A date like 2026-02-30 is one mistake to report, not a reason to drop the whole file."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return BadDate(node.value)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


#: PyYAML's wording, and what a maintainer should look for instead.
_HINTS = (
    ("mapping values are not allowed", "un « : » en trop ; si le texte contient « : », mettez-le entre guillemets"),
    ("expected <block end>", "indentation incohérente, ou guillemet ouvert et jamais fermé au-dessus"),
    ("found unexpected end of stream", "guillemet ou crochet ouvert et jamais fermé"),
    ("could not find expected ':'", "il manque « : » après un nom de champ, ou un guillemet n'est pas fermé"),
    ("found character '\\t'", "tabulation interdite : indentez avec des espaces"),
    ("expected ',' or ']'", "liste entre crochets mal fermée"),
    ("did not find expected '-' indicator", "élément de liste mal aligné : les « - » doivent être alignés"),
    ("did not find expected key", "champ mal aligné, ou guillemet non fermé"),
)


def _explain(problem: str) -> str:
    for needle, hint in _HINTS:
        if needle in problem:
            return f"{hint} [{problem}]"
    return problem or "syntaxe invalide"


class YamlError(Exception):
    """A file that is not valid YAML; ``line`` is 1-based, ``message`` in French."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_yaml(path: Path) -> Any:
    """Parse ``path`` into LineDict/LineList/scalars, or raise :class:`YamlError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(1, f"le fichier n'est pas en UTF-8 ({exc.reason})") from exc
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        raise YamlError(line, "tabulation interdite en YAML : indenter avec des espaces")
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = f"YAML invalide : {_explain(exc.problem or exc.context or '')}"
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            message += f" (le bloc concerné commence ligne {exc.context_mark.line + 1})"
        raise YamlError(line, message) from exc
    except yaml.YAMLError as exc:
        raise YamlError(1, f"YAML invalide : {exc}") from exc
