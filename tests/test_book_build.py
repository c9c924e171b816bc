"""The book builds with warnings as errors, and its pages carry computed numbers, not placeholders."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def page_text(html):
    return re.sub(r"<[^>]+>", " ", html)


def test_book_builds_without_warnings(built_book):
    assert (built_book / "index.html").is_file()
    assert (built_book / "book" / "math.html").is_file()


def test_math_chapter_numbers_its_equations_and_glues_numbers(built_book):
    html = (built_book / "book" / "math.html").read_text()
    # Four labelled article equations, referenced by number.
    for label in ("eq-update-gate", "eq-reset-gate", "eq-candidate", "eq-new-state"):
        assert f'id="equation-{label}"' in html, label
    text = page_text(html)
    assert "??" not in text
    # Glued numbers render as text: the gradient-check error is printed as "d.de-NN".
    assert re.search(r"relative error between the analytic and the numerical gradient is\s+\d\.\de-\d\d", text)
    # The live parameter-count table made it into the page.
    assert "reset_after=False" in text


def test_no_execution_errors_in_pages(built_book):
    """The only traceback in the book is the article's own example failing, on purpose (a cell
    tagged raises-exception), and it is the error the article's code really raises."""
    for page in built_book.rglob("*.html"):
        html = page.read_text(errors="replace")
        assert "cell_execution_error" not in html, page
        if page.name == "keras_code.html":
            text = page_text(html)
            assert text.count("Traceback (most recent call last)") == 1, "the article's example should fail once"
            assert "IndexError" in text and "tuple index out of range" in text
        else:
            assert "Traceback (most recent call last)" not in html, page


def test_tensorflow_start_up_messages_stay_out_of_the_chapters(built_book):
    for page in (built_book / "book").glob("*.html"):
        html = page.read_text(errors="replace")
        for marker in ("cuda_platform", "cuInit", "oneDNN custom operations", "absl::InitializeLog"):
            assert marker not in html, f"{page.name} shows TensorFlow's log line {marker!r}"


def test_every_chapter_of_the_article_is_in_the_book(built_book):
    for chapter in ("background", "concepts", "math", "keras_code", "outlook", "faq",
                    "claims", "reproducibility", "references"):
        assert (built_book / "book" / f"{chapter}.html").is_file(), chapter
    from grubook.experiments import NAMES

    for experiment in NAMES:
        assert (built_book / "experiments" / f"{experiment}.html").is_file(), experiment


def test_mathjax_is_served_from_the_build(built_book):
    html = (built_book / "book" / "math.html").read_text()
    assert re.search(r'src="\.\./_static/mathjax/tex-chtml\.js(\?v=\w+)?"', html)
    assert "cdn.jsdelivr" not in html and "unpkg.com/mathjax" not in html
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert any((built_book / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))


def test_pages_record_every_results_file_and_grubook_module_they_may_read(built_book):
    """Sphinx rebuilds a page when a file it recorded as a dependency is newer than the page's last
    build; this is how `make reproduce` followed by `make book` refreshes the pages. Read from the
    environment of the session's build: every page that uses grubook lists every results file and
    every module of the package, and the page that uses none lists none."""
    import pickle

    from grubook.sphinxext.page_inputs import inputs

    with open(built_book.parent / ".doctrees" / "environment.pickle", "rb") as f:
        env = pickle.load(f)
    expected = {str(path) for path in inputs()}
    assert any(name.endswith(".json") for name in expected) and any(name.endswith(".py") for name in expected)
    readers = [doc for doc in env.found_docs if "grubook" in (Path(env.srcdir) / env.doc2path(doc, False)).read_text()]
    assert {"book/claims", "experiments/seed_example"} <= set(readers)
    missing = {doc: sorted(expected - set(env.dependencies.get(doc, ()))) for doc in readers}
    assert not any(missing.values()), {doc: files[:3] for doc, files in missing.items() if files}
    others = [doc for doc in env.found_docs if doc not in readers]
    assert all(not expected & set(env.dependencies.get(doc, ())) for doc in others)


def test_the_book_follows_its_results(built_book, tmp_path):
    """Build from another results folder ($GRUBOOK_BOOK_RESULTS, a preview) into a copy of the
    session's build, which was made from the committed results: the pages that read results are
    re-read from the new folder (the folder is a configuration value that rebuilds Sphinx's
    environment; the recorded files themselves did not change). The experiment pages are rendered
    from the results too, never frozen: seed_example's page follows. One build: the copy is the
    book before."""
    from grubook.results import files as R

    out = tmp_path / "out" / "_build"
    for part in (".doctrees", "html", "jupyter_execute"):
        shutil.copytree(built_book.parent / part, out / part)

    def pages(html):
        return (page_text((html / "book" / "claims.html").read_text()),
                page_text((html / "experiments" / "seed_example.html").read_text()))

    assert not any("no such message" in page for page in pages(out / "html"))
    folder = tmp_path / "results"
    shutil.copytree(R.RESULTS_DIR, folder)
    data = json.loads((folder / "seed_example.json").read_text())
    data["data"]["original_error"] = "IndexError: no such message"
    data["seal"] = R.seal(data)                                  # a legitimate new result, sealed
    (folder / "seed_example.json").write_text(json.dumps(data))
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(R.REPO_ROOT), "--builder", "html",
               "-W", "-n", "--keep-going", "--path-output", str(tmp_path / "out")]
    proc = subprocess.run(command, cwd=R.REPO_ROOT, env=os.environ | {"GRUBOOK_BOOK_RESULTS": str(folder)},
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    # Sphinx names one changed value: the folder, or the execution cache named by its digest.
    assert re.search(r"config changed \('(grubook_book_results|nb_execution_cache_path)'\)", proc.stdout), \
        "the changed results folder did not rebuild the environment"
    claims_page, experiment_page = pages(out / "html")
    assert "As printed it raises IndexError: no such message" in claims_page
    # The page shows the error as inline code, which Sphinx splits into one span per word.
    assert "IndexError: no such message" in " ".join(experiment_page.split())


# Words that call a comparison. In the prose a reader sees, they may appear only inside glued text
# (a number or a word computed by grubook.verdicts.decide) or in the glued findings of an experiment.
COMPARISON_WORDS = re.compile(r"\b(above|below|on par|cannot be told apart|indistinguishable|beats?|beaten|"
                              r"loses? to|better than|worse than|outperforms?|faster than|slower than|ahead of)\b",
                              re.I)
# Uses that compare nothing measured: a place on the page, or a threshold that defines a measure.
NOT_A_COMPARISON = re.compile(
    r"(?:(?:cell|check|table|figure|list|findings|limits|step|layer|claims|code|recorded|paragraph)s? (?:below|above))"
    r"|(?:see (?:below|above))|(?:(?:below|above) (?:⟨glued⟩|⟨code⟩|−?\d))|(?:falls? below)"
    r"|(?:[“\"](?:above|below|on par|indistinguishable)\b)", re.I)       # a word named, not used


def prose_outside_glue(html: str) -> str:
    """The text of a page's article that is neither glued, nor code, output, math nor a table."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup
    for tag in main.select(".pasted-text, .pasted-inline"):
        tag.replace_with(" ⟨glued⟩ ")
    for tag in main.select("p code, li code"):
        tag.replace_with(" ⟨code⟩ ")
    for tag in main.select(".glued-findings, .cell, .cell_output, pre, code, .math, math, table, script, style, "
                           "nav, .bd-sidebar-secondary, .prev-next-area, .footnote, aside"):
        tag.decompose()
    return re.sub(r"\s+", " ", main.get_text(" "))


def test_comparison_words_in_the_prose_come_from_the_decision_rule(built_book):
    """Every "above", "below", "on par" ... a reader sees is glued from a Decision, or names a place
    on the page or a threshold; a sentence typed into a page cannot call a comparison."""
    typed = []
    for page in sorted(built_book.glob("book/*.html")) + sorted(built_book.glob("experiments/*.html")):
        text = prose_outside_glue(page.read_text())
        for m in COMPARISON_WORDS.finditer(text):
            allowed = any(a.start() <= m.start() and m.end() <= a.end()
                          for a in NOT_A_COMPARISON.finditer(text, max(0, m.start() - 40), m.end() + 15))
            if not allowed:
                typed.append((page.name, text[max(0, m.start() - 30):m.end() + 15]))
    assert not typed, typed


# The same words in the Chinese edition (editions.VOCABULARY and computed.po write them so), and
# the same uses that compare nothing: a threshold or a number after the word, or the word named.
COMPARISON_WORDS_ZH = re.compile(r"高于|低于|无法区分|无异于|不相上下|优于|劣于|胜过|快于|慢于|领先于")
NOT_A_COMPARISON_ZH = re.compile(r"(?:高于|低于)\s*(?:⟨glued⟩|⟨code⟩|−?\d|阈值)|“(?:高于|低于|无法区分|无异于)")


def test_comparison_words_in_the_chinese_prose_come_from_the_decision_rule(built_book):
    """The Chinese pages' typed prose (the catalogs' translations) calls no comparison either:
    every 高于, 低于, 无法区分 ... a reader sees is glued, so the one rule decided it."""
    typed = []
    for page in english_pages(built_book):
        text = prose_outside_glue((built_book / ZH / page.relative_to(built_book)).read_text())
        allowed = [a.span() for a in NOT_A_COMPARISON_ZH.finditer(text)]
        typed += [(page.name, text[max(0, m.start() - 20):m.end() + 10]) for m in COMPARISON_WORDS_ZH.finditer(text)
                  if not any(a <= m.start() and m.end() <= b for a, b in allowed)]
    assert not typed, typed


def test_prose_outside_glue_drops_glue_and_keeps_typed_words():
    html = ("<main><p>The GRU is <span class='pasted-text'>above</span> the LSTM, and typed below the LSTM.</p>"
            "<div class='glued-findings'><p>The LSTM's reach is above the GRU's.</p></div>"
            "<div class='cell'><pre>x = 'above'</pre></div></main>")
    text = prose_outside_glue(html)
    assert "⟨glued⟩" in text and "reach" not in text and "x =" not in text
    assert [m.group(0) for m in COMPARISON_WORDS.finditer(text)] == ["below"]


def test_a_chapter_and_an_experiment_page_say_the_same_of_one_comparison(built_book):
    """The at_work chapter and the chrono page both print the one decision of chrono's steps to
    solve (default − chrono), so neither can call it something the other does not."""
    import html

    from grubook import experiments
    from grubook.results.files import load
    from grubook.results.view import Results

    c = experiments.get("chrono").comparisons(Results(load("chrono")))["default − chrono"]
    text = lambda page: html.unescape(page_text((built_book / page).read_text())).replace("’", "'")
    at_work, chrono = text("book/at_work.html"), text("experiments/chrono.html")
    assert c.interval() in at_work and c.interval() in chrono
    word = {"holds": "in chrono's favour", "fails": "not in chrono's favour", "undecided": "undecided"}[c.outcome]
    assert f"the comparison is {word}" in re.sub(r"\s+", " ", at_work)


# The Chinese edition (grubook.presentation.editions): the same pages, their prose from the catalogs.
ZH = "zh_CN"


def english_pages(built_book):
    return [p for p in sorted(built_book.glob("book/*.html")) + sorted(built_book.glob("experiments/*.html"))]


def test_every_page_is_in_both_editions_and_links_to_its_other_edition(built_book):
    pages = english_pages(built_book)
    assert len(pages) >= 23
    for page in pages:
        rel = page.relative_to(built_book)
        zh = built_book / ZH / rel
        assert zh.is_file(), f"{rel} has no Chinese edition"
        en_html, zh_html = page.read_text(), zh.read_text()
        assert '<html lang="zh-CN"' in zh_html and '<html lang="en"' in en_html, rel
        for html, here, other in ((en_html, page, zh), (zh_html, zh, page)):
            link = re.search(r'class="btn btn-sm grubook-language-link"\s+href="([^"]+)"', html)
            assert link, f"{here.relative_to(built_book)} has no language link"
            assert (here.parent / link.group(1)).resolve() == other.resolve(), (here, link.group(1))


# What grubook computes on a page: glued values and findings, and the claims audit's tables.
COMPUTED = ".pasted-text, .glued-findings, table.claims-audit, table.claims-glance, .claim-rule, table.drift-table"


def computed_numbers(html: str) -> list[str]:
    """Every number in what grubook computed on a page (glued values, findings, the audit's
    tables), sorted: the Chinese edition may move a number within its sentence, never change it."""
    from bs4 import BeautifulSoup

    from grubook.presentation.computed_prose import NUMBER

    main = BeautifulSoup(html, "html.parser").find("main")
    return sorted(n for tag in main.select(COMPUTED) for n in re.findall(NUMBER, tag.get_text(" ")))


def test_the_chinese_edition_shows_the_english_editions_numbers_in_chinese_sentences(built_book):
    """Every number grubook computed on an English page is on its Chinese page (a glue role that
    rendered nothing in a translated paragraph would lose one), and the computed sentences around
    them are Chinese: none is left in English (``_build/editions/zh_CN-untranslated.txt``)."""
    from grubook.presentation.editions import EDITIONS_DIR

    total = 0
    for page in english_pages(built_book):
        en = computed_numbers(page.read_text())
        zh = computed_numbers((built_book / ZH / page.relative_to(built_book)).read_text())
        assert zh == en, (page.name, sorted(set(en) ^ set(zh))[:5])
        total += len(en)
    assert total > 1000, total
    untranslated = (EDITIONS_DIR / f"{ZH}-untranslated.txt").read_text(encoding="utf-8").splitlines()
    assert not untranslated, (f"{len(untranslated)} computed sentences have no translation; run `make catalogs` "
                              f"and translate them in book/locale/zh_CN/computed.po: {untranslated[:3]}")
    findings = selected_text((built_book / ZH / "experiments" / "counting.html").read_text(), ".glued-findings")
    assert len(re.findall("[\u4e00-\u9fff]", findings)) > 30 and "recognised" not in findings, findings


def selected_text(html: str, selector: str) -> str:
    from bs4 import BeautifulSoup

    return " ".join(t.get_text(" ") for t in BeautifulSoup(html, "html.parser").select(selector))


def test_the_chinese_pages_are_translated(built_book):
    """Headings and paragraphs come from the catalogs: a chapter's title and most of its words
    are Chinese."""
    for page in english_pages(built_book):
        html = (built_book / ZH / page.relative_to(built_book)).read_text()
        title = re.search(r"<h1>(.*?)<a", html, flags=re.S).group(1)
        assert re.search("[\u4e00-\u9fff]", title), (page.name, title)
    math = page_text((built_book / ZH / "book" / "math.html").read_text())
    assert "重置门" in math and "更新门" in math and "候选隐状态" in math


def test_a_docstring_edit_runs_the_pages_again_only_where_pages_show_docstrings(tmp_path, monkeypatch):
    """The executed pages are cached by a digest of what they read. A comment or a docstring edit
    changes none of it, except a docstring the pages show (the claims audit prints each claim's
    rule from its docstring): then the digest changes, so no page keeps the old rule."""
    import shutil

    from grubook.sphinxext import page_inputs

    package = tmp_path / "grubook"
    shutil.copytree(page_inputs.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(page_inputs, "PACKAGE", package)
    before = page_inputs.inputs_digest()

    def edit(relative, old, new):
        path = package / relative
        text = path.read_text()
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1))
        return page_inputs.inputs_digest()

    assert edit("verdicts/drift.py", "measured, not assumed.", "measured, never assumed.") == before
    assert edit("verdicts/claims.py", "# Every GRU/LSTM step-time ratio", "# Each GRU/LSTM step-time ratio") == before
    shown = edit("verdicts/claims.py", "A GRU computes more simply", "A GRU computes far more simply")
    assert shown != before
    assert edit("verdicts/claims.py", "TIMING_POOL = ", "TIMING_POOL  =  ") == shown      # layout is no change
    assert edit("verdicts/drift.py", "RETIMINGS = 4", "RETIMINGS = 5") != shown


def test_the_chinese_edition_reuses_the_english_editions_executed_pages():
    """The second edition executes nothing: MyST-NB's cache, keyed by the inputs' digest
    (grubook.sphinxext.page_inputs), hands it the first edition's outputs."""
    from grubook.results.files import REPO_ROOT

    log = (REPO_ROOT / "_build" / "book-build-zh_CN.log").read_text()
    assert "Executing notebook" not in log
    # A fresh output folder (CI's) reads every page, each from the cache; an incremental build
    # re-reads only the pages whose sources changed.
    read = len(re.findall(r"reading sources\.\.\. .*?\[\s*\d+%\]", log))
    assert log.count("Using cached notebook") >= min(read, 20), (read, log.count("Using cached notebook"))


@pytest.mark.parametrize("edition", ["", ZH])
def test_the_downloadable_notebooks_carry_their_outputs(built_book, edition):
    """A page's .ipynb download is its executed notebook, with outputs, also when MyST-NB took
    them from its cache (the Chinese edition always does; the English one after its first build)."""
    import nbformat

    for page in ("book/claims", "experiments/counting"):
        notebook = nbformat.read(built_book / edition / "_sources" / f"{page}.ipynb", as_version=4)
        outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
        assert any("text/html" in o.get("data", {}) for o in outputs), (edition, page, len(outputs))


def test_the_chinese_search_index_knows_the_glossary_terms(built_book):
    """Sphinx indexes Chinese only with jieba; the glossary's terms are whole words in the index,
    so a search for 重置门 (the reset gate) finds the math chapter."""
    raw = (built_book / ZH / "searchindex.js").read_text()
    index = json.loads(raw[raw.index("(") + 1:raw.rindex(")")])
    math = index["docnames"].index("book/math")
    for term in ("重置门", "更新门", "候选隐状态", "门控循环单元"):
        hits = index["terms"].get(term)
        assert hits is not None, term
        assert math in (hits if isinstance(hits, list) else [hits]), term
