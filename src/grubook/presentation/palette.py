"""The verdict colours, for light and dark mode, and the WCAG contrast ratio that chose them.

A verdict ("supported", "partly supported", "not supported", "inconclusive") is shown in its
colour on the front page and the claims page. The text must stay readable against
every background it sits on: WCAG 2 level AA asks for a contrast ratio of at least 4.5:1 for
text below 18 pt (24 px), and the verdicts are 16 px bold in the tables. The backgrounds are
the theme's (pydata-sphinx-theme 0.17, under sphinx-book-theme): the page, and the two zebra
stripes of a table, in each mode. ``tests/test_palette.py`` checks every pair.

The HTML uses a CSS class per verdict (:func:`verdict_class`), whose light and dark colours
:func:`verdict_css` writes from this table; the Sphinx extension
``grubook.sphinxext.accessibility`` puts that style sheet into the built book. The PDF's tables
show verdicts in bold black (their Markdown carries no colour); were they coloured, the light
colours pass on its white page too.
"""

from __future__ import annotations

__all__ = ["VERDICT_COLOURS", "BACKGROUNDS", "AA_NORMAL_TEXT", "contrast_ratio", "relative_luminance",
           "verdict_class", "verdict_css"]

# verdict -> colour on a light page, colour on a dark page. Same hues as before (green, amber, red,
# indigo); the light ones darker and the dark ones lighter until each clears 4.5:1 everywhere.
VERDICT_COLOURS = {
    "supported": {"light": "#2e7d32", "dark": "#81c784"},
    "partly supported": {"light": "#975a00", "dark": "#ffb74d"},
    "not supported": {"light": "#c62828", "dark": "#ef9a9a"},
    "inconclusive": {"light": "#3f51b5", "dark": "#9fa8da"},
}

# The backgrounds a verdict sits on, from pydata-sphinx-theme's CSS variables in each mode:
# --pst-color-background (the page), and the table stripes --pst-color-table-row-zebra-high-bg
# (--pst-color-on-background) and -zebra-low-bg (--pst-color-surface, also the table heading).
# In dark mode the theme puts HTML cell outputs on a light box (#ced6dd); grubook.css takes the
# claims tables and rules out of it, so they sit on the dark page like the rest of the text.
BACKGROUNDS = {
    "light": {"page": "#ffffff", "on-background": "#ffffff", "surface": "#f3f4f5"},
    "dark": {"page": "#14181e", "on-background": "#222832", "surface": "#29313d"},
}

AA_NORMAL_TEXT = 4.5          # WCAG 2, success criterion 1.4.3, text below 18 pt (14 pt bold)


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of an sRGB colour written ``#rrggbb``: 0 for black, 1 for white."""
    value = colour.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"expected a colour as #rrggbb, got {colour!r}")
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    # The sRGB transfer function undone, with the thresholds WCAG 2 gives.
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2's contrast ratio (L1 + 0.05) / (L2 + 0.05), L1 the lighter: from 1 to 21."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def verdict_class(verdict: str) -> str:
    """The CSS class that colours a verdict: ``verdict-partly-supported`` for "partly supported"."""
    if verdict not in VERDICT_COLOURS:
        raise ValueError(f"unknown verdict {verdict!r}; known: {sorted(VERDICT_COLOURS)}")
    return "verdict-" + verdict.replace(" ", "-")


def verdict_css() -> str:
    """The style sheet for the verdict classes: the light colours by default, the dark ones under
    pydata-sphinx-theme's ``html[data-theme="dark"]`` (which it also sets in "auto" mode).

    ``:root`` makes each rule outweigh the theme's table cell colour (``.table > :not(caption) >
    * > *``), which a bare class selector would lose to."""
    lines = ["/* Written by grubook.presentation.palette.verdict_css() at each build; edit the palette there. */"]
    for verdict, colours in VERDICT_COLOURS.items():
        lines.append(f":root .{verdict_class(verdict)} {{ color: {colours['light']}; }}")
    for verdict, colours in VERDICT_COLOURS.items():
        lines.append(f':root[data-theme="dark"] .{verdict_class(verdict)} {{ color: {colours["dark"]}; }}')
    return "\n".join(lines) + "\n"
