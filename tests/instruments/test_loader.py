"""The loader: bytes to a validated, cached instrument, or every problem located in one pass."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from instruments.checks import missing_translations
from instruments.errors import ErrorCode, InstrumentInvalid, Problem
from instruments.loader import (
    LoadedInstrument,
    clear_cache,
    library_files,
    load_instrument,
    load_instrument_file,
    load_library,
    parse_instrument,
)

WriteFile = Callable[[str, str | bytes], Path]


@pytest.fixture(autouse=True)
def cold_cache() -> Iterator[None]:
    """Each test starts and ends with an empty cache, so no test sees another's parse."""
    clear_cache()
    yield
    clear_cache()


def problems_of(data: bytes, filename: str = "mini.yaml") -> list[Problem]:
    with pytest.raises(InstrumentInvalid) as caught:
        parse_instrument(data, filename)
    return caught.value.problems


def test_valid_instrument_is_parsed_with_its_exact_text_and_sha256(mini_text: str) -> None:
    data = mini_text.encode("utf-8")
    loaded = parse_instrument(data, "mini.yaml")
    assert isinstance(loaded, LoadedInstrument)
    assert (loaded.key, loaded.version, loaded.path) == ("mini", "1", "mini.yaml")
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()
    assert loaded.text == mini_text
    assert loaded.instrument.title == {"en": "Mini coordination survey",
                                       "fr": "Mini-enquête sur la coordination"}
    (questionnaire,) = loaded.instrument.questionnaires
    assert [item.id for item in questionnaire.items] == ["q1", "q2", "q3"]
    assert questionnaire.items[1].relevant == "${q1} = 0"


def test_byte_order_mark_is_accepted_and_hashed_with_the_file(mini_text: str) -> None:
    data = b"\xef\xbb\xbf" + mini_text.encode("utf-8")
    loaded = parse_instrument(data, "mini.yaml")
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()
    assert loaded.text == mini_text


def test_same_bytes_are_parsed_once_until_the_cache_is_cleared(mini_text: str) -> None:
    data = mini_text.encode("utf-8")
    first = parse_instrument(data, "a.yaml")
    second = parse_instrument(data, "b.yaml")
    assert second.instrument is first.instrument
    assert (second.path, second.sha256) == ("b.yaml", first.sha256)

    clear_cache()
    third = parse_instrument(data, "a.yaml")
    assert third.instrument is not first.instrument
    assert third.instrument == first.instrument


def test_different_bytes_are_not_served_from_the_cache(mini_text: str) -> None:
    first = parse_instrument(mini_text.encode("utf-8"), "mini.yaml")
    edited = parse_instrument(mini_text.replace('version: "1"', 'version: "2"').encode(),
                              "mini.yaml")
    assert edited.version == "2"
    assert edited.sha256 != first.sha256
    assert edited.instrument is not first.instrument


def test_invalid_bytes_are_never_cached(mini_text: str) -> None:
    broken = mini_text.replace("scale: frequency", "scale: frequncy").encode()
    for _attempt in range(2):
        (problem,) = problems_of(broken)
        assert problem.code is ErrorCode.UNKNOWN_REFERENCE


def test_every_problem_is_reported_in_one_pass_sorted_by_line(mini_text: str) -> None:
    broken = (mini_text.replace("upper: 50\n", "upper: 40\n")
              .replace("scale: frequency", "scale: frequncy")
              .replace("items: [q1, q2, q3]", "items: [q1, q2, q4]"))
    problems = problems_of(broken.encode())
    assert [(p.line, p.column, p.code) for p in problems] == [
        (28, 9, ErrorCode.BAND_GAP),
        (57, 9, ErrorCode.UNKNOWN_REFERENCE),
        (72, 25, ErrorCode.UNKNOWN_REFERENCE),
    ]
    assert "did you mean `frequency`?" in problems[1].message


def test_instrument_invalid_carries_every_formatted_line(mini_text: str) -> None:
    broken = mini_text.replace("type: text", "type: essay").replace("level: function", "levl: x")
    with pytest.raises(InstrumentInvalid) as caught:
        parse_instrument(broken.encode(), "mini.yaml")
    lines = str(caught.value).splitlines()
    assert lines == [problem.format() for problem in caught.value.problems]
    assert [line.split(" ", 2)[:2] for line in lines] == [
        ["mini.yaml:40:5:", "I011"],
        ["mini.yaml:41:5:", "I010"],
        ["mini.yaml:60:9:", "I012"],
    ]


def test_problem_format_is_file_line_column_code_message() -> None:
    problem = Problem("x.yaml", 12, 5, ErrorCode.UNKNOWN_REFERENCE, "no node has the id `9`")
    assert problem.format() == "x.yaml:12:5: I021 no node has the id `9`"


def test_load_instrument_file_keeps_the_path(write_file: WriteFile, mini_text: str) -> None:
    path = write_file("mini.yaml", mini_text)
    loaded = load_instrument_file(path)
    assert loaded.path == str(path)
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_file_is_a_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(InstrumentInvalid) as caught:
        load_instrument_file(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(path), 1, 1)
    assert problem.message == "cannot read the file: No such file or directory"


def test_folder_given_as_a_file_is_a_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(InstrumentInvalid) as caught:
        load_instrument_file(tmp_path)
    (problem,) = caught.value.problems
    assert problem.message == "cannot read the file: Is a directory"


def test_library_files_are_the_top_level_yaml_files_sorted() -> None:
    files = library_files()
    names = [path.name for path in files]
    assert names == sorted(names)
    assert {"ccpm.yaml", "cpas-red.yaml"} <= set(names)
    # Parts of an instrument in library/_parts are not instruments of their own.
    assert all(path.parent.name == "library" and path.suffix in (".yaml", ".yml")
               for path in files)


def test_bundled_instrument_by_key() -> None:
    loaded = load_instrument("ccpm")
    assert loaded.key == "ccpm"
    ccpm_file = next(path for path in library_files() if path.name == "ccpm.yaml")
    assert loaded.sha256 == hashlib.sha256(ccpm_file.read_bytes()).hexdigest()
    assert load_library()["ccpm"].instrument is loaded.instrument


def test_instrument_by_path(write_file: WriteFile, mini_text: str) -> None:
    path = write_file("mini.yaml", mini_text)
    assert load_instrument(str(path)).key == "mini"


def test_misspelt_key_suggests_the_bundled_one() -> None:
    with pytest.raises(InstrumentInvalid) as caught:
        load_instrument("ccmp")
    (problem,) = caught.value.problems
    assert problem.format() == (
        "ccmp:1:1: I021 no bundled instrument has the key `ccmp` and no such file exists: "
        "did you mean `ccpm`?"
    )


def test_unrelated_key_lists_the_known_keys() -> None:
    with pytest.raises(InstrumentInvalid) as caught:
        load_instrument("zzzz")
    (problem,) = caught.value.problems
    known = ", ".join(sorted(load_library()))
    assert problem.message.endswith(f"known keys: {known}")


def test_missing_path_given_as_key_is_reported_as_a_file(tmp_path: Path) -> None:
    path = tmp_path / "draft.yaml"
    with pytest.raises(InstrumentInvalid) as caught:
        load_instrument(str(path))
    (problem,) = caught.value.problems
    assert problem.file == str(path)
    assert problem.message == "cannot read the file: No such file or directory"


def test_missing_translations_finds_a_text_without_french(mini_text: str) -> None:
    loaded = parse_instrument(mini_text.encode(), "mini.yaml")
    assert missing_translations(loaded.instrument, "fr") == []

    edited = mini_text.replace("label: {en: Always, fr: Toujours}", "label: Always")
    (issue,) = missing_translations(parse_instrument(edited.encode(), "mini.yaml").instrument,
                                    "fr")
    assert issue.code is ErrorCode.MISSING_TRANSLATION
    assert issue.location == ("scales", 0, "options", 1, "label")
    assert issue.message == (
        "scales[0].options[1].label has no `fr` text: add `fr: ...` beside `en:`"
    )


def test_missing_translations_for_a_language_never_promised(mini_text: str) -> None:
    loaded = parse_instrument(mini_text.encode(), "mini.yaml")
    issues = missing_translations(loaded.instrument, "es")
    assert {issue.code for issue in issues} == {ErrorCode.MISSING_TRANSLATION}
    assert [issue.location for issue in issues] == [
        ("title",),
        *[("scales", 0, "options", i, "label") for i in range(3)],
        *[("bands", 0, "bands", i, "label") for i in range(2)],
        ("nodes", 0, "title"),
        ("nodes", 0, "children", 0, "title"),
        ("questionnaires", 0, "title"),
        *[("questionnaires", 0, "items", i, "text") for i in range(3)],
        ("questionnaires", 0, "pages", 0, "title"),
    ]


def test_unquoted_version_is_not_silently_changed(mini_text: str) -> None:
    data = mini_text.replace('version: "1"', "version: 1.10").encode()
    try:
        loaded = parse_instrument(data, "mini.yaml")
    except InstrumentInvalid as error:
        (problem,) = error.problems
        assert (problem.line, problem.column, problem.code) == (2, 1, ErrorCode.INVALID_VALUE)
    else:
        assert loaded.version == "1.10"


def test_yaml_merge_key_is_read_as_yaml_defines_it(mini_text: str) -> None:
    data = mini_text.replace(
        "      - id: q3\n        type: number\n",
        "      - &counted\n        id: q3\n        type: number\n",
    ).replace("    pages:\n", "      - <<: *counted\n        id: q4\n    pages:\n")
    data = data.replace("items: [q1, q2, q3]", "items: [q1, q2, q3, q4]")
    loaded = parse_instrument(data.encode(), "mini.yaml")
    q3, q4 = loaded.instrument.questionnaires[0].items[2:]
    assert q4.id == "q4"
    assert (q4.type, q4.maximum, q4.text) == (q3.type, q3.maximum, q3.text)
