"""One visit to every page of the built book per width and colour mode, shared by the checks that
read pages at that width and mode: test_browser's readability checks and test_accessibility's
axe-core rules. A page load with MathJax typesetting and a full-page screenshot is the slow part
of both, so each (width, mode) loads every page once in the session, whichever test asks first.
"""

import re

from test_browser import SCREENSHOTS, book_pages

_VISITS: dict = {}

# Elements allowed to be wider than the page: they scroll inside their own box.
_WIDEST = """() => [...document.querySelectorAll('article *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .filter(e => !e.closest('.table-wrapper, .highlight, mjx-container, .output'))
    .slice(0, 3).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40))"""
# Chapter figures and experiment-page figures alike (Sphinx's fallback alt is the file name).
_MISSING_ALT = """() => [...document.querySelectorAll('article img')]
    .filter(i => !(i.getAttribute('alt') || '').trim() || /\\.(png|svg|jpe?g)$/.test(i.getAttribute('alt')))
    .map(i => i.getAttribute('src'))"""


def visit_every_page(built_book, server, browser, width: int, mode: str) -> dict:
    """``{"engine": axe-core's version, "pages": {path: what each check needs}}`` for every page
    at ``width`` px in ``mode``, read offline (the context blocks every request that is not to the
    local server) after MathJax has typeset the page. Screenshots go to _build/screenshots."""
    key = (str(built_book), width, mode)
    if key not in _VISITS:
        _VISITS[key] = _visit(built_book, server, browser, width, mode)
    return _VISITS[key]


def _visit(built_book, server, browser, width, mode):
    from test_accessibility import axe_violations

    folder = SCREENSHOTS / f"{width}px-{mode}"
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=mode)
    context.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())
    pages, engine = {}, None
    for page_path in book_pages(built_book):
        rel = page_path.relative_to(built_book).as_posix()
        page = context.new_page()
        page.goto(f"{server}/{rel}", wait_until="load")
        if page.evaluate("document.querySelectorAll('.math').length") > 0:
            # What a reader gets: typeset math, with MathJax's assistive MathML.
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
            page.evaluate("MathJax.startup.promise")
        seen = {"theme": page.evaluate("document.documentElement.dataset.theme"),
                "overflow": page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"),
                "text": page.inner_text("article") if page.query_selector("article") else page.inner_text("body"),
                "missing_alt": page.evaluate(_MISSING_ALT)}
        seen["widest"] = page.evaluate(_WIDEST) if seen["overflow"] > 1 else []
        page.screenshot(path=str(folder / (rel.replace("/", "__").removesuffix(".html") + ".png")), full_page=True)
        engine, seen["axe"] = axe_violations(page)
        page.close()
        pages[rel] = seen
    context.close()
    return {"engine": engine, "pages": pages}
