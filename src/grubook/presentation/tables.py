"""Tables of the claims audit for the book's pages, in two renderings: HTML for the web book and
Markdown for the PDF."""

from __future__ import annotations

from .palette import verdict_class

__all__ = ["TwoFormats", "claims_table", "claims_glance", "claims_rules"]


class TwoFormats:
    """A cell output in two renderings: HTML for the web book, Markdown for the PDF.

    MyST-NB picks the richest format each builder can show: ``text/html`` for HTML, and for
    LaTeX, which cannot show HTML, ``text/markdown``. Cells that show one need the cell option
    ``mystnb: {markdown_format: gfm}`` so that the Markdown's tables are parsed as tables. Both
    are computed prose, which the Chinese edition translates (:mod:`grubook.presentation.computed_prose`).
    """

    def __init__(self, html: str, markdown: str):
        self.html, self.markdown = html, markdown

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .computed_prose import prose_metadata

        return {"text/html": self.html, "text/markdown": self.markdown, "text/plain": "(a table)"}, prose_metadata()


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

    def comparison(c) -> str:
        return c.sentence()        # grubook.verdicts.decide.Decision: label, interval, rule, outcome (borderline?)

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
    evidence = [f"{i}. {_one_line(r['evidence'])}\n\n" + "".join(f"   - {_one_line(comparison(c))}\n" for c in r["comparisons"])
                for i, r in enumerate(rows, 1)]
    as_markdown = ("\n".join(lines) + "\n\nThe evidence behind each verdict, by claim number, with the intervals "
                   "behind it:\n\n" + "\n".join(evidence))
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


def _rule_facts(row: dict) -> list[tuple[str, str]]:
    """What the claims page states for every claim besides its rule: the kind of claim, each
    threshold with its reason, what the intervals cover, and whether a comparison is borderline."""
    facts = [("Kind", row["combination"])]
    facts += [(f"Threshold {t.name} = {t.value:g}", t.reason) for t in row["thresholds"]]
    facts.append(("The intervals cover", "; ".join(row["covers"]) + "."))
    drift = lambda c: f"±{c['drift']:{c['fmt'][:-1] or '.3'}f}"
    harmless = [c for c in row["comparisons"] if c.borderline and not any(c is b for b in row["borderline"])]
    if row["borderline"]:
        facts.append(("Borderline", "; ".join(
            f"{c['label']}: its measured re-run drift ({drift(c)}) reaches its clearance, so a re-run could change "
            "its outcome" for c in row["borderline"]) + ". The verdict stands on these data; a re-run on another CPU "
            "could move it."))
    elif harmless:
        facts.append(("Borderline", "none that could change the verdict: " + "; ".join(
            f"{c['label']} is borderline ({drift(c)})" for c in harmless) + ", but no outcome a re-run could give "
            + ("it" if len(harmless) == 1 else "them") + " changes the verdict."))
    else:
        facts.append(("Borderline", "none: every comparison's bounds can move by more than its measured re-run "
                                    "drift before its outcome changes."))
    return facts


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
            + "".join(f"<p><strong>{html.escape(k)}.</strong> {html.escape(v)}</p>" for k, v in _rule_facts(r))
            + f"<p><strong>Scope.</strong> {html.escape(r['scope'])}</p>"
            f"<p><strong>What would change it.</strong> {html.escape(r['change'])}</p></section>")
        rule_md = "\n\n".join(paragraphs(r["rule"]))
        facts = "".join(f"*{k}.* {_one_line(v)}\n\n" for k, v in _rule_facts(r))
        md.append(f"**{i}. {r['claim']} ({r['verdict']})**\n\n*Rule.* {rule_md}\n\n{facts}"
                  f"*Scope.* {_one_line(r['scope'])}\n\n*What would change it.* {_one_line(r['change'])}\n")
    return TwoFormats("".join(blocks), "\n".join(md))


def drift_summary(decided: dict, drift) -> dict:
    """For the claims page: how many compared quantities there are (``n``), how many moved in the
    perturbed rerun (``moved``), the largest movement of an interval bound relative to the
    interval's width (``largest_share``, ``largest_key``), and a sentence naming the quantities
    without a measured drift (``unmeasured_text``, empty when there are none)."""
    import math

    share, largest = 0.0, "none"
    moved, unmeasured = 0, []
    decided = {c["key"]: c for c in decided.values()}         # one entry per compared quantity
    for key, c in decided.items():
        m = drift.moved.get(key)
        if not m:
            if not c["covers"].startswith("exact"):
                unmeasured.append(key)
            continue
        own = m.get("own", m["bounds"])           # what the reruns moved it, before pooling
        moved += own > 0 or m["estimate"] > 0
        width = c["high"] - c["low"]
        if math.isfinite(width) and width > 0 and own / width > share:
            share, largest = own / width, key
    experiments = sorted({key.split(":")[0] for key in unmeasured})
    return {"n": len(decided), "moved": int(moved), "largest_share": share, "largest_key": largest,
            "flipped_text": _flipped_text(drift), "pooled_text": _pooled_text(drift),
            "unmeasured_text": "" if not unmeasured else (
                f"{len(unmeasured)} compared quantities ({', '.join(experiments)}) have no measured drift, because "
                "their experiments have no perturbed rerun of the committed results; none of them can show as "
                "borderline until `make drift` is run.")}


def _pooled_text(drift) -> str:
    """Each drift pool's share (grubook.verdicts.drift.pooled), in one sentence each."""
    shares = {}
    for m in getattr(drift, "moved", {}).values():
        if "pool" in m:
            shares[m["pool"]] = m["share"]
    return " ".join(f"Pooled this way, the drift of every {pool} is {share:.0%} of its size." for pool, share in
                    sorted(shares.items(), key=lambda kv: -kv[1]))


def _flipped_text(drift) -> str:
    flipped = getattr(drift, "flipped", [])
    if not flipped:
        return "No decision changed its outcome in the perturbed rerun."
    return (f"In the perturbed rerun {len(flipped)} decision{'s' if len(flipped) != 1 else ''} changed outcome: "
            + "; ".join(f"{key} ({before}, then {after})" for key, before, after in flipped) + ".")


def drift_table(decisions: dict, drift) -> TwoFormats:
    """Every compared quantity (``decisions``: from ``grubook.verdicts.comparisons.every_decision``):
    its interval, each rule it is held to with the outcome, how far its estimate and bounds moved
    in the perturbed rerun, and its tolerance: how far its bounds may move before one of its
    outcomes changes (:meth:`grubook.verdicts.decide.Decision.clearance`)."""
    import html

    from ..verdicts.decide import interval_text

    by_key = {}
    for (key, _, _), c in sorted(decisions.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        by_key.setdefault(key, []).append(c)
    rows = []
    for key, cs in by_key.items():
        c, m = cs[0], drift.moved.get(key)
        fmt = lambda v: _fmt_number(v, c["fmt"])
        rules = "; ".join(f"{d.rule_text()}: {d.outcome}" + (" (borderline)" if d.borderline else "") for d in cs)
        tolerance = min(d.clearance() for d in cs)         # the first outcome a moving bound would change
        rows.append((key, interval_text(c["estimate"], c["low"], c["high"], c["fmt"]), rules,
                     fmt(m["estimate"]) if m else "not measured", _bounds_moved(m, fmt),
                     fmt(tolerance)))
    head = ("compared quantity", "interval", "rule: outcome", "estimate moved", "bounds moved", "tolerance")
    # The table scrolls sideways on a phone: the wrapper takes keyboard focus so it can be scrolled without a mouse.
    as_html = ("<div class='table-wrapper' tabindex='0' role='region' aria-label='Re-run drift of every compared "
               "quantity'><table class='table drift-table'><thead><tr>"
               + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
               + "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>" for r in rows)
               + "</tbody></table></div>")
    # A PDF page has room for three columns: the interval and its outcomes share one, the estimate's movement goes.
    short = ("compared quantity", "interval; rule: outcome", "bounds moved", "tolerance")
    as_markdown = "\n".join(["| " + " | ".join(short) + " |", "|" + "---|" * len(short)]
                            + [f"| {_md_cell(r[0])} | {_md_cell(r[1] + '; ' + r[2])} | {_md_cell(r[4])} | {_md_cell(r[5])} |"
                               for r in rows]) + "\n"
    return TwoFormats(as_html, as_markdown)


def _bounds_moved(m: dict | None, fmt) -> str:
    if not m:
        return "not measured"
    return f"{fmt(m['bounds'])} (pooled; its own {fmt(m['own'])})" if "own" in m else fmt(m["bounds"])


def _fmt_number(value: float, fmt: str) -> str:
    import math

    if math.isinf(value):
        return "∞"
    return format(value, fmt).replace("-", "−")
