"""Sphinx extension: one source, two editions, English and Chinese (简体中文).

The Chinese edition is the same pages built with ``language: zh_CN`` (:mod:`grubook.editions` writes
its configuration and builds it into ``_build/html/zh_CN``). Sphinx replaces each paragraph,
heading, table cell and caption by its translation from the gettext catalogs in
``book/locale/zh_CN/LC_MESSAGES``; code, its outputs and every computed number have one source.

- **Formulas are not prose.** Display math is kept out of the catalogs, so a formula has one
  source and cannot be mistranslated.
- **Glue in a translated paragraph.** Sphinx parses a translated paragraph as a small document of
  its own, without the notebook's outputs, so MyST-NB's ``{glue:text}`key``` would find nothing
  (and log a warning). Where the notebook is absent, the glue roles here read the same key from
  the page's own glue cache, as ``{glue:text}`page.md::key:fmt``` would: the sources and the
  catalogs keep the short form.
- **Footnotes in a translated paragraph.** MyST reads ``[^name]`` as a footnote reference only in
  a document that defines the footnote, and a translated paragraph is parsed alone; so each
  footnote it names is defined (as a placeholder) after it while it is parsed, and Sphinx links
  the reference to the page's footnote as it does for reStructuredText.
- **Computed prose.** What grubook writes from the results (findings, the claims audit's tables,
  glued clauses and words) is translated as each page's notebook is opened, before its glue and
  outputs are rendered, through the template catalog ``book/locale/zh_CN/computed.po``
  (:mod:`grubook.presentation.computed_prose`); the templates it lacks are listed in
  ``_build/editions/<language>-untranslated.txt``. A change to that catalog re-reads every page.
- **Language links.** Every page links to the same page in the other edition (a relative link,
  so the book reads offline), at the top of the article beside the sidebar button.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

EDITIONS = {"en": "English", "zh_CN": "简体中文"}
SECOND = "zh_CN"                    # the folder of the second edition inside the first's HTML


class KeepFormulasOutOfCatalogs(SphinxTransform):
    """Mark display math untranslatable, before Sphinx's Locale transform (priority 20) and the
    gettext builder read it."""

    default_priority = 10

    def apply(self, **kwargs):
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False


class ComputedProse:
    """The Chinese edition's translation of computed prose, as MyST-NB opens each notebook (its
    executed outputs, from the cache the English build filled): a wrapper around MyST-NB's glue
    extraction, which every page's glue and outputs pass through first. The templates each page
    looked up are kept in the environment (``env.grubook_computed``), so the list written at the
    end of a build covers every page, also those an incremental build did not read again."""

    def __init__(self, app):
        from ..presentation import computed_prose

        self.app, self.language = app, app.config.language
        self.catalog_path = computed_prose.catalog_path(self.language)
        self.translator = computed_prose.Translator(computed_prose.load_catalog(self.language), self.language)

    def digest(self) -> str:
        """Of the translations in use: a comment or header edit of the catalog re-reads nothing."""
        import hashlib

        return hashlib.sha256(json.dumps(sorted(self.translator.catalog.items())).encode()).hexdigest()

    def wrap(self, extract):
        from ..presentation.computed_prose import translate_notebook

        def extract_glue_data(notebook, source_map, logger):
            self.translator.seen = set()
            translate_notebook(notebook, self.translator)
            env = self.app.env
            if not hasattr(env, "grubook_computed"):
                env.grubook_computed = {}
            env.grubook_computed[env.docname] = sorted(self.translator.seen)
            return extract(notebook, source_map, logger)

        extract_glue_data.grubook_wrapped = True
        extract_glue_data.wrapped_extract = extract
        return extract_glue_data

    def write_lists(self) -> None:
        """``<language>-computed-templates.json`` (every template, with its pages) and
        ``<language>-untranslated.txt`` (those the catalog lacks) in ``_build/editions``."""
        from ..presentation.computed_prose import templates_path

        pages = {}
        for docname, keys in sorted(getattr(self.app.env, "grubook_computed", {}).items()):
            for key in keys:
                pages.setdefault(key, []).append(docname)
        path = templates_path(self.language)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(pages, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
        missing = sorted(set(pages) - set(self.translator.catalog))
        report = path.parent / f"{self.language}-untranslated.txt"
        report.write_text("".join(f"{key}\n" for key in missing), encoding="utf-8")
        if missing:
            logging.getLogger(__name__).info(
                f"{len(missing)} computed sentences have no translation (listed in {report}); "
                f"run `make catalogs` and translate them in book/locale/{self.language}/computed.po")


def _translate_computed_prose(app):
    import myst_nb.core.execute.base as execute_base

    extract = execute_base.extract_glue_data
    while getattr(extract, "grubook_wrapped", False):             # an earlier build in this process
        extract = extract.wrapped_extract
    execute_base.extract_glue_data = extract
    if (app.config.language or "en") == "en" or app.builder.name == "gettext":
        return
    app.grubook_computed = ComputedProse(app)
    execute_base.extract_glue_data = app.grubook_computed.wrap(extract)


def _reread_when_the_catalog_changes(app, env, added, changed, removed):
    computed = getattr(app, "grubook_computed", None)
    if computed is None:
        return []
    digest = computed.digest()
    if getattr(env, "grubook_computed_digest", None) == digest:
        return []
    first = not hasattr(env, "grubook_computed_digest")
    env.grubook_computed_digest = digest
    pages = set(env.found_docs) if first else set(getattr(env, "grubook_computed", {}))
    return sorted(pages - set(added) - set(removed))


def _forget_page(app, env, docname):
    getattr(env, "grubook_computed", {}).pop(docname, None)


def _merge_pages(app, env, docnames, other):
    env.grubook_computed = getattr(env, "grubook_computed", {}) | {
        d: keys for d, keys in getattr(other, "grubook_computed", {}).items() if d in docnames}


def _list_templates(app, exception):
    computed = getattr(app, "grubook_computed", None)
    if computed is not None and exception is None:
        computed.write_lists()


def _page_reference(role) -> str | None:
    """``page.md::`` for the page being read when the role sits in a translated paragraph (no
    notebook attached to its document), else None."""
    if "nb_renderer" in role.document or "::" in role.text:
        return None
    env = role.document.settings.env
    return Path(env.doc2path(env.docname)).name + "::"


def _glue_roles():
    from myst_nb.ext.glue.roles import PasteRoleAny, PasteTextRole

    class TextRole(PasteTextRole):
        def run(self):
            page = _page_reference(self)
            if page:
                key, _, spec = self.text.partition(":")
                self.text = f"{page}{key}:{spec or 's'}"     # a format spec, or rsplit(":") cuts the "::"
            return super().run()

    class AnyRole(PasteRoleAny):
        def run(self):
            page = _page_reference(self)
            if page:
                self.text = page + self.text
            return super().run()

    return TextRole, AnyRole


def _figure_directive():
    from myst_nb.ext.glue.directives import PasteFigureDirective

    class FigureDirective(PasteFigureDirective):
        """``{glue:figure}``; when the catalogs are extracted (the gettext builder, which runs no
        notebook), a stand-in figure with the directive's alt text and caption, so that both are
        in the catalogs (MyST-NB would return only a warning, and drop them)."""

        def run(self):
            if self.state.document.settings.env.app.builder.name != "gettext":
                return super().run()
            image = nodes.image(uri=self.arguments[0], alt=self.options.get("alt", ""))
            figure = nodes.figure("", image)
            self.set_source_info(figure)
            self.set_source_info(image)
            self.add_name(figure)
            if self.content:
                parsed = nodes.Element()
                self.state.nested_parse(self.content, self.content_offset, parsed)
                first = parsed[0]
                caption = nodes.caption(first.rawsource, "", *first.children)
                caption.source, caption.line = first.source, first.line
                figure += caption
                if len(parsed) > 1:
                    figure += nodes.legend("", *parsed[1:])
            return [figure]

    return FigureDirective


FOOTNOTE = re.compile(r"\[\^([^\]\s]+)\]")


def _with_footnotes_defined(publish):
    """Wrap Sphinx's ``publish_msgstr``: parse a translated paragraph that references footnotes
    with those footnotes defined after it; Sphinx keeps only the paragraph (the first node)."""
    def publish_msgstr(app, source, source_path, source_line, config, settings):
        labels = dict.fromkeys(FOOTNOTE.findall(source))
        if labels and str(source_path).endswith(".md"):
            source += "".join(f"\n\n[^{label}]: placeholder" for label in labels)
        return publish(app, source, source_path, source_line, config, settings)

    publish_msgstr.grubook_wrapped = True
    return publish_msgstr


def other_edition(pagename: str, language: str) -> tuple[str, str]:
    """The relative address of ``pagename`` in the other edition, and that edition's name."""
    up = "../" * pagename.count("/")
    if language == SECOND:
        return f"../{up}{pagename}.html", EDITIONS["en"]
    return f"{up}{SECOND}/{pagename}.html", EDITIONS[SECOND]


def _language_link(app, pagename, templatename, context, doctree):
    if app.builder.format != "html" or doctree is None:
        return
    href, name = other_edition(pagename, app.config.language or "en")
    context["grubook_other_edition"] = {"href": href, "name": name,
                                        "lang": "zh-CN" if name == EDITIONS[SECOND] else "en"}


def _add_template(app, config):
    templates = str(Path(__file__).parent / "templates")
    if templates not in config.templates_path:
        config.templates_path.append(templates)
    options = dict(config.html_theme_options or {})
    options["article_header_start"] = ["toggle-primary-sidebar.html", "language-link.html"]
    config.html_theme_options = options


def setup(app):
    from myst_nb.ext.glue.domain import NbGlueDomain

    import sphinx.transforms.i18n as i18n

    if not getattr(i18n.publish_msgstr, "grubook_wrapped", False):
        i18n.publish_msgstr = _with_footnotes_defined(i18n.publish_msgstr)
    app.add_transform(KeepFormulasOutOfCatalogs)
    app.connect("builder-inited", _translate_computed_prose)
    app.connect("env-get-outdated", _reread_when_the_catalog_changes)
    app.connect("env-purge-doc", _forget_page)
    app.connect("env-merge-info", _merge_pages)
    app.connect("build-finished", _list_templates)
    text_role, any_role = _glue_roles()
    NbGlueDomain.roles.update({"text": text_role(), "": any_role(), "any": any_role()})
    figure = _figure_directive()
    NbGlueDomain.directives["figure"] = figure
    app.connect("config-inited", _add_template)
    app.connect("html-page-context", _language_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
