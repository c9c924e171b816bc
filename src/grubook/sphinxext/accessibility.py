"""Sphinx extension: what the book's HTML needs to pass WCAG 2 AA (checked with axe-core by
``tests/test_accessibility.py``) beyond what the theme and docutils give it.

- The verdict colours: a style sheet, ``_static/grubook-verdicts.css``, written from
  :mod:`grubook.presentation.palette` at each build, so the CSS cannot drift from the palette the
  tests check.
- Names for the sidebar's collapse toggles. pydata-sphinx-theme (0.17) puts a ``<summary>`` that
  holds only a chevron icon after each entry with sub-pages ("The experiments"); a screen reader
  announces it as a nameless button. Each such toggle gets an ``aria-label`` naming its entry.
- A bibliography that is valid ARIA. docutils (0.21) writes each citation with the role
  ``doc-biblioentry``, which DPUB-ARIA 1.1 deprecates, inside a ``role="list"``; browsers then
  ignore the role, and the list owns bare paragraphs and links instead of list items. Each
  citation is written as a ``listitem`` instead.

Enabled in _config.yml under ``sphinx.extra_extensions``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from docutils import nodes

from ..presentation.palette import verdict_css

VERDICT_CSS = "grubook-verdicts.css"          # in _static


def _write_verdict_css(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / VERDICT_CSS
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(verdict_css(), encoding="utf-8")


def name_toggles(soup) -> None:
    """Give every ``<summary>`` without text an ``aria-label``: "Pages under <entry>"."""
    for summary in soup.select("li > details > summary"):
        if summary.get_text(strip=True) or summary.get("aria-label"):
            continue
        link = summary.find_parent("li").find("a", recursive=False)
        if link is not None:
            summary["aria-label"] = "Pages under " + link.get_text(" ", strip=True)


def _name_sidebar_toggles(app, pagename, templatename, context, doctree):
    """Wrap the theme's ``generate_toctree_html`` (set by its own html-page-context handler, which
    runs before this one) so that the navigation it returns has named toggles."""
    generate = context.get("generate_toctree_html")
    if generate is None:
        return

    @functools.wraps(generate)
    def generate_with_names(*args, **kwargs):
        soup = generate(*args, **kwargs)
        if hasattr(soup, "select"):               # a BeautifulSoup tree, for every kind it draws
            name_toggles(soup)
        return soup

    context["generate_toctree_html"] = generate_with_names


def _visit_citation(self, node):
    # As docutils' HTML writer, but each entry is a list item of the citation list.
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def _depart_citation(self, node):
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


def setup(app):
    app.add_css_file(VERDICT_CSS)
    app.connect("build-finished", _write_verdict_css)
    # After pydata-sphinx-theme's handler (default priority 500) has put the function in the context.
    app.connect("html-page-context", _name_sidebar_toggles, priority=900)
    app.add_node(nodes.citation, override=True, html=(_visit_citation, _depart_citation))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
