"""Final cycles with hand-made answers, for the action plan and dashboard tests.

``final_ccpm_cycle`` stores the case of tests/reports/test_report_ccpm.py: one coordinator
and partners answering one question per sub-function, scored by hand with the rule of
reference/instruments.md section 1.5 (each respondent's mean, median over respondents,
x 25; upper-inclusive bands):

====== ===================================== ===================== =================
block  coordinator; partners p1-p4           median of the means   score, rating
====== ===================================== ===================== =================
1.1    q111 1; 0, 1, 2, 1                    1                     25 % weak
1.2    q121 2; 2, 2, 3, 1                    2                     50 % unsatisfactory
2.1    q211 3; 3, 3, 2, 4                    3                     75 % satisfactory
2.2    q221 4; 4, 4, 4, 0                    4                     100 % good
2.3    q231 2; 2, 3 (p1, p2)                 2                     50 % unsatisfactory
5      q51 0; q52 1, 0, 1, 0                 0                     0 % weak
====== ===================================== ===================== =================

So drafting gives one action for each of 1.1, 1.2, 2.3 and 5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import Flask

from surveyapp.extensions import db
from surveyapp.models import Answer, CycleState, Response, ResponseState, Unit, User
from surveyapp.services.audit import Actor
from surveyapp.services.cycles import change_state
from tests.web.cycles_world import get_cycle, make_cycle, response_id, user

COORDINATOR = {"q111": 1, "q121": 2, "q211": 3, "q221": 4, "q231": 2, "q51": 0}
PARTNERS = (
    {"q111": 0, "q121": 2, "q211": 3, "q221": 4, "q231": 2, "q52": 1},
    {"q111": 1, "q121": 2, "q211": 3, "q221": 4, "q231": 3, "q52": 0},
    {"q111": 2, "q121": 3, "q211": 2, "q221": 4, "q52": 1},
    {"q111": 1, "q121": 1, "q211": 4, "q221": 0, "q52": 0},
)
DRAFTED = ["1.1", "1.2", "2.3", "5"]


def final_ccpm_cycle(
    app: Flask, unit: Unit, coordinator: User, focal_point: User, *,
    answers: Mapping[str, int] = COORDINATOR, partners: Sequence[Mapping[str, int]] = PARTNERS,
    state: CycleState = CycleState.validated, title: str | None = None,
) -> int:
    """A CCPM cycle of ``unit`` with these answers, moved to ``state`` (validated by default)."""
    cycle_id = make_cycle(app, "ccpm", unit, coordinator, focal_points=[focal_point])
    answered = response_id(app, cycle_id, focal_point, "coordinator")
    with app.app_context():
        cycle = get_cycle(cycle_id)
        if title:
            cycle.title = title
        response = db.session.get_one(Response, answered)
        response.answers.extend(Answer(item_id=item, value=value)
                                for item, value in answers.items())
        response.state = ResponseState.submitted
        for partner in partners:
            db.session.add(Response(
                cycle=cycle, questionnaire="partner", state=ResponseState.submitted,
                answers=[Answer(item_id=item, value=value) for item, value in partner.items()]))
        actor = Actor.of(user(coordinator.email))
        path = [CycleState.submitted, CycleState.in_review, CycleState.validated,
                CycleState.closed]
        for step in path[: path.index(state) + 1]:
            change_state(cycle, step, actor)
        db.session.commit()
    return cycle_id
