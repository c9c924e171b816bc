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
- **Computed words.** A glued verdict or relation word ("supported", "above", ...) is shown in
  the edition's language (``grubook.presentation.editions.VOCABULARY``).
- **Language links.** Every page links to the same page in the other edition (a relative link,
  so the book reads offline), at the top of the article beside the sidebar button.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

EDITIONS = {"en": "English", "zh_CN": "简体中文"}
SECOND = "zh_CN"                    # the folder of the second edition inside the first's HTML


class KeepFormulasOutOfCatalogs(SphinxTransform):
    """Mark display math untranslatable, before Sphinx's Locale transform (priority 20) and the
    gettext builder read it."""

    default_priority = 10

    def apply(self, **kwargs):
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False


class LocaliseGluedWords(SphinxPostTransform):
    """In the Chinese edition, a glued value that is one of grubook's fixed words (a verdict, the
    decision rule's "above", "indistinguishable from", ...) is shown in Chinese
    (:func:`grubook.presentation.editions.localised`). After MyST-NB has filled in the glue
    references of translated paragraphs (its post-transform, priority 5)."""

    default_priority = 50

    def run(self, **kwargs):
        from ..presentation.editions import localised

        language = self.config.language or "en"
        if language == "en":
            return
        for node in list(self.document.findall(nodes.inline)):
            if "pasted-text" in node.get("classes", []):
                text = node.astext()
                shown = localised(text, language)
                if shown != text:
                    node.replace_self(nodes.inline(shown, shown, classes=list(node["classes"])))


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
    app.add_post_transform(LocaliseGluedWords)
    text_role, any_role = _glue_roles()
    NbGlueDomain.roles.update({"text": text_role(), "": any_role(), "any": any_role()})
    app.connect("config-inited", _add_template)
    app.connect("html-page-context", _language_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
