"""``surveyapp xlsform export``: valid XLSForms with the instrument's codes, logic and languages.

Rules (issue "Work with the tools our users already have", XLSForm export; XLSForm column
semantics from /work/shared/reference/peers.md section 3):

- XF1 every questionnaire of the bundled instruments converts with pyxform, without error
      and without warning
- XF2 sheets survey, choices and settings; settings form_title, form_id = KEY_QUESTIONNAIRE,
      version = the instrument's, default_language in ODK's "English (en)" form
- XF3 labels (and hints, constraint messages) in every language of the instrument; a text
      without a translation shows its English rather than nothing
- XF4 choice lists carry exactly the instrument's option codes; stage items offer the
      node's stages with their descriptors
- XF5 skip logic copied, item ids renamed to form names; required items required
- XF6 ids that are not XML names are mapped one to one (1.1.rationale -> q1_1_rationale),
      the original id kept in the surveyapp_id column
- XF7 items asked per framework node sit in a repeat per level, with code, title and parent
- XF8 numbers and texts carry their bounds as constraints; "not applicable", comments and
      rubric justifications get their own questions
- XF9 what XLSForm cannot hold is refused with a message, never a traceback
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from instruments.loader import library_files, load_instrument, load_instrument_file
from instruments.schema import Instrument
from instruments.xlsform import XLSFORM_NAME, ExportRefused, XLSForm, build_xlsform
from surveyapp.commands.interop import xlsform

DATA = Path(__file__).parent / "data"
XFORMS = "{http://www.w3.org/2002/xforms}"

QUESTIONNAIRES = [(load_instrument_file(path).key, questionnaire.id)
                  for path in library_files()
                  for questionnaire in load_instrument_file(path).instrument.questionnaires]


def form_of(key: str, questionnaire: str | None = None) -> XLSForm:
    return build_xlsform(load_instrument(key).instrument, questionnaire)


def sheets(form: XLSForm) -> dict[str, list[tuple[object, ...]]]:
    """The workbook as written: every sheet's rows."""
    workbook = load_workbook(io.BytesIO(form.workbook_bytes()), read_only=True)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in workbook.worksheets}


def records(rows: list[tuple[object, ...]]) -> list[dict[str, object]]:
    header = [str(cell) for cell in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def binds(form: XLSForm) -> dict[str, dict[str, str]]:
    """The XForm pyxform makes of the form: each bind's attributes by node path."""
    xform = convert(io.BytesIO(form.workbook_bytes()), file_type=".xlsx").xform
    tree = ElementTree.fromstring(xform)
    return {bind.attrib["nodeset"]: bind.attrib for bind in tree.iter(f"{XFORMS}bind")}


@pytest.mark.parametrize(("key", "questionnaire"), QUESTIONNAIRES)
def test_every_bundled_questionnaire_converts_with_pyxform(key: str, questionnaire: str) -> None:
    """XF1: pyxform builds the XForm and has nothing to warn about."""
    warnings: list[str] = []
    result = convert(io.BytesIO(form_of(key, questionnaire).workbook_bytes()),
                     warnings=warnings, file_type=".xlsx")
    assert warnings == []
    assert f'id="{key}_{questionnaire}"' in result.xform


def test_all_six_questionnaires_are_exported() -> None:
    assert sorted(QUESTIONNAIRES) == [
        ("ccpm", "coordinator"), ("ccpm", "partner"), ("cpas-red", "red"),
        ("jiu-rbm", "outcomes"), ("jiu-rbm", "self_assessment"), ("jiu-rbm", "validation")]


def test_settings_and_language_columns() -> None:
    """XF2, XF3: the settings row; a label column per language on both sheets."""
    workbook = sheets(form_of("ccpm", "partner"))
    assert list(workbook) == ["survey", "choices", "settings"]
    assert records(workbook["settings"]) == [{
        "form_title": "CCPM questionnaire for cluster partners", "form_id": "ccpm_partner",
        "version": "2015.2", "default_language": "English (en)"}]
    survey_header, choices_header = workbook["survey"][0], workbook["choices"][0]
    assert {"label::English (en)", "label::French (fr)", "required", "relevant"} <= set(
        survey_header)
    assert {"hint::English (en)", "hint::French (fr)", "constraint_message::English (en)",
            "constraint_message::French (fr)"} <= set(
        sheets(form_of("ccpm", "coordinator"))["survey"][0])
    assert choices_header == ("list_name", "name", "label::English (en)", "label::French (fr)")


def test_untranslated_texts_show_their_english() -> None:
    """XF3: JIU's English-only rationale question is not blank in the French column."""
    rows = records(sheets(form_of("jiu-rbm", "self_assessment"))["survey"])
    rationale = next(row for row in rows if row["name"] == "q1_1_rationale")
    assert rationale["label::French (fr)"] == rationale["label::English (en)"]
    assert str(rationale["label::English (en)"]).startswith("Why does this stage fit")
    stage = next(row for row in rows if row["name"] == "q1_1")
    assert str(stage["label::French (fr)"]).startswith("Quel stade décrit le mieux")


def test_choice_lists_carry_the_instrument_codes() -> None:
    """XF4: each select question offers exactly its item's option codes, in order."""
    instrument = load_instrument("ccpm").instrument
    scales = {scale.id: scale.options for scale in instrument.scales}
    for questionnaire in instrument.questionnaires:
        workbook = sheets(build_xlsform(instrument, questionnaire.id))
        lists: dict[str, list[str]] = {}
        for row in records(workbook["choices"]):
            lists.setdefault(str(row["list_name"]), []).append(str(row["name"]))
        kinds = {row["name"]: str(row["type"]) for row in records(workbook["survey"])}
        for item in questionnaire.items:
            if item.type != "single_choice":
                continue
            list_name = kinds[item.id].removeprefix("select_one ")
            codes = [str(option.code) for option in item.options or scales[str(item.scale)]]
            assert lists[list_name] == codes, item.id


def test_stage_items_offer_the_stages_with_their_descriptors() -> None:
    """XF4: JIU component 1.1: stages 1-5, each labelled with title and descriptor."""
    instrument = load_instrument("jiu-rbm").instrument
    node = instrument.nodes[0].children[0]
    choices = [row for row in records(sheets(form_of("jiu-rbm", "validation"))["choices"])
               if row["list_name"] == "stages_1_1"]
    assert [row["name"] for row in choices] == ["1", "2", "3", "4", "5"]
    for row, stage in zip(choices, node.stages, strict=True):
        assert row["label::English (en)"] == (
            f"{stage.stage}. {stage.title['en']} — {stage.descriptor['en']}")
        assert row["label::French (fr)"] == (
            f"{stage.stage}. {stage.title['fr']} — {stage.descriptor['fr']}")


def test_skip_logic_and_required_reach_the_xform() -> None:
    """XF5: CCPM's `${q221} = 4` and the required organisation type, as pyxform binds them."""
    bound = binds(form_of("ccpm", "partner"))
    assert bound["/data/node_2/node_2_2/q222_1"]["relevant"].split() == [
        "/data/node_2/node_2_2/q221", "=", "4"]
    assert bound["/data/q012"]["required"] == "true()"
    assert "required" not in bound["/data/node_1/node_1_1/q111"]


def test_jiu_ids_are_mapped_to_names_one_to_one() -> None:
    """XF6: valid, unique names; the original id beside each."""
    rows = records(sheets(form_of("jiu-rbm", "self_assessment"))["survey"])
    named = {row["name"]: row["surveyapp_id"] for row in rows if row.get("surveyapp_id")}
    assert named["q1_1"] == "1.1"
    assert named["q1_1_rationale"] == "1.1.rationale"
    assert named["q4_2_a3"] == "4.2.a3"
    names = [row["name"] for row in rows if row["name"]]
    assert len(names) == len(set(names))
    assert all(XLSFORM_NAME.match(str(name)) for name in names)
    items = load_instrument("jiu-rbm").instrument.questionnaires[0].items
    assert sorted(named.values()) == sorted(item.id for item in items)


def test_cpas_items_are_asked_in_a_repeat_per_level() -> None:
    """XF7: outputs, outcomes, impacts: code, title, parent; relevance relative to the output."""
    rows = records(sheets(form_of("cpas-red"))["survey"])
    repeats = [row["name"] for row in rows if row["type"] == "begin_repeat"]
    assert repeats == ["framework_output", "framework_outcome", "framework_impact"]
    names = [row["name"] for row in rows]
    start = names.index("framework_output")
    assert names[start + 1:start + 5] == ["output_id", "output_title", "output_parent",
                                          "output_section"]
    assert "impact_parent" not in names
    bound = binds(form_of("cpas-red"))
    assert bound["/data/framework_output/recommendation_owner"]["relevant"].split() == [
        "../recommendation", "!=", "1"]
    assert bound["/data/framework_output/output_id"]["required"] == "true()"
    assert bound["/data/framework_output/red__relevance__why"]["required"] == "true()"


def test_every_item_type_is_exported() -> None:
    """XF8: yes/no, n/a with its reason, comment, bounds, date, rubric, long text, pages."""
    instrument = load_instrument_file(DATA / "every_type.yaml").instrument
    form = build_xlsform(instrument)
    rows = {row["name"]: row for row in records(sheets(form)["survey"])}
    assert rows["ok"]["type"] == "select_one surveyapp_yes_no"
    assert rows["stage"]["type"] == "select_one stage"
    assert rows["agree__applies"]["relevant"] == "${stage} = 2"
    assert rows["agree"]["relevant"] == "(${stage} = 2) and ${agree__applies} != 'no'"
    assert rows["agree__why_not"]["label::French (fr)"] == "Pourquoi est-ce sans objet ?"
    assert rows["agree__why_not"]["required"] == "yes"
    assert rows["agree__comment"]["relevant"] == rows["agree"]["relevant"]
    assert (rows["staff_count"]["type"], rows["staff_count"]["constraint"]) == (
        "integer", ". >= 0 and . <= 500")
    assert rows["staff_count"]["constraint_message::French (fr)"] == (
        "Saisissez un nombre de 0 à 500.")
    assert (rows["share"]["type"], rows["share"]["constraint"]) == ("decimal", ". >= 0.5")
    assert rows["due"]["type"] == "date"
    assert rows["due__applies"]["label::English (en)"] == "Does the next question apply?"
    assert rows["rating"]["type"] == "note"
    assert rows["rating__quality"]["type"] == "select_one rating__quality"
    assert rows["rating__quality__why"]["relevant"] == "${rating__quality} != ''"
    assert rows["other"]["constraint"] == "string-length(.) <= 300"
    assert rows["other"]["appearance"] == "multiline"
    assert rows["page_first"]["appearance"] == "field-list"
    warnings: list[str] = []
    convert(io.BytesIO(form.workbook_bytes()), warnings=warnings, file_type=".xlsx")
    assert warnings == []


def test_groups_follow_the_node_tree() -> None:
    """CCPM: function groups hold sub-function pages; a function's comment sits in its group."""
    rows = records(sheets(form_of("ccpm", "coordinator"))["survey"])
    opened: list[str] = []
    parents: dict[str, tuple[str, ...]] = {}
    for row in rows:
        kind, name = str(row["type"]), str(row["name"] or "")
        if kind.startswith("begin_"):
            opened.append(name)
        elif kind.startswith("end_"):
            opened.pop()
        else:
            parents[name] = tuple(opened)
    assert parents["q111"] == ("node_1", "node_1_1")
    assert parents["q124"] == ("node_1",)
    assert parents["q81"] == ()
    pages = {str(row["name"]) for row in rows if row.get("appearance") == "field-list"}
    assert {"node_1_1", "node_1_2"} <= pages and "node_1" not in pages


def write(tmp_path: Path, text: str) -> Instrument:
    path = tmp_path / "instrument.yaml"
    path.write_text(text, encoding="utf-8")
    return load_instrument_file(path).instrument


CLASHING = """
key: clash
version: "1"
title: Clash
questionnaires:
  - id: q
    role: partner
    title: Q
    items:
      - {id: "1.1", type: text, text: First}
      - {id: q1_1, type: text, text: Second}
"""


def test_names_that_would_clash_are_refused(tmp_path: Path) -> None:
    """XF9: `1.1` and `q1_1` would both be named q1_1."""
    instrument = write(tmp_path, CLASHING)
    with pytest.raises(ExportRefused, match=re.escape(
            "`q1_1` and `1.1` would both be called `q1_1` in the form: rename one of them")):
        build_xlsform(instrument)


ACROSS_REPEATS = """
key: across
version: "1"
title: Across
framework: {levels: [outcome, output]}
questionnaires:
  - id: q
    role: working_group
    title: Q
    items:
      - {id: judged, type: yes_no, per_level: outcome, text: Judged?}
      - {id: why, type: text, per_level: output, relevant: "${judged} = 'yes'", text: Why?}
"""


def test_references_from_one_repeat_to_another_are_refused(tmp_path: Path) -> None:
    """XF9: an output cannot read its outcome's answer in XLSForm."""
    instrument = write(tmp_path, ACROSS_REPEATS)
    with pytest.raises(ExportRefused, match=re.escape(
            "item `why` depends on `judged`, which is asked once per outcome: XLSForm "
            "cannot refer from one repeat to another")):
        build_xlsform(instrument)


def test_a_text_too_long_for_a_cell_is_refused(tmp_path: Path) -> None:
    """XF9: a spreadsheet would cut it short; the export says which question it is."""
    instrument = write(tmp_path, CLASHING.replace("{id: q1_1, type: text, text: Second}",
                                                  "{id: q2, type: text, text: " + "y" * 33_000
                                                  + "}"))
    with pytest.raises(ExportRefused, match="a text of `q2` is longer than the 32767 "
                                            "characters a spreadsheet cell holds"):
        build_xlsform(instrument).workbook_bytes()


def test_unknown_or_unnamed_questionnaires_are_refused() -> None:
    """XF9: the message lists the questionnaires to choose from."""
    instrument = load_instrument("ccpm").instrument
    with pytest.raises(ExportRefused, match="name one with --questionnaire "
                                            r"\(coordinator, partner\)"):
        build_xlsform(instrument)
    with pytest.raises(ExportRefused, match="has no questionnaire `partners`: use one of "
                                            "coordinator, partner"):
        build_xlsform(instrument, "partners")


def test_cli_export_writes_the_form(tmp_path: Path) -> None:
    target = tmp_path / "partner.xlsx"
    result = CliRunner().invoke(xlsform, ["export", "ccpm", "-q", "partner", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {target}: form ccpm_partner version 2015.2, ")
    assert load_workbook(target, read_only=True).sheetnames == ["survey", "choices", "settings"]


def test_cli_export_defaults_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """XF9: a default file name; errors are one line each, exit status 1, no traceback."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(xlsform, ["export", "cpas-red"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cpas-red_red.xlsx").exists()
    result = CliRunner().invoke(xlsform, ["export", "ccpm"])
    assert result.exit_code == 1
    assert result.output == ("ccpm: instrument `ccpm` has several questionnaires: name one "
                             "with --questionnaire (coordinator, partner)\n")
    result = CliRunner().invoke(xlsform, ["export", "ccpn", "-q", "partner"])
    assert result.exit_code == 1
    assert "did you mean `ccpm`?" in result.output and "Traceback" not in result.output
