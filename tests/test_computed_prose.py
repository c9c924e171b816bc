"""The Chinese edition's computed prose (grubook.presentation.computed_prose): templates whose
placeholders carry the English sentence's own numbers, and the committed catalog of them."""

import re

import pytest

from grubook.presentation import computed_prose as cp
from grubook.presentation.editions import LANGUAGE


@pytest.mark.parametrize("sentence, expected", [
    ("The LSTM's reach is above the GRU's (7.1 [0.8, 13.4], paired 95 % interval over seeds).",
     "The LSTM's reach is above the GRU's ({0} [{1}, {2}], paired {3} % interval over seeds)."),
    ("below (−0.048 [−0.058, −0.038]), ±0.02, 1,029 series, 1.2e-07 and float32", 
     "below ({0} [{1}, {2}]), {3}, {4} series, {5} and float32"),
    ("As printed it raises `IndexError: no such message` at T = 200.", "As printed it raises {0} at T = {1}."),
    ("partly\u00a0supported", "partly supported"),
])
def test_a_template_holds_each_number_and_code_span_as_a_placeholder(sentence, expected):
    key, values = cp.template(sentence)
    assert key == expected
    assert cp.fill(key, values) == sentence.replace("\u00a0", " ")


def test_sentences_end_at_their_stop_not_at_an_abbreviation_or_a_decimal_point():
    text = ("**Findings.** The GRU solved 5 of 5 seeds (e.g. seed 3. Not all). Rates 0.5 vs. 0.7 held. "
            "*Rule.* Done!")
    assert cp.sentences(text) == ["**Findings.**", "The GRU solved 5 of 5 seeds (e.g. seed 3.", "Not all).",
                                  "Rates 0.5 vs. 0.7 held.", "*Rule.*", "Done!"]


CATALOG = {"The LSTM's reach is above the GRU's ({0} [{1}, {2}], paired {3} % interval over seeds).":
           "LSTM的识别上限高于GRU（{0} [{1}, {2}]，按种子配对的{3}%区间）。",
           "The GRU needed {0} steps, the LSTM {1}.": "LSTM需要{1}步，GRU需要{0}步。",
           "claim": "论断"}


def test_a_translation_carries_the_english_numbers_in_its_own_order():
    t = cp.Translator(CATALOG, LANGUAGE)
    assert t.text("The GRU needed 1,200 steps, the LSTM 950.") == "LSTM需要950步，GRU需要1,200步。"
    # After a Chinese sentence no space; an untranslated sentence stays English and is recorded.
    assert (t.text("The GRU needed 3 steps, the LSTM 4. The LSTM's reach is above the GRU's (7.1 [0.8, 13.4], "
                   "paired 95 % interval over seeds). Nothing else.")
            == "LSTM需要4步，GRU需要3步。LSTM的识别上限高于GRU（7.1 [0.8, 13.4]，按种子配对的95%区间）。Nothing else.")
    assert t.missing == {"Nothing else."}
    # grubook's fixed words come from editions.VOCABULARY, also inside emphasis and brackets, so
    # a flipped verdict never lacks its word; numbers alone are not prose.
    assert t.text("below (−0.048 [−0.058, −0.038])") == "低于（−0.048 [−0.058, −0.038]）"
    assert t.text("**inconclusive**") == "**无定论**" and t.text("(not supported)**") == "（不支持）**"
    assert t.text(" The GRU needed 3 steps, the LSTM 4.") == " LSTM需要4步，GRU需要3步。"     # one leading space
    assert t.text("0.12 (GRU)") == "0.12 (GRU)" and t.missing == {"Nothing else."}
    assert t.seen == {"Nothing else.", "The GRU needed {0} steps, the LSTM {1}.",
                      "The LSTM's reach is above the GRU's ({0} [{1}, {2}], paired {3} % interval over seeds)."}


def test_html_is_translated_between_its_tags_and_in_the_labels_a_screen_reader_reads():
    t = cp.Translator(CATALOG, LANGUAGE)
    html = ("<div aria-label='claim'><table><tr><th>claim</th><td class='verdict-supported'>supported</td>"
            "<td>The GRU needed 3 steps, the LSTM 4 &amp; more.</td></tr></table></div>")
    assert t.html(html) == ("<div aria-label='论断'><table><tr><th>论断</th><td class='verdict-supported'>支持</td>"
                            "<td>The GRU needed 3 steps, the LSTM 4 &amp; more.</td></tr></table></div>")
    assert t.missing == {"The GRU needed {0} steps, the LSTM {1} & more."}


def test_markdown_is_translated_by_table_cell_and_after_list_markers():
    t = cp.Translator(CATALOG, LANGUAGE)
    md = "| claim | verdict |\n|---|---|\n| claim | **supported** |\n\n1. The GRU needed 3 steps, the LSTM 4.\n   - claim"
    assert t.markdown(md) == ("| 论断 | verdict |\n|---|---|\n| 论断 | **支持** |\n\n"
                              "1. LSTM需要4步，GRU需要3步。\n   - 论断")
    assert t.missing == {"verdict"}


def test_only_outputs_grubook_marks_as_prose_are_translated():
    t = cp.Translator(CATALOG, LANGUAGE)
    glued = {"output_type": "display_data", "data": {"application/papermill.record/text/plain": "'claim'"},
             "metadata": cp.prose_metadata() | {"scrapbook": {"name": "k", "mime_prefix": "application/papermill.record/"}}}
    printed = {"output_type": "stream", "text": "claim"}
    table = {"output_type": "display_data", "data": {"text/html": "<td>claim</td>", "text/plain": "claim"}, "metadata": {}}
    for output in (glued, printed, table):
        cp.translate_output(output, t)
    assert glued["data"]["application/papermill.record/text/plain"] == "'论断'"
    assert printed["text"] == "claim" and table["data"]["text/html"] == "<td>claim</td>"


def test_a_glued_string_and_a_table_are_marked_as_prose():
    from IPython.core.formatters import format_display_data

    from grubook.presentation.tables import TwoFormats

    for value, mime in ((cp.Prose("above"), "text/plain"), (cp.Prose("**F.**", markdown=True), "text/markdown"),
                        (TwoFormats("<p>x</p>", "x"), "text/html")):
        data, metadata = format_display_data(value)
        assert mime in data and cp.is_prose({"metadata": metadata}), (value, data, metadata)
    assert format_display_data(cp.Prose("above"))[0]["text/plain"] == "'above'"     # as glue:text reads a str


# --------------------------------------------------------------------------- the committed catalog


def committed():
    from babel.messages.pofile import read_po

    with cp.catalog_path(LANGUAGE).open("rb") as f:
        return [m for m in read_po(f) if m.id]


def test_every_committed_translation_keeps_its_placeholders_and_chinese_typography():
    messages = committed()
    assert len(messages) > 300
    for m in messages:
        assert m.string and not m.fuzzy, f"untranslated or fuzzy in computed.po: {m.id[:70]}"
        assert sorted(re.findall(r"\{\d+\}", m.id)) == sorted(re.findall(r"\{\d+\}", m.string)), m.id[:70]
        if re.search("[\u4e00-\u9fff]", m.string):
            # No space between Chinese and a placeholder, and full-width commas and stops after Chinese.
            assert not re.search(r"[\u4e00-\u9fff] \{\d+\}|\{\d+\} [\u4e00-\u9fff]", m.string), m.string
            assert not re.search(r"[\u4e00-\u9fff][,.;:](?:\s|$)", m.string), m.string


def test_no_committed_translation_types_a_number_its_english_template_does_not_have():
    """A number reaches a Chinese sentence through a placeholder, from the English one, or it is
    written in both (a translation that types one would show a number nothing computed)."""
    numbers = lambda text: sorted(re.findall(cp.NUMBER, cp.PLACEHOLDER.sub("", text)))
    typed = [(m.id[:60], m.string[:60]) for m in committed() if numbers(m.id) != numbers(m.string)]
    assert not typed, typed


def emphasis(text: str) -> tuple[int, int]:
    """How many emphasised and strong spans CommonMark (markdown-it, as MyST parses) finds."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").renderInline(text)
    return html.count("<em>"), html.count("<strong>")


def test_every_committed_translation_keeps_its_emphasis():
    """CommonMark does not close ``*`` or ``**`` after a full-width stop and before a character
    ("*临界。*没有" shows its asterisks); the stop goes after the marker ("*临界*。没有")."""
    filled = lambda text: cp.PLACEHOLDER.sub("0", text)        # as the page shows it: a number in each
    lost = [m.string[:50] for m in committed() if emphasis(filled(m.id)) != emphasis(filled(m.string))]
    assert not lost, lost


def test_no_committed_translation_uses_a_term_the_glossary_avoids():
    from grubook.presentation.editions import TERMS

    avoided = [a for _, _, avoid in TERMS for a in avoid]
    for m in committed():
        assert not [a for a in avoided if a in m.string], m.string
