"""The text rules shared by the index and the query, and the highlighting of matches."""

from __future__ import annotations

from powercis.search import text
from powercis.search.templatetags.search_tags import highlight


def test_normalize_folds_width_case_controls_and_spaces():
    assert text.normalize("  ３１００ＡＢ\t张\x00伟\x1f  ") == "3100ab 张 伟"
    assert text.normalize(None) == "" and text.normalize("") == ""


def test_parse_splits_terms_and_reports_what_it_did_not_search():
    query = text.parse("张伟，幸福路 1 张伟  3100;5678 a b c d e f")
    assert query.terms == ("张伟", "幸福路", "3100", "5678")
    assert query.ignored == ("1", "a", "b", "c", "d", "e", "f")
    many = text.parse("aa bb cc dd ee ff gg")
    assert many.terms == ("aa", "bb", "cc", "dd", "ee") and many.ignored == ("ff", "gg")
    assert text.parse("x" * 500).terms == ("x" * text.MAX_TERM_LENGTH,)
    assert text.parse("  ").terms == ()


def test_bigrams_leave_out_ascii_pairs_and_spaces():
    assert text.bigrams("幸福路12号", "a张 b", "a-b 12") == {"幸福", "福路", "路1", "2号", "a张"}


def test_phone_tail_is_the_last_four_digits_only():
    assert text.phone_tail("138-1234-5678") == "5678"
    assert text.phone_tail("0716 555 2222") == "2222"
    assert text.phone_tail("123") == "" and text.phone_tail("") == ""


def test_highlight_marks_every_term_and_escapes_the_rest():
    assert highlight("<b>张伟</b>幸福路张伟", ("张伟", "福路")) == (
        "&lt;b&gt;<mark>张伟</mark>&lt;/b&gt;幸<mark>福路张伟</mark>")  # adjacent matches join
    assert highlight("ABC公司", ("bc",)) == "A<mark>BC</mark>公司"
    assert highlight("31000", ("100", "000")) == "3<mark>1000</mark>"  # overlapping matches merge
    assert highlight("<x>", ()) == "&lt;x&gt;"
