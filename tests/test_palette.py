"""The verdict colours reach WCAG 2 AA contrast on every background they sit on, in both modes."""

import re
from pathlib import Path

import pytest

from grubook.presentation import palette

ROOT = Path(__file__).resolve().parents[1]


def test_contrast_ratio_matches_wcag_reference_values():
    # The extremes and values WCAG's own examples and common checkers give.
    assert palette.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert palette.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert palette.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)   # the lightest grey passing AA on white
    # The failures the accessibility issue reported, as axe-core measured them.
    assert palette.contrast_ratio("#5c6bc0", "#f3f4f5") == pytest.approx(4.41, abs=0.01)
    assert palette.contrast_ratio("#b26a00", "#ffffff") == pytest.approx(4.23, abs=0.01)
    assert palette.contrast_ratio("#00d7ff", "#f3f4f5") == pytest.approx(1.56, abs=0.01)
    # Symmetric in its arguments.
    assert palette.contrast_ratio("#2e7d32", "#29313d") == palette.contrast_ratio("#29313d", "#2e7d32")
    with pytest.raises(ValueError, match="#rrggbb"):
        palette.contrast_ratio("red", "#ffffff")


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("verdict", list(palette.VERDICT_COLOURS))
def test_every_verdict_colour_reaches_aa_on_every_background_of_its_mode(verdict, mode):
    colour = palette.VERDICT_COLOURS[verdict][mode]
    low = {name: round(palette.contrast_ratio(colour, background), 2)
           for name, background in palette.BACKGROUNDS[mode].items()
           if palette.contrast_ratio(colour, background) < palette.AA_NORMAL_TEXT}
    assert not low, f"{verdict} ({colour}) in {mode} mode falls below 4.5:1 on {low}"


def test_the_palette_covers_every_verdict_the_claims_can_give():
    from grubook.verdicts import claims

    assert set(palette.VERDICT_COLOURS) == {claims.SUPPORTED, claims.PARTLY, claims.NOT_SUPPORTED, claims.INCONCLUSIVE}


def test_backgrounds_are_the_themes():
    """The backgrounds checked above are the ones pydata-sphinx-theme's CSS defines for each mode."""
    import pydata_sphinx_theme

    css = (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static" / "styles"
           / "pydata-sphinx-theme.css").read_text()

    def variables(mode):
        block = re.search(r"html\[data-theme=" + mode + r"\]\{([^}]*)\}", css).group(1)
        return {m[0]: m[1] for m in re.findall(r"--pst-color-([a-z-]+):(#[0-9a-f]{3,6})\b", block)}

    def full(colour):
        return "#" + "".join(c * 2 for c in colour[1:]) if len(colour) == 4 else colour

    for mode in ("light", "dark"):
        theme = variables(mode)
        assert {name: full(theme[name]) for name in ("background", "on-background", "surface")} == {
            "background": palette.BACKGROUNDS[mode]["page"],
            "on-background": palette.BACKGROUNDS[mode]["on-background"],
            "surface": palette.BACKGROUNDS[mode]["surface"]}, mode


def test_the_css_gives_each_verdict_its_colour_in_each_mode():
    css = palette.verdict_css()
    for verdict, colours in palette.VERDICT_COLOURS.items():
        name = palette.verdict_class(verdict)
        assert f":root .{name} {{ color: {colours['light']}; }}" in css
        assert f':root[data-theme="dark"] .{name} {{ color: {colours["dark"]}; }}' in css
    assert palette.verdict_class("partly supported") == "verdict-partly-supported"
    with pytest.raises(ValueError, match="unknown verdict"):
        palette.verdict_class("plausible")
