"""The PDF (`make pdf`): built offline with XeLaTeX, it holds every page of the book, the claims
audit, and the same glued numbers as the HTML book. Checked with poppler's pdftotext."""

import html
import re
import subprocess

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.slow


def toc_pages() -> list[str]:
    """Every document of the book, in reading order (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries:
            docs.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc["parts"]:
        walk(part["chapters"])
    return docs


def plain(text: str) -> str:
    """Whitespace collapsed and case folded, so that line breaks and LaTeX's upper-case chapter
    headings do not matter; typographic quotes count as straight ones (Sphinx's LaTeX curls them)."""
    return " ".join(text.split()).casefold().replace("’", "'").replace("‘", "'")


def html_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def pdftotext(pdf, *options) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", *options, str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pdf_text(built_pdf):
    """The PDF's text in reading order (a table's columns one after the other)."""
    return pdftotext(built_pdf)


def test_the_pdf_is_built_offline_with_a_page_for_every_part(built_pdf):
    info = subprocess.run(["pdfinfo", str(built_pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages >= 60, f"only {pages} pages"
    assert re.search(r"^Title:\s+GRU Book", info, re.M), info
    # The copy the front page links is this very file.
    assert (ROOT / "_build" / "html" / "grubook.pdf").read_bytes() == built_pdf.read_bytes()
    assert 'href="../grubook.pdf"' in (ROOT / "_build" / "html" / "book" / "intro.html").read_text()


def test_every_chapter_and_experiment_page_is_in_the_pdf(built_book, pdf_text):
    text = plain(pdf_text)
    missing = []
    for doc in toc_pages()[1:]:                          # the front page has no title of its own in the PDF
        page = (built_book / f"{doc}.html").read_text()
        title = html.unescape(re.search(r"<title>(.*?) &#8212; GRU Book</title>", page).group(1))
        title = re.sub(r"^\d+\. ", "", title)          # the HTML numbers chapters "3. ", LaTeX by itself
        # In the table of contents and as the heading itself.
        if text.count(plain(title)) < 2:
            missing.append(title)
    assert not missing, f"titles missing from the PDF (or only in its contents): {missing}"


def test_the_pdf_has_the_claims_audit_and_no_html_only_output(built_pdf, pdf_text):
    from grubook import experiments
    from grubook.presentation.glue import BOOK_RESULTS_DIR
    from grubook.results.files import load
    from grubook.results.view import Results
    from grubook.verdicts import claims

    rows = claims.audit({name: Results(load(name, BOOK_RESULTS_DIR)) for name in experiments.NAMES})
    text = plain(pdftotext(built_pdf, "-layout"))        # a table's rows kept on their lines
    audit = text[text.index(plain("claim (paraphrased) verdict experiment")):]
    for i, row in enumerate(rows, 1):
        # A row of the table, from its number to the next one; a long claim may wrap inside it.
        claim = plain(row["claim"]).split()
        start = audit.index(" ".join([str(i), *claim[:3]]))
        following = f" {i + 1} " if i < len(rows) else plain(" The evidence behind each verdict")
        row_text = audit[start:audit.index(following, start)]
        assert plain(row["verdict"]) in row_text.replace("\u00a0", " "), (i, row_text)
        assert all(word in row_text for word in claim), (i, row_text)
    # An output with only an HTML rendering would print as its Python repr in the PDF.
    assert "<ipython.core.display" not in plain(pdf_text)
    assert "??" not in pdf_text, "an unresolved reference"


PAGE_BREAK = "⟨page⟩"


def find_in_order(text: str, value: str, start: int) -> int:
    """Where ``value`` ends in ``text`` at or after ``start``, or -1. A long value may run across a
    page break, where the PDF's text has the page's footnotes, the running footer, page number,
    header and perhaps a float between its two parts: it is found if its words continue after the
    next page break."""
    found = text.find(value, start)
    if found >= 0:
        return found + len(value)
    words = value.split(" ")
    for k in range(1, len(words)):
        head, tail = " ".join(words[:k]), " ".join(words[k:])
        at = text.find(head, start)
        while at >= 0:
            page = text.find(PAGE_BREAK, at + len(head), at + len(head) + 1500)     # footnotes come first
            if page >= 0 and (rest := text.find(tail, page, page + 2000)) >= 0:
                return rest + len(tail)
            at = text.find(head, at + 1)
    return -1


def test_a_value_split_by_a_page_break_is_found_and_a_missing_one_is_not():
    text = f"a b the GRU underfits these data: it cannot 27 {PAGE_BREAK} GRU Book Fig. 4.1: x. even fit its set"
    assert find_in_order(text, "the GRU underfits these data: it cannot even fit its set", 0) == len(text)
    assert find_in_order(text, "the GRU underfits these data: it cannot even fit the set", 0) == -1
    assert find_in_order(text, "a b", 5) == -1
    footnote = "1 The article says that plain RNNs suffer from a ladder-shaped error. " * 5     # about 350 characters
    text = f"x: efficiency: default step time at {footnote} 57 {PAGE_BREAK} GRU Book 128 units (undecided, then fails)."
    assert find_in_order(text, "efficiency: default step time at 128 units (undecided, then fails).", 0) == len(text)


def test_numbers_glued_into_the_pages_equal_the_html_books(built_book, pdf_text):
    """Every number glued into the text of every page of the HTML book appears in the PDF, in the
    same order: both builds executed the chapters and read the same results."""
    text = " ".join(pdf_text.replace("\f", f" {PAGE_BREAK} ").split())
    cursor, checked, missing = 0, 0, []
    for doc in toc_pages():
        page = (built_book / f"{doc}.html").read_text()
        for value in re.findall(r'<span class="pasted-text">(.*?)</span>', page, re.S):
            value = " ".join(html_text(value).split())
            end = find_in_order(text, value, cursor)
            if end < 0:
                missing.append((doc, value))
            else:
                cursor, checked = end, checked + 1
    assert checked >= 200, checked
    assert not missing, f"glued values of the HTML book not found (in order) in the PDF: {missing[:10]}"


def test_the_chinese_pdf_has_every_page_and_every_glyph(built_book, built_pdf):
    """`make pdf` also builds the Chinese edition's PDF (xeCJK with Noto CJK): every page's Chinese
    title is in it, its table of contents is titled 目录, its chapters are headed 第 N 章 (not
    CHAPTER N), its computed prose is Chinese, and XeLaTeX found a glyph for every character (a
    missing one is only a line in the LaTeX log)."""
    pdf = ROOT / "_build" / "html" / "grubook-zh_CN.pdf"
    assert pdf.is_file()
    log = (ROOT / "_build" / "editions" / "zh_CN" / "_build" / "latex" / "grubook-zh_CN.log").read_text(errors="replace")
    assert "Missing character" not in log, [l for l in log.splitlines() if "Missing character" in l][:5]
    solid = lambda t: "".join(plain(t).split())          # xeCJK puts a space between Chinese and Latin
    text = solid(pdftotext(pdf))
    assert "目录" in text and "第1章" in text and "CHAPTER" not in text
    assert "Findings." not in text and "结论。" in text          # the experiments' computed findings
    missing = []
    for doc in toc_pages()[1:]:
        page = (built_book / "zh_CN" / f"{doc}.html").read_text()
        title = html.unescape(re.search(r"<title>(.*?) &#8212; GRU之书</title>", page).group(1))
        title = re.sub(r"^\d+\. ", "", title)
        if text.count(solid(title)) < 2:
            missing.append(title)
    assert not missing, f"titles missing from the Chinese PDF (or only in its contents): {missing}"
    assert 'href="../../grubook-zh_CN.pdf"' in (built_book / "zh_CN" / "book" / "intro.html").read_text()
