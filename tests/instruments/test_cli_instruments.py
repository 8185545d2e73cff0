"""``surveyapp instruments``: list, show, validate --codes, --require-lang and folders."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result

from instruments.errors import ErrorCode
from instruments.loader import library_files, load_instrument, load_instrument_file
from instruments.schema import Instrument
from surveyapp.commands.instruments import command

WriteFile = Callable[[str, str | bytes], Path]

LIST_ROW = re.compile(r"(?P<key>\S+)\s+(?P<version>\S+)\s+(?P<sha256>[0-9a-f]{64})  (?P<title>.+)")


def run(*arguments: str) -> Result:
    return CliRunner().invoke(command, list(arguments))


def test_list_prints_key_version_sha256_and_title_of_each_bundled_file() -> None:
    result = run("list")
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["key", "version", "sha256", "title"]
    listed = []
    for row in rows:
        match = LIST_ROW.fullmatch(row)
        assert match, row
        listed.append((match["key"], match["version"], match["sha256"], match["title"]))
    expected = []
    for path in library_files():
        loaded = load_instrument_file(path)
        expected.append((loaded.key, loaded.version, loaded.sha256, loaded.instrument.title["en"]))
    assert listed == expected


def test_show_json_is_the_instrument_with_its_sha256() -> None:
    result = run("show", "ccpm", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    loaded = load_instrument("ccpm")
    assert document["sha256"] == loaded.sha256
    assert document["instrument"]["key"] == "ccpm"
    # The JSON holds the whole instrument: it validates back to the same model.
    assert Instrument.model_validate(document["instrument"]) == loaded.instrument


def test_show_json_of_a_file_keeps_the_crosswalk_aliases(write_file: WriteFile,
                                                          mini_text: str) -> None:
    text = mini_text.replace('version: "1"', 'version: "2"') + (
        'crosswalk:\n  - from_version: "1"\n    entries:\n      - {from: q0, to: q1}\n'
    )
    path = write_file("mini.yaml", text)
    document = json.loads(run("show", str(path), "--json").output)
    assert document["instrument"]["crosswalk"] == [
        {"from_version": "1", "entries": [{"from": "q0", "to": "q1"}]}
    ]


def test_show_prints_a_summary(write_file: WriteFile, mini_text: str) -> None:
    path = write_file("mini.yaml", mini_text)
    result = run("show", str(path))
    assert result.exit_code == 0, result.output
    sha256 = load_instrument_file(path).sha256
    assert result.output.splitlines() == [
        "mini 1: Mini coordination survey",
        f"sha256 {sha256}; languages en, fr",
        "  1 Meetings  [percent]",
        "    1.1 Frequency  [percent]",
        "questionnaire coordinator (coordinator): 3 items",
    ]


def test_show_unknown_key_suggests_one() -> None:
    result = run("show", "cpas")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("cpas:1:1: I021 no bundled instrument has the key `cpas`")
    assert "did you mean `cpas-red`?" in result.stderr


def test_validate_codes_prints_the_code_table() -> None:
    result = run("validate", "--codes")
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"{code.code}  {code.meaning}" for code in ErrorCode]
    codes = [code.code for code in ErrorCode]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"I\d{3}", code) for code in codes)


def test_require_lang_lists_every_text_without_french(write_file: WriteFile,
                                                      mini_text: str) -> None:
    text = (mini_text
            .replace("label: {en: Always, fr: Toujours}", "label: Always")
            .replace("title: {en: Frequency, fr: Fréquence}", "title: {en: Frequency}")
            .replace('"Why do they never meet?", fr: "Pourquoi ne se réunissent-ils jamais ?"',
                     '"Why do they never meet?"'))
    path = write_file("mini.yaml", text)
    assert run("validate", str(path)).exit_code == 0

    result = run("validate", "--require-lang", "fr", str(path))
    assert result.exit_code == 1
    hint = "has no `fr` text: add `fr: ...` beside `en:`"
    assert result.output.splitlines() == [
        f"{path}:14:9: I060 scales[0].options[1].label {hint}",
        f"{path}:47:9: I060 nodes[0].children[0].title {hint}",
        f"{path}:62:9: I060 questionnaires[0].items[1].text {hint}",
    ]


def test_require_lang_is_repeatable_and_silent_when_complete(write_file: WriteFile,
                                                             mini_text: str) -> None:
    path = write_file("mini.yaml", mini_text)
    assert run("validate", "--require-lang", "fr", str(path)).output == (
        "1 instrument file(s) valid\n"
    )
    result = run("validate", "--require-lang", "fr", "--require-lang", "es", str(path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 13  # every text of the file: none has Spanish
    assert lines[0] == (f"{path}:3:1: I060 title has no `es` text: add `es: ...` beside `en:`")


def test_validate_a_folder_checks_every_yaml_file_in_it(write_file: WriteFile,
                                                       mini_text: str, tmp_path: Path) -> None:
    write_file("a.yaml", mini_text)
    write_file("nested/b.yml", mini_text.replace("key: mini", "key: other"))
    write_file("notes.txt", "not an instrument")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output == "2 instrument file(s) valid\n"

    broken = write_file("nested/c.yaml", mini_text.replace("level: function", "level: [x]"))
    result = run("validate", str(tmp_path))
    assert result.exit_code == 1
    assert result.output == (
        f"{broken}:41:5: I012 nodes[0].level: Input should be a valid string (got a list)\n"
    )


def test_validate_several_paths_reports_each_problem(write_file: WriteFile,
                                                     mini_text: str, tmp_path: Path) -> None:
    good = write_file("good.yaml", mini_text)
    empty = write_file("empty.yaml", "")
    missing = tmp_path / "missing.yaml"
    result = run("validate", str(good), str(empty), str(missing))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{empty}:1:1: I001 the file is empty: start from the worked example in "
        "instruments/README.md",
        f"{missing}:1:1: I000 cannot read the file: No such file or directory",
    ]
