from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execrl.rewards.extract import compiles, extract_code


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


# -- fences, as a Markdown parser finds them (issue 19, hole 8) ---------------------------------------------


def _maps_back(response: str) -> None:
    """Every code character is the response character it maps to (joining newlines aside)."""
    extracted = extract_code(response)
    for offset, char in enumerate(extracted.code):
        assert response[extracted.response_offset(offset)] == char or char == "\n"


PROGRAM_WITH_FENCE_IN_STRING = 'def add(a, b):\n    return a + b\n\n\nFENCE = """\n```\n"""\n'


def test_a_fence_line_inside_a_string_does_not_end_the_block() -> None:
    response = f"Here:\n```python\n{PROGRAM_WITH_FENCE_IN_STRING}```\nIt adds."
    extracted = extract_code(response)
    assert extracted.code == PROGRAM_WITH_FENCE_IN_STRING
    assert _text(response, extracted.lines_span(7)) == '"""'
    _maps_back(response)


def test_fence_lines_around_code_in_a_string_and_a_block_after() -> None:
    program = 'def fence(code):\n    return """\n```\n""" + code + """\n```\n"""\n'
    response = f"```python\n{program}```\nand then:\n```python\nprint(fence('x'))\n```\n"
    assert extract_code(response).code == program + "print(fence('x'))\n"
    _maps_back(response)


def test_tilde_fences_and_markers_that_do_not_match() -> None:
    response = "~~~python\nx = '''\n~~~\n```\n'''\ny = 1\n~~~\nprose\n"
    # ``` cannot close a ~~~ block; the ~~~ inside the string does not end it either
    assert extract_code(response).code == "x = '''\n~~~\n```\n'''\ny = 1\n"
    response = "```\nx = 1\n~~~\n```\n"
    assert extract_code(response).code == "x = 1\n~~~\n"  # ~~~ does not close a ``` block


@pytest.mark.parametrize(
    ("opening", "python"),
    [
        ("```python", True),
        ("``` python", True),
        ("```Python3 title='solution.py'", True),
        ("```py {.numberLines}", True),
        ("~~~ py3", True),
        ("```", True),
        ("```bash", False),
        ("```text", False),
        ("````markdown", False),
    ],
)
def test_the_info_string_s_first_word_is_the_language(opening: str, python: bool) -> None:
    closing = opening[0] * (4 if opening.startswith("````") else 3)
    extracted = extract_code(f"Code:\n{opening}\nx = 1\n{closing}\nDone.\n")
    assert extracted.code == ("x = 1\n" if python else "")


def test_a_backtick_in_a_backtick_info_string_is_no_fence() -> None:
    response = "Use ```py`thon for this.\nx = 1\n"
    assert extract_code(response).code == "x = 1\n"  # no fence at all: the prose line is dropped


def test_nested_fences() -> None:
    outer_markdown = "````markdown\n```python\nx = 1\n```\n````\n"
    assert extract_code(outer_markdown).code == ""  # a Markdown example, not code
    outer_python = "````python\ns = '''\n```\n'''\n````\n"
    assert extract_code(outer_python).code == "s = '''\n```\n'''\n"  # ``` cannot close ````
    shorter_inner = "````\nx = 1\n```\ny = 2\n`````\n"
    assert extract_code(shorter_inner).code == "x = 1\n```\ny = 2\n"  # ````` closes ````


def test_closing_fence_rules() -> None:
    assert extract_code("```python\nx = 1\n```  \t\nprose\n").code == "x = 1\n"  # trailing blanks
    assert extract_code("```python\nx = 1\n   ```\nprose\n").code == "x = 1\n"  # three spaces
    assert extract_code("```python\nx = 1\n    ```\n").code == "x = 1\n    ```\n"  # four: content
    assert extract_code("```python\nx = 1\n``` no\ny = 2\n```\n").code == "x = 1\n``` no\ny = 2\n"


def test_an_indented_fence_removes_its_indentation_from_the_content() -> None:
    response = "1. Define it:\n   ```python\n   def f(x):\n       return x\n  y = 2\n   ```\n2. Done."
    extracted = extract_code(response)
    assert extracted.code == "def f(x):\n    return x\ny = 2\n"
    assert _text(response, extracted.lines_span(2)) == "return x"
    assert _text(response, extracted.position_span(3, 0, 3, 1)) == "y"
    _maps_back(response)
    assert extract_code("    ```python\n    x = 1\n    ```\n").code == "    ```python\n    x = 1\n    ```\n"


def test_only_python_line_breaks_split_lines() -> None:
    response = "```python\nx = 1  # a\u2028```\ny = 2\n```\n"
    assert extract_code(response).code == "x = 1  # a\u2028```\ny = 2\n"


def test_unclosed_fences() -> None:
    assert extract_code("```python\nx = 1\n").code == "x = 1\n"
    # the string's fence line would close it; the block that compiles runs to the end
    response = 'Sure:\n```python\ns = """\n```\n"""\nprint(s)\n'
    assert extract_code(response).code == 's = """\n```\n"""\nprint(s)\n'


def test_a_block_that_does_not_compile_ends_where_commonmark_ends_it() -> None:
    response = "```python\ndef f(:\n```\nSome prose.\n```python\nprint(1)\n```\n"
    assert extract_code(response).code == "def f(:\nprint(1)\n"
    # ~~~x is valid Python, but outside a string a fence line is a fence: CommonMark's answer stands
    assert extract_code("~~~python\nx = (1 +\n~~~\n2)\n~~~\n").code == "x = (1 +\n"


def test_many_fences_keep_commonmark_blocks_once_the_compile_budget_is_spent() -> None:
    response = "```python\n(\n```\n" * 2000
    extracted = extract_code(response, max_chars=len(response))
    assert extracted.code == "(\n" * 2000
    _maps_back(response[:3000])


_STRING_LINE = st.sampled_from(["```", "~~~", "````", "   ```", "```python", "x = 1", ""])
_STATEMENT = st.sampled_from(["x = 1", "y = 'é' * 2", "print('a')", "z = [1, 2]", "", "# note"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_STATEMENT, min_size=1, max_size=3),
    st.lists(_STRING_LINE, max_size=3),
    st.sampled_from(["```python", "```", "~~~py", "   ```python", "````"]),
)
def test_programs_with_fence_lines_in_strings_are_extracted_whole(lines, inner, opening) -> None:
    program = "\n".join(lines) + '\ns = """\n' + "\n".join(inner) + '\n"""\n'
    indent = " " * (len(opening) - len(opening.lstrip(" ")))
    body = "".join(f"{indent}{line}\n" if line else "\n" for line in program.split("\n")[:-1])
    marker = opening.strip()
    closing = indent + marker[0] * (len(marker) - len(marker.lstrip(marker[0])))
    response = f"Answer:\n{opening}\n{body}{closing}\nThat is all.\n"
    assert compiles(program)
    assert extract_code(response).code == program
    _maps_back(response)
