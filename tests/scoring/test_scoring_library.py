"""The bundled instruments (instruments/library) scored end to end through ``surveyapp score``.

Each case is computed by hand from the rules and the bundled file's own item map:

- SL1  CCPM (reference/instruments.md 1.4-1.6): indicator 7.1.1 = coordinator q71 and partner
       q71; function 7 pools q71 and q72; response rates from q012_1..6 and partner q012
- SL2  JIU (jiu_framework.md 2.7, 4.3): 17 components, stages side by side, 5 pillar
       distributions and the configuration
- SL3  CPAS RED (seeds/001_782aced7fcf9d02c.txt:72): totals and the convention band
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from surveyapp.commands.scoring import command

CCPM_ROWS = """respondent,questionnaire,item,value,organization_type
coord,coordinator,q71,4,
coord,coordinator,q72,3,
coord,coordinator,q012_1,10,
coord,coordinator,q012_2,8,
coord,coordinator,q012_3,6,
coord,coordinator,q012_4,2,
coord,coordinator,q012_5,3,
coord,coordinator,q012_6,1,
p1,partner,q71,2,International NGO
p1,partner,q72,99,International NGO
p1,partner,q111,3,International NGO
p1,partner,q113,2,International NGO
p2,partner,q71,0,3
p2,partner,q72,1,3
p2,partner,q111,4,3
p2,partner,q113,4,3
p3,partner,q71,999,1
p3,partner,q111,2,1
p3,partner,q113,4,1
"""


def score_file(tmp_path: Path, key: str, rows: str) -> dict[str, Any]:
    path = tmp_path / "answers.csv"
    path.write_text(rows, encoding="utf-8")
    result = CliRunner().invoke(command, [key, str(path), "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def by_node(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["node"]: entry for entry in report["results"]}


def test_ccpm_bundled_file(tmp_path: Path) -> None:
    """SL1: 7.1.1: coord 4, p1 2, p2 0, p3 "does not exist" -> median 2 -> 50 unsatisfactory;
    coordinator 100 vs partners (2 + 0) / 2 = 1 -> 25, gap 75. Function 7: coord 3.5, p1 2,
    p2 0.5 -> 50. 1.1.4 (partner q113, codes 2 and 4): 2, 4, 4 -> 100 good. Response rate:
    3 partners of 30 organisations = 10 %; INGO 2 of 10 = 20 %, UN 1 of 6 = 16.67 %."""
    report = score_file(tmp_path, "ccpm", CCPM_ROWS)
    nodes = by_node(report)
    indicator = nodes["7.1.1"]
    assert (indicator["score"], indicator["rating"], indicator["respondents"]) == (
        50.0, "unsatisfactory", 3)
    assert [(p["questionnaire"], p["score"]) for p in indicator["by_questionnaire"]] == [
        ("coordinator", 100.0), ("partner", 25.0)]
    assert indicator["gap"] == 75.0
    assert (nodes["7"]["score"], nodes["7"]["rating"]) == (50.0, "unsatisfactory")
    assert (nodes["1.1.4"]["score"], nodes["1.1.4"]["rating"]) == (100.0, "good")
    assert nodes["2.1"]["rating"] == "insufficient_data"
    rates = report["response_rates"]
    assert (rates["respondents"], rates["members"], rates["rate"]) == (3, 30, 10.0)
    types = {entry["code"]: (entry["respondents"], entry["rate"]) for entry in rates["by_type"]}
    assert types[1] == (2, 20.0) and types[3] == (1, 16.67) and types[2] == (0, 0.0)
    assert {entry["node"] for entry in report["results"]} >= {"1", "1.1", "1.1.1", "7.1.2"}


JIU_SELF = {"1.1": 2, "1.2": 3, "1.3": 1, "2.1": 3, "2.2": 3, "2.3": 2, "2.4": 2, "2.5": 1,
            "3.1": 2, "3.2": 3, "3.3": 3, "3.4": 4, "4.1": 2, "4.2": 3, "4.3": 2, "5.1": 1,
            "5.2": 4}
JIU_VALIDATED = {"3.1": 2, "3.2": 2, "3.3": 3, "3.4": 3}


def test_jiu_bundled_file(tmp_path: Path) -> None:
    """SL2: P3 self 2, 3, 3, 4 -> median 3; validated 2, 2, 3, 3 -> median 2.5; P5 self 1 and 4
    -> min 1, median 2.5, max 4; configuration of 17: self median 2; activities of 1.1 counted."""
    rows = ["respondent,questionnaire,item,value"]
    rows += [f"org,self_assessment,{c},{s}" for c, s in JIU_SELF.items()]
    rows += [f"jiu,validation,{c},{s}" for c, s in JIU_VALIDATED.items()]
    rows += ["org,self_assessment,1.1.a1,3", "org,self_assessment,1.1.a2,1"]
    report = score_file(tmp_path, "jiu-rbm", "\n".join(rows) + "\n")
    nodes = by_node(report)
    assert (nodes["3.4"]["self_stage"], nodes["3.4"]["validated_stage"],
            nodes["3.4"]["difference"]) == (4, 3, -1)
    assert nodes["1.1"]["validated_stage"] is None
    pillar = nodes["P3"]
    assert (pillar["self"]["median"], pillar["validated"]["median"]) == (3.0, 2.5)
    assert (nodes["P5"]["self"]["min"], nodes["P5"]["self"]["median"],
            nodes["P5"]["self"]["max"]) == (1, 2.5, 4)
    configuration = report["configuration"]
    assert len(configuration["components"]) == 17
    assert configuration["self"]["median"] == 2.0
    assert configuration["self"]["counts"] == {"1": 3, "2": 6, "3": 6, "4": 2, "5": 0}
    assert configuration["validated"]["missing"] == 13
    activities = nodes["1.1"]["activities"]["counts"]
    assert {entry["code"]: entry["count"] for entry in activities} == {1: 1, 2: 0, 3: 1}


CPAS_ROWS = """respondent,questionnaire,item,value,comment
,framework,IM1,Civilians are safer,level=impact
,framework,OC1,Communities report threats,level=outcome; parent=IM1
,framework,OUT1,Early-warning network,level=output; parent=OC1; section=Civil Affairs
,framework,OUT2,Joint patrols,level=output; parent=OC1; section=Force
wg,red,OUT1.relevance,3,Reaches the chiefs who act on alerts
wg,red,OUT1.extent,2,Two provinces of five
wg,red,OUT1.duration,4,Committees run it without the mission
wg,red,OUT2.relevance,2,Patrols seldom meet women
wg,red,OUT2.extent,2,Main roads only
wg,red,OUT2.duration,1,Stops when the mission leaves
wg,red,OUT2.recommendation,3,
"""


def test_cpas_bundled_file(tmp_path: Path) -> None:
    """SL3: OUT1 3 + 2 + 4 = 9, OUT2 2 + 2 + 1 = 5; the bands are the file's convention."""
    report = score_file(tmp_path, "cpas-red", CPAS_ROWS)
    nodes = by_node(report)
    assert [nodes["OUT1"][key] for key in ("relevance", "extent", "duration", "total")] == [
        3, 2, 4, 9]
    assert nodes["OUT2"]["total"] == 5
    assert nodes["OUT1"]["convention"] is True
    assert [entry["node"] for entry in nodes["IM1"]["results"]] == ["OUT1", "OUT2"]
