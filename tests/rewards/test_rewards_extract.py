from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from execrl.rewards.extract import extract_code


def _text(response: str, span: tuple[int, int]) -> str:
    return response[span[0] : span[1]]


def test_single_fenced_block_maps_lines_back() -> None:
    response = "Here you go:\n```python\nimport os\ndef f(x):\n    return x + 1\n```\nIt adds one."
    extracted = extract_code(response)
    assert extracted.code == "import os\ndef f(x):\n    return x + 1\n"
    assert _text(response, extracted.lines_span(3)) == "return x + 1"
    assert _text(response, extracted.position_span(1, 7, 1, 9)) == "os"
    assert extracted.notes == ()


def test_several_blocks_join_and_other_languages_are_skipped() -> None:
    response = (
        "First:\n```py\ndef f():\n    return 1\n```\nRun it:\n```bash\npip install x\n```\n"
        "Then:\n```\nprint(f())\n```\n"
    )
    extracted = extract_code(response)
    assert extracted.code == "def f():\n    return 1\nprint(f())\n"
    assert "pip" not in extracted.code
    assert _text(response, extracted.lines_span(3)) == "print(f())"
    assert _text(response, extracted.lines_span(1, 3)).startswith("def f():")


def test_unterminated_fence_runs_to_the_end() -> None:
    response = "```python\nx = 1\ny = (x +"
    extracted = extract_code(response)
    assert extracted.code == "x = 1\ny = (x +"
    assert _text(response, extracted.lines_span(2)) == "y = (x +"


def test_plain_code_with_stray_prose_drops_the_prose() -> None:
    response = "Sure! Here is the function.\ndef f(x):\n    return 2 * x\nThis doubles x.\n"
    extracted = extract_code(response)
    assert extracted.code == "def f(x):\n    return 2 * x\n"
    assert _text(response, extracted.lines_span(1)) == "def f(x):"


def test_plain_code_that_compiles_is_kept_whole() -> None:
    response = "x = 1\nprint(x)"
    assert extract_code(response).code == response


def test_crlf_and_lone_cr_are_line_breaks() -> None:
    response = "```python\r\nx = 1\r\ny = 2\rz = 3\r\n```"
    extracted = extract_code(response)
    assert extracted.line_count == 4  # the last, empty line follows the final \r\n
    assert _text(response, extracted.lines_span(3)) == "z = 3"


def test_empty_and_prose_only_responses_have_no_code() -> None:
    for response in ("", "   \n", "I am sorry, I cannot help with that."):
        extracted = extract_code(response)
        assert not extracted.has_code
        assert [n.rule for n in extracted.notes] == ["no-code"]
        assert extracted.code_span() == (0, len(response))


def test_bytes_that_are_not_utf8_are_decoded_with_replacement() -> None:
    extracted = extract_code(b"x = '\xff\xfe'\n")
    assert extracted.has_code
    assert "\ufffd" in extracted.code


def test_lone_surrogates_become_replacement_characters_at_the_same_offsets() -> None:
    response = "x = '\ud800'\ny = 2"
    extracted = extract_code(response)
    assert extracted.code == "x = '\ufffd'\ny = 2"
    assert [(n.rule, n.start) for n in extracted.notes] == [("invalid-unicode", 5)]
    assert _text(response, extracted.lines_span(2)) == "y = 2"


def test_gigantic_response_is_cut_with_a_note_on_the_tail() -> None:
    response = "x = 1\n" * 10_000
    extracted = extract_code(response, max_chars=1000)
    assert extracted.truncated
    assert len(extracted.code) == 1000
    (note,) = extracted.notes
    assert (note.rule, note.start, note.end) == ("response-too-long", 1000, len(response))


_CODE_LINE = st.from_regex(r"[a-z_ (=+)é0-9]{0,12}", fullmatch=True)
_PROSE = st.from_regex(r"[A-Za-z ,.!]{0,20}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_PROSE, st.lists(_CODE_LINE, min_size=1, max_size=4)), min_size=1, max_size=3))
def test_every_code_character_maps_to_the_same_response_character(blocks) -> None:
    response = "".join(f"{prose}\n```python\n" + "\n".join(lines) + "\n```\n" for prose, lines in blocks)
    extracted = extract_code(response)
    for offset, char in enumerate(extracted.code):
        mapped = extracted.response_offset(offset)
        assert response[mapped] == char or char == "\n"
