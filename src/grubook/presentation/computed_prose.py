"""Computed prose in the Chinese edition: the sentences grubook writes from results.

Findings paragraphs, the claims audit, and the clauses the chapters glue are written in English by
grubook from the results, at build time; they are not in the pages' sources, so Sphinx's catalogs
cannot hold them. They are translated here, sentence by sentence, through one catalog,
``book/locale/zh_CN/computed.po``, whose entries are *templates*: every number and every code span
of the English sentence is a numbered placeholder.

    English   The LSTM's reach is above the GRU's (7.1 [0.8, 13.4], paired 95 % interval over seeds).
    template  The LSTM's reach is above the GRU's ({0} [{1}, {2}], paired {3} % interval over seeds).
    Chinese   LSTM的可达长度高于GRU（{0} [{1}, {2}]，按种子配对的{3}%区间）。

So new numbers never need a new translation, and the Chinese sentence shows the English
sentence's own numbers, by construction. A sentence whose words change (a comparison that flips
from "above" to "indistinguishable from", a list that grows, another machine's CPU name) is a new
template; until it is translated the Chinese edition shows it in English and
``python -m grubook.presentation.editions check`` lists it. grubook's fixed words (verdicts and
relations, :data:`grubook.presentation.editions.VOCABULARY`) need no template.

What is translated is what grubook marks as prose: a value's display metadata carries
``{"grubook": {"prose": true}}`` (:func:`prose_metadata`; :class:`Prose` for a glued string or a Markdown paragraph;
``grubook.presentation.tables.TwoFormats`` for a table). Code and the outputs it prints stay one
source, in English.
"""

from __future__ import annotations

import ast
import html as html_lib
import json
import re
from pathlib import Path

__all__ = ["prose_metadata", "Prose", "is_prose", "Translator", "template", "fill", "sentences", "load_catalog",
           "translate_notebook", "harvest", "update_catalog", "templates_path", "CATALOG_NAME"]

CATALOG_NAME = "computed.po"


def prose_metadata() -> dict:
    """The display metadata that marks an output as prose (a new dict each time: glue adds its own
    keys to the metadata it is given)."""
    return {"grubook": {"prose": True}}


class Prose:
    """A glued string or Markdown paragraph marked as prose for the Chinese edition."""

    def __init__(self, text: str, markdown: bool = False):
        self.text, self.markdown = str(text), markdown

    def _repr_mimebundle_(self, include=None, exclude=None):
        if self.markdown:
            return {"text/markdown": self.text, "text/plain": self.text}, prose_metadata()
        return {"text/plain": repr(self.text)}, prose_metadata()     # what glue:text reads for a str value


def is_prose(output: dict) -> bool:
    return bool(output.get("metadata", {}).get("grubook", {}).get("prose"))


# --------------------------------------------------------------------------- templates

# A number: digits with thousands commas, a decimal part and an exponent, signed (the book writes
# minus as U+2212); not the digits inside a word such as float32 (Latin letters only: in Chinese
# text a number stands next to a character, 5个种子). And a Markdown code span.
NUMBER = r"(?<![A-Za-z0-9_.])[−+±-]?\d+(?:,\d{3})*(?:\.\d+)?(?:e[−+-]?\d+)?(?![A-Za-z0-9_])"
CODE = r"`[^`]+`"
PLACEHOLDER_SOURCE = re.compile(f"{CODE}|{NUMBER}")
PLACEHOLDER = re.compile(r"\{(\d+)\}")
WORD = re.compile(r"[a-z]{2,}")          # a template without an English word has nothing to translate


def template(sentence: str) -> tuple[str, list[str]]:
    """``sentence`` with each number and code span replaced by ``{0}``, ``{1}``, ..., and those
    values in order."""
    values = []

    def hold(m):
        values.append(m.group(0))
        return "{%d}" % (len(values) - 1)

    text = sentence.replace("\u00a0", " ")            # no-break spaces are a LaTeX matter, not a word
    return PLACEHOLDER_SOURCE.sub(hold, text), values


def fill(translated: str, values: list[str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[int(m.group(1))], translated)


# A sentence ends at . ! or ? (and any closing bracket, quote or emphasis), before a space and a
# capital, a digit, an opening bracket or emphasis; not after an abbreviation.
SENTENCE_END = re.compile(r"[.!?][)\"”*_]*\s+(?=[A-Z*(\"“`\d\[_])")
ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "cf.", "al.", "approx.", "Fig.", "Eq.", "No.", "p.", "pp.", "Sec.", "Ch.")
ABBREVIATION_END = re.compile(r"(?<![A-Za-z])(?:" + "|".join(map(re.escape, ABBREVIATIONS)) + r")$")


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences (each with its end punctuation, without the space after)."""
    parts, start = [], 0
    for m in SENTENCE_END.finditer(text):
        if ABBREVIATION_END.search(text, start, m.start() + 1):
            continue
        parts.append(text[start:m.start() + len(m.group(0).rstrip())])
        start = m.end()
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


class Translator:
    """Translates computed prose through a template catalog ``{English template: translation}``;
    records every template it looked up (``seen``: what the catalog must hold)."""

    def __init__(self, catalog: dict[str, str], language: str):
        self.catalog, self.language = catalog, language
        self.seen: set[str] = set()

    @property
    def missing(self) -> set[str]:
        return self.seen - set(self.catalog)

    def sentence(self, sentence: str) -> str:
        lead = sentence[:len(sentence) - len(sentence.lstrip())]
        tail = sentence[len(sentence.rstrip()):]
        core = sentence.strip()
        key, values = template(core)
        if not WORD.search(PLACEHOLDER.sub("", key)):
            return sentence
        shown = self.fixed_word(core)
        if shown is not None:
            return lead + shown + tail
        self.seen.add(key)
        return lead + fill(self.catalog[key], values) + tail if key in self.catalog else sentence

    def fixed_word(self, core: str) -> str | None:
        """A verdict or relation word of ``editions.VOCABULARY``, alone or before its interval,
        also inside emphasis or brackets ("**inconclusive**", "(supported)**"), in the edition's
        language; None for anything else. Every word the decision rule can produce is translated
        this way, so a comparison or verdict that flips never lacks its word."""
        from .editions import localised

        shown = localised(core, self.language)
        if shown != core:
            return shown
        opening, inner, closing = re.fullmatch(r"([*_(]*)(.*?)([*_).]*)", core).groups()
        shown = localised(inner, self.language)
        if not inner or shown == inner:
            return None
        full_width = str.maketrans("().", "（）。")
        return opening.translate(full_width) + shown + closing.translate(full_width)

    def text(self, text: str) -> str:
        """One paragraph of plain text (or of Markdown inline markup)."""
        out = ""
        for part in sentences(text):
            translated = self.sentence(part)
            if out and not CJK.match(out[-1]):
                out += " "          # after an English sentence; none after a Chinese one
            out += translated
        return out

    def markdown(self, text: str) -> str:
        """Markdown line by line: a table row cell by cell, a list item or heading after its
        marker, anything else as a paragraph."""
        lines = []
        for line in text.split("\n"):
            if re.fullmatch(r"\s*\|?\s*:?-{3,}.*", line) or not line.strip():
                lines.append(line)
            elif line.lstrip().startswith("|"):
                cells = re.split(r"(?<!\\)\|", line)
                lines.append("|".join(c if not c.strip() else f" {self.text(c.strip())} " for c in cells))
            else:
                marker = re.match(r"\s*(?:#+\s+|\d+\.\s+|[-*+]\s+)?", line).group(0)
                lines.append(marker + self.text(line[len(marker):]))
        return "\n".join(lines)

    def html(self, text: str) -> str:
        """HTML text between tags, and the aria-label and title attributes a screen reader reads."""
        def attribute(m):
            name, quote, value = m.group(1), m.group(2), m.group(3)
            return f"{name}={quote}{html_lib.escape(self.text(html_lib.unescape(value)))}{quote}"

        parts = re.split(r"(<[^>]*>)", text)
        for i, part in enumerate(parts):
            if i % 2:
                parts[i] = re.sub(r"(?<![\w-])(aria-label|title)=(['\"])(.*?)\2", attribute, part)
            elif part.strip():
                stripped = part.strip()
                translated = self.text(html_lib.unescape(stripped))
                if translated != html_lib.unescape(stripped):
                    parts[i] = part.replace(stripped, html_lib.escape(translated, quote=False))
        return "".join(parts)

    def plain(self, text_plain: str) -> str:
        """A glued value's text/plain: a Python string's repr is translated, anything else kept."""
        try:
            value = ast.literal_eval(text_plain)
        except (ValueError, SyntaxError):
            return text_plain
        return repr(self.text(value)) if isinstance(value, str) else text_plain

    def mime(self, mime: str, data):
        text = "".join(data) if isinstance(data, list) else data
        if mime == "text/markdown":
            return self.markdown(text)
        if mime == "text/html":
            return self.html(text)
        if mime == "text/plain":
            return self.plain(text)
        return data


def translate_output(output: dict, translator: Translator) -> None:
    """Translate one notebook output in place, if grubook marked it as prose (its mime keys may
    carry glue's prefix)."""
    if not is_prose(output):
        return
    prefix = output.get("metadata", {}).get("scrapbook", {}).get("mime_prefix", "")
    data = output.get("data", {})
    for key in list(data):
        if key.startswith(prefix):
            data[key] = translator.mime(key[len(prefix):], data[key])


def translate_notebook(notebook, translator: Translator) -> None:
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            translate_output(output, translator)


# --------------------------------------------------------------------------- the catalog


def catalog_path(language: str) -> Path:
    from .editions import LOCALE_DIR

    return LOCALE_DIR / language / CATALOG_NAME


def load_catalog(language: str) -> dict[str, str]:
    """``{template: translation}`` of the translated, not fuzzy, entries."""
    from babel.messages.pofile import read_po

    path = catalog_path(language)
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}


def templates_path(language: str) -> Path:
    """Where the edition's build lists every template its pages looked up, with their pages
    (written by ``grubook.sphinxext.editions`` at the end of each build, complete also after an
    incremental one)."""
    from .editions import EDITIONS_DIR

    return EDITIONS_DIR / f"{language}-computed-templates.json"


def harvest(language: str) -> dict[str, list[str]]:
    """Every template of the computed prose on the edition's pages, with the pages it is on (from
    its last build; grubook's fixed words, which ``editions.VOCABULARY`` translates, are not
    templates)."""
    from .editions import REPO_ROOT

    path = templates_path(language)
    if not path.exists():
        raise FileNotFoundError(f"{path.relative_to(REPO_ROOT)} is missing: the Chinese edition's build lists the "
                                "computed prose, so run `make book` first")
    return json.loads(path.read_text(encoding="utf-8"))


def update_catalog(language: str) -> dict[str, int]:
    """Bring ``computed.po`` up to date with the templates of the edition's pages (its last build):
    new ones come in untranslated, gone ones go, translations are kept. Returns counts."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    path = catalog_path(language)
    old, header = {}, None
    if path.exists():
        with path.open("rb") as f:
            previous = read_po(f)
        old, header = {m.id: m for m in previous if m.id}, previous
    found = harvest(language)
    counts = {"templates": len(found), "new": sum(k not in old for k in found), "gone": sum(k not in found for k in old)}
    pages = lambda key: [", ".join(found[key])]
    if header is not None and not counts["new"] and not counts["gone"] and all(
            old[k].auto_comments == pages(k) for k in found):
        return counts                          # unchanged: the file (and its date) stays as it is
    catalog = Catalog(locale=language, project="GRU Book (computed prose)", fuzzy=False,
                      creation_date=header.creation_date if header is not None else None)
    for key in sorted(found, key=lambda k: (found[k][0], k)):
        before = old.get(key)
        # Flags are dropped: babel reads "95 % interval" as a printf directive (python-format).
        catalog.add(key, before.string if before else "", auto_comments=pages(key),
                    user_comments=before.user_comments if before else (),
                    flags=("fuzzy",) if before is not None and before.fuzzy else ())
    with path.open("wb") as f:
        write_po(f, catalog, width=0, omit_header=False)
    return counts
