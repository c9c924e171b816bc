"""Every page of the built book passes WCAG 2 A and AA as axe-core checks it, in the browser.

axe-core is the engine that ships inside the ``axe-playwright-python`` wheel (pinned in
requirements.lock), injected into each page by Playwright; nothing is fetched at test time (the
browser context blocks every request that is not to the local server). Every page is checked at
phone and laptop width in light and dark mode, after MathJax has typeset it. Every HTML file under
the built book is a page (test_browser.book_pages), so an edition built into the same folder, the
Chinese one among them, is checked with the rest. Each page is loaded once per width and mode for
these rules and test_browser's readability checks together (tests/page_visits.py).

Serious and critical violations fail the test; each is listed with its rule, the page, the mode,
the width and the element. All violations, the minor ones too, are kept per width and mode in
_build/accessibility/.
"""

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "_build" / "accessibility"
# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe's own best-practice rules are not WCAG and are left out).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}


def axe_violations(page) -> tuple[str, list[dict]]:
    """axe-core's version and its violations of the WCAG rules on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
    return results.response["testEngine"]["version"], results.response["violations"]


def describe(violation: dict, node: dict, rel: str, mode: str, width: int) -> str:
    snippet = " ".join(node["html"].split())
    snippet = snippet if len(snippet) <= 160 else snippet[:157] + "..."
    # axe's own words for this element ("insufficient color contrast of 4.41 (foreground color: ...")
    # when it has them, else the rule's summary.
    messages = [check["message"] for check in node.get("any", []) + node.get("all", []) + node.get("none", [])]
    return (f"{violation['id']} ({violation['impact']}) on {rel} [{mode} mode, {width} px]: "
            f"{' > '.join(map(str, node['target']))}\n      {snippet}\n      {(messages or [violation['help']])[0]}")


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
def test_every_page_passes_wcag_aa_in_axe_core(built_book, server, browser, width, mode):
    from page_visits import visit_every_page

    REPORTS.mkdir(parents=True, exist_ok=True)
    visits = visit_every_page(built_book, server, browser, width, mode)
    failures, report = [], {}
    for rel, seen in visits["pages"].items():
        assert seen["theme"] == mode, rel
        report[rel] = seen["axe"]
        failures += [describe(v, node, rel, mode, width)
                     for v in seen["axe"] if v["impact"] in FAILING_IMPACTS for node in v["nodes"]]
    (REPORTS / f"axe-{width}px-{mode}.json").write_text(json.dumps(report, indent=1))
    assert not failures, (f"axe-core {visits['engine']}: {len(failures)} serious or critical WCAG violations "
                          f"(all violations in {REPORTS}):\n" + "\n".join(failures))


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_verdicts_wear_their_palette_colour(built_book, server, browser, mode):
    """The verdicts on the front and claims pages are drawn in grubook.presentation.palette's colour
    for the mode (a theme rule that outweighed the verdict classes would leave them black and still
    pass axe)."""
    from grubook.presentation.palette import VERDICT_COLOURS, verdict_class

    def rgb(colour: str) -> str:
        r, g, b = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
        return f"rgb({r}, {g}, {b})"

    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=mode)
    context.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())
    wrong, seen = [], 0
    for rel in ("book/intro.html", "book/claims.html"):
        page = context.new_page()
        page.goto(f"{server}/{rel}", wait_until="load")
        for verdict, colours in VERDICT_COLOURS.items():
            drawn = page.eval_on_selector_all(f".{verdict_class(verdict)}",
                                              "els => els.map(e => getComputedStyle(e).color)")
            seen += len(drawn)
            wrong += [f"{rel}: {verdict!r} drawn in {c}, palette says {colours[mode]}"
                      for c in drawn if c != rgb(colours[mode])]
        page.close()
    context.close()
    assert seen, "no verdict found on the front or claims page"
    assert not wrong, "\n".join(wrong)
