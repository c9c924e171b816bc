"""Tables of the claims audit for the book's pages, in two renderings: HTML for the web book and
Markdown for the PDF."""

from __future__ import annotations

from .palette import verdict_class

__all__ = ["TwoFormats", "claims_table", "claims_glance", "claims_rules"]


class TwoFormats:
    """A cell output in two renderings: HTML for the web book, Markdown for the PDF.

    MyST-NB picks the richest format each builder can show: ``text/html`` for HTML, and for
    LaTeX, which cannot show HTML, ``text/markdown``. Cells that show one need the cell option
    ``mystnb: {markdown_format: gfm}`` so that the Markdown's tables are parsed as tables.
    """

    def __init__(self, html: str, markdown: str):
        self.html, self.markdown = html, markdown

    def _repr_html_(self) -> str:
        return self.html

    def _repr_markdown_(self) -> str:
        return self.markdown


def _one_line(text: str) -> str:
    """Text with every run of whitespace, line breaks included, made one space."""
    return " ".join(str(text).split())


def _md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (GFM): no pipes, no line breaks."""
    return _one_line(text).replace("|", "\\|")


def _unbroken(words: str) -> str:
    """Words joined by no-break spaces, so that LaTeX does not wrap or hyphenate a verdict."""
    return words.replace(" ", "\u00a0")


def _experiment_link(row: dict, prefix: str) -> tuple[str, str]:
    """Where a claim's evidence lives, as (HTML link, Markdown text)."""
    from .. import experiments

    if row["experiment"] in experiments.NAMES:
        name = row["experiment"]
        return f"<a href='{prefix}experiments/{name}.html'>{name}</a>", f"`{name}`"
    return f"<a href='{prefix}book/concepts.html#easier-to-implement'>concepts chapter</a>", "concepts chapter"


def claims_table(rows: list[dict]) -> TwoFormats:
    """The claims audit (rows from :func:`grubook.verdicts.claims.audit`): claim, verdict, evidence with
    the intervals behind it, and the experiment, for the page at ``book/claims``."""
    import html

    from ..verdicts import claims

    mark = {claims.HOLDS: "holds", claims.FAILS: "fails", claims.UNDECIDED: "undecided"}

    def comparison(c: dict) -> str:
        return f"{c['label']}: {claims.interval_text(c)}, rule {c['rule']}: {mark[c['outcome']]}"

    cells = "".join(
        f"<tr><td>{i}</td><td>{html.escape(r['claim'])}</td>"
        f"<td class='{verdict_class(r['verdict'])}' style='font-weight:bold'>{r['verdict']}</td>"
        f"<td>{html.escape(r['evidence'])}<details><summary>intervals behind it</summary>"
        f"<ul class='comparisons'>{''.join(f'<li>{html.escape(comparison(c))}</li>' for c in r['comparisons'])}"
        f"</ul></details></td><td>{_experiment_link(r, '../')[0]}</td></tr>"
        for i, r in enumerate(rows, 1))
    as_html = ("<div class='table-wrapper'><table class='table claims-audit'><thead><tr><th>#</th>"
               "<th>claim (paraphrased)</th><th>verdict</th><th>evidence</th><th>experiment</th></tr></thead>"
               f"<tbody>{cells}</tbody></table></div>")
    # A page is too narrow for five columns of prose: the PDF's table keeps the short columns and
    # lists each claim's evidence and intervals after it, under the claim's number.
    lines = ["| # | claim (paraphrased) | verdict | experiment |", "|---|---|---|---|"]
    lines += [f"| {i} | {_md_cell(r['claim'])} | **{_unbroken(r['verdict'])}** | {_experiment_link(r, '../')[1]} |"
              for i, r in enumerate(rows, 1)]
    evidence = [f"{i}. {_one_line(r['evidence'])} Intervals: "
                + "; ".join(_one_line(comparison(c)) for c in r["comparisons"]) + "."
                for i, r in enumerate(rows, 1)]
    as_markdown = "\n".join(lines) + "\n\nThe evidence behind each verdict, by claim number:\n\n" + "\n".join(evidence) + "\n"
    return TwoFormats(as_html, as_markdown)


def claims_glance(rows: list[dict]) -> TwoFormats:
    """One line per claim with its verdict, for the front page."""
    import html

    as_html = ("<div class='table-wrapper'><table class='table claims-glance'><thead><tr><th>claim (paraphrased)</th>"
               "<th>verdict</th></tr></thead><tbody>"
               + "".join(f"<tr><td>{html.escape(r['claim'])}</td><td class='{verdict_class(r['verdict'])}' "
                         f"style='font-weight:bold'>{r['verdict']}</td></tr>" for r in rows)
               + "</tbody></table></div>")
    as_markdown = "\n".join(["| claim (paraphrased) | verdict |", "|---|---|"]
                            + [f"| {_md_cell(r['claim'])} | **{_unbroken(r['verdict'])}** |" for r in rows]) + "\n"
    return TwoFormats(as_html, as_markdown)


def claims_rules(rows: list[dict]) -> TwoFormats:
    """Each claim's rule, scope and what would change its verdict."""
    import html

    def paragraphs(text: str) -> list[str]:
        return [_one_line(p) for p in text.split("\n\n")]

    blocks, md = [], []
    for i, r in enumerate(rows, 1):
        rule_html = "</p><p>".join(html.escape(p) for p in paragraphs(r["rule"]))
        blocks.append(
            f"<section class='claim-rule'><h4>{i}. {html.escape(r['claim'])} "
            f"<span class='{verdict_class(r['verdict'])}'>({r['verdict']})</span></h4>"
            f"<p><strong>Rule.</strong> {rule_html}</p>"
            f"<p><strong>Scope.</strong> {html.escape(r['scope'])}</p>"
            f"<p><strong>What would change it.</strong> {html.escape(r['change'])}</p></section>")
        rule_md = "\n\n".join(paragraphs(r["rule"]))
        md.append(f"**{i}. {r['claim']} ({r['verdict']})**\n\n*Rule.* {rule_md}\n\n"
                  f"*Scope.* {_one_line(r['scope'])}\n\n*What would change it.* {_one_line(r['change'])}\n")
    return TwoFormats("".join(blocks), "\n".join(md))
