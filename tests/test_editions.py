"""The Chinese edition's catalogs: complete, current with the English sources, markup intact,
terms and typography consistent. (The built editions are checked in test_book_build.py.)"""

import re
from collections import Counter

import pytest
from babel.messages.pofile import read_po

from grubook.presentation import editions
from grubook.sphinxext.editions import other_edition

FOLDER = editions.LOCALE_DIR / editions.LANGUAGE / "LC_MESSAGES"
CJK = "\u4e00-\u9fff"
ROLE = re.compile(r"\{[a-zA-Z0-9_+:-]+\}`[^`]*`")
CODE_OR_MATH = re.compile(r"`[^`]*`|\$[^$]*\$|\]\([^)]*\)")


def messages():
    for po in sorted(FOLDER.rglob("*.po")):
        with po.open("rb") as f:
            for m in read_po(f):
                if m.id:
                    yield str(po.relative_to(FOLDER).with_suffix("")), m


def test_every_page_has_a_complete_catalog_with_no_fuzzy_entry():
    """Sphinx leaves an untranslated message in English and silently drops a fuzzy one, so
    both are counted here, per page."""
    counts = editions.catalog_counts()
    assert len(counts) >= 24 and "computed" in counts, sorted(counts)
    incomplete = {page: c for page, c in counts.items() if c["untranslated"] or c["fuzzy"] or not c["messages"]}
    assert not incomplete, f"{incomplete}: translate them (book/locale/zh_CN), then `make book`"


def test_catalogs_are_current_with_the_english_sources(built_book):
    """Each page's catalog against its page's prose, and computed.po against the templates the
    Chinese edition's build looked up (hence the built book)."""
    stale = editions.stale_catalogs()
    assert not stale, ("catalogs older than their pages; run `make catalogs`, translate what is new or fuzzy:\n"
                       + "\n".join(f"{page}: {lines[:3]}" for page, lines in stale.items()))


def test_formulas_are_not_in_the_catalogs():
    ids = {m.id for _, m in messages()}
    assert not any(i.startswith(("z_t = ", "h_t = (1 - z_t)")) for i in ids)


def test_every_translation_keeps_the_roles_of_its_source():
    """A glued number, an equation reference or a citation dropped or mistyped by a translation
    would vanish from the Chinese page: every role of the English message is in its translation."""
    broken = [(page, m.id[:60]) for page, m in messages()
              if Counter(ROLE.findall(m.id)) != Counter(ROLE.findall(m.string or ""))]
    assert not broken, broken


def test_translations_use_the_glossary_terms():
    avoided = {word: preferred for _, preferred, words in editions.TERMS for word in words}
    found = []
    for page, m in messages():
        text = m.string or ""
        found += [(page, word, avoided[word]) for word in avoided if word in text]
        unquoted = re.sub(r"“[^”]*”", "", text)
        found += [(page, word, standard) for word, standard in editions.ARTICLE_WORDING.items() if word in unquoted]
    assert not found, f"(page, avoided term, the glossary's term): {found}"


def test_chinese_typography():
    """Full-width punctuation next to Chinese text, and no space between Chinese and Latin text,
    numbers, inline code, math or roles (code, math and link targets are left out of the check)."""
    bad = []
    for page, m in messages():
        text = CODE_OR_MATH.sub("X", ROLE.sub("X", m.string or ""))
        if not re.search(f"[{CJK}]", text):
            continue
        for pattern, what in ((f"[{CJK}][,;:?!]|[,;:?!(][{CJK}]|[{CJK}]\\((?![−\\d-])", "half-width punctuation"),
                              (f"[{CJK}]\\.(?!\\d)", "half-width full stop"),
                              (f"[{CJK}] +[A-Za-z0-9X]|[A-Za-z0-9X] +[{CJK}]", "space between Chinese and Latin")):
            hit = re.search(pattern, text)
            if hit:
                bad.append((page, what, text[max(0, hit.start() - 12):hit.end() + 12]))
    assert not bad, bad


@pytest.mark.parametrize("page, language, expected", [
    ("book/math", "en", ("../zh_CN/book/math.html", "简体中文")),
    ("intro", "en", ("zh_CN/intro.html", "简体中文")),
    ("book/math", "zh_CN", ("../../book/math.html", "English")),
    ("experiments/long_range", "zh_CN", ("../../experiments/long_range.html", "English")),
])
def test_each_page_links_to_itself_in_the_other_edition(page, language, expected):
    assert other_edition(page, language) == expected


def test_the_chinese_configuration_is_the_english_one_with_its_language():
    en, zh = editions.edition_config("en"), editions.edition_config("zh_CN")
    assert zh["sphinx"]["config"]["language"] == "zh_CN" and en["sphinx"]["config"]["language"] == "en"
    assert zh["title"] != en["title"]
    for key in ("title", "author", "latex", "sphinx"):
        en.pop(key), zh.pop(key)
    assert zh == en


@pytest.mark.parametrize("english, chinese", [
    ("supported", "支持"), ("partly supported", "部分支持"), ("indistinguishable from", "无异于"),
    ("below (−0.048 [−0.058, −0.038])", "低于（−0.048 [−0.058, −0.038]）"), ("in chrono’s favour", "有利于chrono"),
    ("2.59 (perplexity 6.02)", "2.59 (perplexity 6.02)"), ("below the threshold", "below the threshold"),
])
def test_the_chinese_edition_shows_grubooks_fixed_words_in_chinese(english, chinese):
    assert editions.localised(english) == chinese


def test_every_word_the_decision_rule_and_the_verdicts_can_glue_has_a_translation():
    from grubook.verdicts import claims

    words = set(claims.VERDICTS) | {"above", "below", "not above", "not below", "on par with", "clearly above",
                                    "clearly below", "indistinguishable from", "undecided against"}
    assert words <= set(editions.VOCABULARY["zh_CN"]), words - set(editions.VOCABULARY["zh_CN"])


def test_every_translation_keeps_its_emphasis():
    """CommonMark does not close ``**`` after a full-width stop and before a character, so
    "**参数更少。**由结构" would show its asterisks; the stop goes after the marker."""
    from test_computed_prose import emphasis

    lost = [(page, m.string[:50]) for page, m in messages() if m.string and emphasis(m.id) != emphasis(m.string)]
    assert not lost, lost
