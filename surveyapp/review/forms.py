"""Forms of the review pages; the decision form is built for the item it decides."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from surveyapp.models import Decision
from surveyapp.services.reviews import (
    DECISION_LABELS,
    REASON_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    ItemPage,
)

#: The choices for each piece of evidence: judged sufficient, insufficient, or not judged.
EVIDENCE_CHOICES = [SelectChoice("", _l("Not judged")),
                    SelectChoice("sufficient", _l("Sufficient")),
                    SelectChoice("insufficient", _l("Insufficient"))]


class DecisionForm(FlaskForm):
    """Accept, request changes or reject, with a comment; extra fields come per item."""

    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice(decision.value, label)
                 for decision, label in DECISION_LABELS.items()],
        validators=[InputRequired(message=_l("Choose a decision."))],
    )
    comment = TextAreaField(
        _l("Comment"),
        description=_l("Required: what you checked, and why you decided so. The focal point "
                       "reads it."),
        validators=[DataRequired(message=_l("Write a comment: every decision needs one.")),
                    Length(max=TEXT_MAX_LENGTH)],
    )
    #: The round this page showed: a decision made meanwhile by someone else is a conflict.
    expected_round = IntegerField(widget=HiddenInput())

    def value_fields(self) -> list[Field]:
        """The validated stage, or one field per rubric criterion."""
        return [field for field in self if field.name.startswith("validated_")]

    def evidence_fields(self) -> list[Field]:
        return [field for field in self if field.name.startswith("evidence_")]

    def validated_value(self, page: ItemPage) -> Any:
        if page.unit.item.type == "stage":
            return self["validated_stage"].data
        if page.unit.item.type == "rubric":
            return {criterion.id: self[f"validated_{index}"].data
                    for index, criterion in enumerate(page.unit.item.criteria)}
        return None

    def evidence_marks(self, page: ItemPage) -> dict[int, bool]:
        return {entry.id: self[f"evidence_{entry.id}"].data == "sufficient"
                for entry in page.evidence if self[f"evidence_{entry.id}"].data}


def decision_form(page: ItemPage) -> DecisionForm:
    """A decision form with the fields this item needs.

    A fresh form starts from the last validated value, else the self-assessed one. A
    posted form keeps only what was posted: a value left unchosen stays unchosen.
    """

    class ItemDecisionForm(DecisionForm):
        pass

    item = page.unit.item
    if item.type == "stage":
        ItemDecisionForm.validated_stage = RadioField(  # type: ignore[attr-defined]
            _l("Validated stage"),
            description=_l("The stage the evidence supports; it may differ from the "
                           "self-assessed stage. Needed to accept or reject."),
            choices=[SelectChoice(stage.stage, _l("Stage %(stage)s: %(stage2)s",
                                                  stage=stage.stage, stage2=stage.title['en']))
                     for stage in page.stages],
            coerce=int, validators=[Optional()],
        )
    for index, criterion in enumerate(item.criteria if item.type == "rubric" else ()):
        setattr(ItemDecisionForm, f"validated_{index}", RadioField(
            _l("Validated %(criterion)s", criterion=criterion.label['en'].lower()),
            choices=[SelectChoice(level.level, str(level.level)) for level in criterion.levels],
            coerce=int, validators=[Optional()],
        ))
    for entry in page.evidence:
        setattr(ItemDecisionForm, f"evidence_{entry.id}", RadioField(
            entry.original_name or entry.url or _("Evidence %(number)s", number=entry.id),
            choices=EVIDENCE_CHOICES, validators=[Optional()],
        ))
    form = ItemDecisionForm()
    if not form.is_submitted():
        form.process(data=_starting_values(page))
    return form


def _starting_values(page: ItemPage) -> dict[str, Any]:
    item = page.unit.item
    answer = page.answer
    value = page.latest.validated_value if page.latest else None
    if value is None and answer is not None:
        value = answer.value
    values: dict[str, Any] = {"expected_round": page.next_round}
    if item.type == "stage":
        values["validated_stage"] = value
    if item.type == "rubric" and isinstance(value, dict):
        values |= {f"validated_{index}": value.get(criterion.id)
                   for index, criterion in enumerate(item.criteria)}
    values |= {f"evidence_{entry.id}": "" for entry in page.evidence}
    return values


def decision_of(form: DecisionForm) -> Decision:
    return Decision(form.decision.data)


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(message=_l("Write a message before sending it.")),
                    Length(max=TEXT_MAX_LENGTH)],
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for reopening"),
        description=_l("Required. It is kept with the cycle and in the audit log."),
        validators=[DataRequired(message=_l("Give the reason for reopening.")),
                    Length(max=REASON_MAX_LENGTH)],
    )


class ConfirmForm(FlaskForm):
    """A button that needs nothing but the CSRF token."""
