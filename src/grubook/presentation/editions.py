"""The Chinese edition (简体中文): its configuration, its catalogs and its build.

One source tree, two editions. The English book is ``_config.yml`` as it stands; the Chinese one is
the same file with ``language: zh_CN`` and its title, written to ``_build/editions/zh_CN.yml`` by
:func:`write_config` (Jupyter Book 1 replaces ``_config.yml`` with ``--config`` instead of merging,
so the second configuration is generated, never kept by hand). Sphinx translates each page's prose
through the catalogs in ``book/locale/zh_CN/LC_MESSAGES``; code, outputs and numbers are the English
build's own (the pages run once: :mod:`grubook.sphinxext.page_inputs`).

Commands (``python -m grubook.presentation.editions``):

- ``build``: the Chinese HTML edition into ``_build/html/zh_CN`` (after the English one; ``make book``).
- ``catalogs``: extract the English prose and bring every catalog up to date (``make catalogs``);
  new or changed paragraphs then need their translation, and fuzzy entries a check. The computed
  prose's catalog (``computed.po``: the sentences grubook writes from results, as templates; see
  :mod:`grubook.presentation.computed_prose`) is brought up to date from the list of templates the
  Chinese edition's last build looked up, so the book is built first (``make book``).
- ``check``: say, per catalog, how many messages are translated, untranslated or fuzzy, and
  whether the catalogs are current with the sources; exit 1 if any is not.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ..results.files import REPO_ROOT
from . import computed_prose

LANGUAGE = "zh_CN"
LOCALE_DIR = REPO_ROOT / "book" / "locale"
EDITIONS_DIR = REPO_ROOT / "_build" / "editions"
HTML_DIR = REPO_ROOT / "_build" / "html"
TITLES = {LANGUAGE: "GRU之书"}
AUTHORS = {LANGUAGE: "GRU之书作者"}


# The Chinese edition's terms: the English term, the Chinese one (as the Chinese machine-learning
# literature, d2l-zh among it, writes it), and renderings the book avoids for it. Every catalog is
# checked against this list (tests/test_editions.py).
TERMS = [
    ("gated recurrent unit (GRU)", "门控循环单元", ["门控循环网络"]),
    ("recurrent neural network (RNN)", "循环神经网络", ["递归神经网络"]),
    ("long short-term memory (LSTM)", "长短期记忆网络", ["长短时记忆网络"]),
    ("hidden state", "隐状态", ["隐藏状态"]),
    ("candidate hidden state", "候选隐状态", ["候选隐藏状态", "候选状态"]),
    ("reset gate", "重置门", ["复位门"]),
    ("update gate", "更新门", []),
    ("forget gate", "遗忘门", []),
    ("memory cell", "记忆元", ["记忆单元", "记忆细胞", "细胞状态"]),
    ("vanishing gradients", "梯度消失", []),
    ("exploding gradients", "梯度爆炸", []),
    ("gradient clipping", "梯度裁剪", ["梯度截断"]),
    ("backpropagation through time (BPTT)", "通过时间反向传播", ["随时间反向传播", "沿时间反向传播"]),
    ("time step", "时间步", ["时间步长"]),
    ("hidden unit", "隐藏单元", ["隐单元"]),
    ("weight, bias", "权重、偏置", ["偏差项"]),
    ("elementwise (Hadamard) product", "按元素乘积", ["逐元素乘积", "哈达玛积"]),
    ("convex combination", "凸组合", []),
    ("perplexity", "困惑度", []),
    ("encoder–decoder", "编码器-解码器", []),
    ("teacher forcing", "强制教学", ["教师强制"]),
    ("dropout", "暂退法", ["丢弃法", "随机失活"]),
    ("weight decay", "权重衰减", []),
    ("overfitting", "过拟合", []),
    ("early stopping", "早停", ["提前停止", "早期停止"]),
]
# The words grubook computes and glues into sentences (verdicts, the decision rule's relations,
# the budget's), in Chinese: the Chinese edition shows a glued value that is one of these words,
# or one of them followed by a parenthesis, in Chinese. Whole computed sentences (findings, the
# claims audit) are translated through the template catalog computed.po (computed_prose).
VOCABULARY = {LANGUAGE: {
    "supported": "支持", "partly supported": "部分支持", "not supported": "不支持", "inconclusive": "无定论",
    "holds": "成立", "fails": "不成立", "undecided": "未定", "borderline": "临界",
    "above": "高于", "below": "低于", "not above": "不高于", "not below": "不低于",
    "clearly above": "明显高于", "clearly below": "明显低于", "on par with": "相当于",
    "indistinguishable from": "无异于", "undecided against": "未定于",
    "within": "未超出", "over": "超出", "in chrono's favour": "有利于chrono",
}}


def localised(text: str, language: str = LANGUAGE) -> str:
    """``text`` as the ``language`` edition shows a glued value: a vocabulary word, alone or
    before a parenthesis ("below (−0.048 [−0.058, −0.038])"), in that language; anything else as it is."""
    words = VOCABULARY.get(language, {})
    plain = text.replace("’", "'")
    if plain in words:
        return words[plain]
    head, sep, rest = plain.partition(" (")
    if sep and head in words and rest.endswith(")"):
        return f"{words[head]}（{rest[:-1]}）"
    return text


# The article's own wording, which the book reads as a standard term: allowed in the Chinese
# edition only inside quotation marks, where the book quotes the article.
ARTICLE_WORDING = {"梯状误差": "梯度消失和梯度爆炸"}


def glossary_table():
    """The glossary page's table: each term in English and Chinese, with the renderings avoided."""
    import pandas as pd

    rows = [(english, chinese, "、".join(avoided) or "–") for english, chinese, avoided in TERMS]
    return pd.DataFrame(rows, columns=["English", "中文", "avoided / 不用"]).set_index("English")


def edition_config(language: str = LANGUAGE, *, execute: bool = True) -> dict:
    """``_config.yml`` for ``language``: the same book, its language and title. ``execute=False``
    for extracting catalogs, which need no outputs."""
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    if language != "en":
        config["title"], config["author"] = TITLES[language], AUTHORS[language]
        config["sphinx"]["config"]["language"] = language
        config["sphinx"]["config"]["html_search_options"] = {"dict": str(search_dictionary())}
        config["latex"]["latex_documents"]["targetname"] = f"grubook-{language}.tex"
        latex = config["sphinx"]["config"]["latex_elements"]
        latex["fontpkg"] += CJK_FONTS
        # Sphinx's zh default, babel's chinese, needs ctex (texlive-lang-chinese); xeCJK alone sets
        # Chinese text, and Jupyter Book's LaTeX preamble needs babel's English captions.
        latex["babel"] = "\\usepackage[english]{babel}"
        # Jupyter Book's LaTeX extension names the table of contents "Contents" in English.
        latex["preamble"] += "\\AtBeginDocument{\\renewcommand{\\contentsname}{目录}}\n"
        # Chapters are headed 第 1 章, not fncychap's CHAPTER 1 (titlesec comes with sphinx.sty).
        latex["fncychap"] = ""
        latex["preamble"] += ("\\titleformat{\\chapter}[display]{\\normalfont\\sffamily\\huge\\bfseries}"
                              "{第\\,\\thechapter\\,章}{16pt}{\\Huge}\n")
    if not execute:
        config["execute"]["execute_notebooks"] = "off"
    return config


# The Chinese PDF: Sphinx loads xeCJK for zh_CN under XeLaTeX; the book's fonts have no Chinese
# glyphs, so xeCJK takes them from Debian's fonts-noto-cjk (scripts/system-packages).
CJK_FONTS = ("\\setCJKmainfont{Noto Serif CJK SC}\n\\setCJKsansfont{Noto Sans CJK SC}\n"
             "\\setCJKmonofont{Noto Sans Mono CJK SC}\n")


def search_dictionary() -> Path:
    """jieba's user dictionary for the search index: the glossary's terms as words, so that a
    search for 重置门 finds the pages that use it (jieba alone cuts it into 重置 and 门, and the
    search box looks the whole query word up)."""
    words = [chinese for _, term, _ in TERMS for chinese in term.split("、")]
    words += ["更新门", "输入门", "输出门", "门控", "候选隐状态", "隐状态"]
    path = EDITIONS_DIR / "search-words.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{word} 100000 n\n" for word in dict.fromkeys(words)), encoding="utf-8")
    return path


def write_config(language: str = LANGUAGE, *, execute: bool = True) -> Path:
    path = EDITIONS_DIR / (f"{language}.yml" if execute else f"{language}-catalogs.yml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by grubook.presentation.editions from _config.yml; do not edit.\n"
                    + yaml.safe_dump(edition_config(language, execute=execute), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def write_toc(language: str = LANGUAGE) -> Path:
    """``_toc.yml`` with its part captions translated from the root page's catalog (Jupyter Book
    inserts the table of contents after Sphinx has translated the page, so the captions would
    stay English)."""
    from babel.messages.pofile import read_po

    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{toc['root']}.po").open("rb") as f:
        translated = {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}
    for part in toc.get("parts", []):
        if part.get("caption") not in translated:
            raise ValueError(f"the caption {part.get('caption')!r} of _toc.yml has no translation in "
                             f"book/locale/{language}/LC_MESSAGES/{toc['root']}.po; run `make catalogs`")
        part["caption"] = translated[part["caption"]]
    path = EDITIONS_DIR / f"_toc-{language}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by grubook.presentation.editions from _toc.yml; do not edit.\n"
                    + yaml.safe_dump(toc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _jupyter_book() -> str:
    return str(Path(sys.executable).parent / "jupyter-book")


def build(language: str = LANGUAGE, builder: str = "html") -> Path:
    """Build ``language``'s edition with warnings as errors; the HTML goes to ``_build/html/<language>``
    (inside the English book, so one folder serves both), a PDF to ``_build/latex-<language>``."""
    out = EDITIONS_DIR / language
    command = [_jupyter_book(), "build", str(REPO_ROOT), "--config", str(write_config(language)),
               "--toc", str(write_toc(language)), "--builder", builder, "-W", "-n", "--keep-going", "--path-output", str(out)]
    subprocess.run(command, cwd=REPO_ROOT, check=True)
    if builder != "html":
        pdf = out / "_build" / "latex" / f"grubook-{language}.pdf"
        (HTML_DIR / f"grubook-{language}.pdf").write_bytes(pdf.read_bytes())   # beside the English one
        return pdf
    target = HTML_DIR / language
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(out / "_build" / "html", target)
    return target


def extract() -> Path:
    """The English prose as message templates (.pot), one per page, in ``_build/editions/gettext``."""
    out = EDITIONS_DIR / "gettext"
    command = [_jupyter_book(), "build", str(REPO_ROOT), "--config", str(write_config("en", execute=False)),
               "--builder", "custom", "--custom-builder", "gettext", "--path-output", str(out)]
    # Without outputs every glue role and figure reference warns; the messages do not depend on them.
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out / "_build" / "gettext"


def update_catalogs(language: str = LANGUAGE) -> None:
    """Bring ``book/locale/<language>`` up to date with the sources (sphinx-intl): new messages
    come in untranslated, changed ones fuzzy, removed ones go."""
    templates = extract()
    subprocess.run([str(Path(sys.executable).parent / "sphinx-intl"), "update", "-p", str(templates),
                    "-d", str(LOCALE_DIR), "-l", language, "-w", "0"], cwd=REPO_ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    for po in (LOCALE_DIR / language / "LC_MESSAGES").rglob("*.po"):   # sphinx-intl keeps removed ones as #~
        _drop_obsolete(po)
    try:
        computed_prose.update_catalog(language)
    except FileNotFoundError as missing:
        raise SystemExit(f"error: {missing}") from None


def _drop_obsolete(po: Path) -> None:
    from babel.messages.pofile import read_po, write_po

    with po.open("rb") as f:
        catalog = read_po(f)
    if catalog.obsolete:
        catalog.obsolete.clear()
        with po.open("wb") as f:
            write_po(f, catalog, width=0, omit_header=False)


def catalog_counts(language: str = LANGUAGE) -> dict[str, dict[str, int]]:
    """Per catalog (a page's, and ``computed`` for the computed prose): messages, translated,
    untranslated and fuzzy."""
    from babel.messages.pofile import read_po

    counts = {}
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    computed = computed_prose.catalog_path(language)
    for po in sorted(folder.rglob("*.po")) + ([computed] if computed.exists() else []):
        with po.open("rb") as f:
            catalog = read_po(f)
        messages = [m for m in catalog if m.id]
        name = "computed" if po == computed else str(po.relative_to(folder).with_suffix(""))
        counts[name] = {
            "messages": len(messages),
            "translated": sum(1 for m in messages if m.string and not m.fuzzy),
            "untranslated": sum(1 for m in messages if not m.string),
            "fuzzy": sum(1 for m in messages if m.fuzzy)}
    return counts


def stale_catalogs(language: str = LANGUAGE) -> dict[str, list[str]]:
    """Per page, the English messages its catalog lacks or holds though the page no longer has them
    (extracting the sources afresh): empty when the catalogs are current."""
    from babel.messages.pofile import read_po

    templates = extract()
    stale = {}
    pages = {str(p.relative_to(templates).with_suffix("")) for p in templates.rglob("*.pot")}
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    pages |= {str(p.relative_to(folder).with_suffix("")) for p in folder.rglob("*.po")}
    for page in sorted(pages):
        ids = []
        for path in (templates / f"{page}.pot", folder / f"{page}.po"):
            if path.exists():
                with path.open("rb") as f:
                    ids.append({m.id for m in read_po(f) if m.id})
            else:
                ids.append(set())
        missing, extra = ids[0] - ids[1], ids[1] - ids[0]
        if missing or extra:
            stale[page] = [f"new: {m[:70]}" for m in sorted(missing)] + [f"gone: {m[:70]}" for m in sorted(extra)]
    try:
        found = set(computed_prose.harvest(language))
    except FileNotFoundError as missing:
        stale["computed"] = [f"not checked: {missing}"]
        return stale
    held = _catalog_ids(computed_prose.catalog_path(language))
    if found != held:
        stale["computed"] = ([f"new: {m[:70]}" for m in sorted(found - held)]
                             + [f"gone: {m[:70]}" for m in sorted(held - found)])
    return stale


def _catalog_ids(po: Path) -> set[str]:
    from babel.messages.pofile import read_po

    if not po.exists():
        return set()
    with po.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m grubook.presentation.editions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "pdf", "catalogs", "check"])
    args = parser.parse_args(argv)
    if args.command == "build":
        print(f"the Chinese edition: {build()}")
    elif args.command == "pdf":
        print(f"the Chinese edition's LaTeX: {build(builder='pdflatex')}")
    elif args.command == "catalogs":
        update_catalogs()
        for page, c in catalog_counts().items():
            if c["untranslated"] or c["fuzzy"]:
                print(f"{page}: {c['untranslated']} untranslated, {c['fuzzy']} fuzzy of {c['messages']}")
    elif args.command == "check":
        bad = False
        for page, c in catalog_counts().items():
            print(f"{page:<28} {c['messages']:>4} messages, {c['untranslated']} untranslated, {c['fuzzy']} fuzzy")
            bad |= bool(c["untranslated"] or c["fuzzy"])
        stale = stale_catalogs()
        for page, lines in stale.items():
            print(f"{page}: catalog not current ({len(lines)} messages differ); run `make catalogs`")
        return 1 if bad or stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
