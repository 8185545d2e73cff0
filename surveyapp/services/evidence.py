"""Evidence: documents and links that support answers, kept for the validators.

A file is checked from its bytes (``surveyapp.file_types``) and stored by sha256
(``surveyapp.storage``) before its row is written; a refused file leaves neither a row nor
a file. Evidence belongs to a cycle and may support several items of it (``attach``). A new
version of a document is a new row that ``supersedes`` the old one, which is kept, with its
file, for the items and reviews that still refer to it.

Who may change evidence: the respondent of the response, while the cycle is open and the
response is a draft, or while the cycle is in review and the response was returned (then
only for the items the validator returned). Views check the person's roles with
``services.access``; the functions here check the rest.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date
from typing import BinaryIO
from urllib.parse import quote, urlsplit

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from instruments.schema import Item
from surveyapp.extensions import db
from surveyapp.file_types import check_content, extension_of, kind_for_name
from surveyapp.models import (
    Answer,
    Cycle,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Response,
)
from surveyapp.services import ServiceError
from surveyapp.services.audit import Actor, record
from surveyapp.services.instrument_versions import cycle_instrument
from surveyapp.storage import UploadRefused, evidence_max_bytes, evidence_store

DESCRIPTION_MAX = 2000
URL_MAX = 2000
NAME_MAX = 255
#: Document dates before this are typing mistakes, not documents.
EARLIEST_DOCUMENT_DATE = date(1900, 1, 1)
LINK_SCHEMES = ("http", "https")
#: Bidirectional embedding, override and isolate controls (and the direction marks), which
#: can show "evil<U+202E>fdp.exe" as "evilexe.pdf"; joiners used by Arabic and Indic scripts stay.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")


# --- Checking what people send ----------------------------------------------------------


def clean_filename(filename: str | None) -> str:
    """The uploader's file name, if it is a plain name we can show and offer for download.

    :raises UploadRefused: no name, control characters (NUL included), or folder parts.
    """
    name = (filename or "").strip()
    if not name:
        raise UploadRefused(_("Choose a file to upload."))
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise UploadRefused(
            _("The file name contains control characters. Rename the file (letters, digits, "
              "spaces and punctuation only) and upload it again.")
        )
    if any(character in BIDI_CONTROLS for character in name):
        raise UploadRefused(
            _("The file name contains invisible characters that change the direction of the "
              "text, which can make a program's name look like a document's. Rename the file "
              "and upload it again.")
        )
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise UploadRefused(
            _("The file name must be a plain name, without folders (“/”, “\\” or “..”) or a "
              "leading dot. Rename the file and upload it again.")
        )
    if len(name) > NAME_MAX:
        extension = extension_of(name)
        name = name[: NAME_MAX - len(extension) - 1].rstrip() + "." + extension
    return name


def _clean_description(description: str | None) -> str:
    text = (description or "").strip()
    if not text:
        raise ServiceError(
            _("Describe the evidence: what the document or page is, and what in it supports "
              "the answer.")
        )
    if len(text) > DESCRIPTION_MAX:
        raise ServiceError(
            _("The description is %(count)s characters long; keep it under %(description_max)s.",
              count=len(text), description_max=DESCRIPTION_MAX)
        )
    return text


def _check_document_date(document_date: date | None) -> None:
    if document_date is None:
        return
    if document_date > date.today():
        raise ServiceError(
            _("The document date %(document_date)s is in the future. Give the date the document "
              "was issued or last updated.", document_date=document_date.isoformat())
        )
    if document_date < EARLIEST_DOCUMENT_DATE:
        raise ServiceError(_("The document date %(document_date)s is not plausible.",
                             document_date=document_date.isoformat()))


def clean_url(url: str | None) -> str:
    """A link people may follow: an absolute http(s) address with a host.

    :raises ServiceError: anything else (``javascript:``, ``file:``, relative paths...).
    """
    text = (url or "").strip()
    problem = None
    if not text:
        problem = _("Give the address of the page or document.")
    elif len(text) > URL_MAX:
        problem = _("The address is longer than %(url_max)s characters.", url_max=URL_MAX)
    elif any(character.isspace() or unicodedata.category(character) == "Cc"
             for character in text):
        problem = _("The address contains spaces or control characters.")
    else:
        parts = urlsplit(text)
        if parts.scheme.lower() not in LINK_SCHEMES or not parts.hostname:
            problem = (_("Only web addresses starting with http:// or https:// can be added as "
                         "links."))
    if problem:
        raise ServiceError(_("%(problem)s Copy the address from the browser's address bar.",
                             problem=problem))
    return text


# --- Which answers may change -----------------------------------------------------------


def change_refused(response: Response, item_id: str, framework_node: str, actor: Actor
                   ) -> str | None:
    """Why ``actor`` may not change the evidence of this item now; None when they may.

    The same rules as for the answer itself (``services.answers``): a draft while the cycle
    is open, or the returned items of a returned response while the cycle is in review.
    """
    # Imported here: services.answers imports this module for evidence_for_answers.
    from surveyapp.services.answers import editable_keys, layout_for, locked_reason

    if response.respondent_id is None or response.respondent_id != actor.user_id:
        return _("Only the person who answers these questions can change their evidence.")
    reason = locked_reason(response)
    if reason:
        return reason
    layout = layout_for(response)
    keys = editable_keys(response, layout)
    slot = layout.slot(item_id, framework_node)
    if keys is not None and (slot is None or slot.key not in keys):
        return _("Only the items the validator returned can change; this one was not returned.")
    return None


def editable_by(answer: Answer, actor: Actor) -> str | None:
    """Why ``actor`` may not change the evidence of ``answer`` now; None when they may."""
    return change_refused(answer.response, answer.item_id, answer.framework_node, actor)


def _require_editable(answer: Answer, actor: Actor) -> None:
    problem = editable_by(answer, actor)
    if problem:
        raise ServiceError(problem)


def _require_same_cycle(cycle: Cycle, answer: Answer) -> None:
    if answer.response.cycle_id != cycle.id:
        raise ServiceError(_("That answer belongs to another assessment cycle."))


def find_item(cycle: Cycle, questionnaire_id: str, item_id: str) -> Item | None:
    """The item of one of the cycle's questionnaires, or None."""
    instrument = cycle_instrument(cycle).instrument
    for questionnaire in instrument.questionnaires:
        if questionnaire.id == questionnaire_id:
            return next((item for item in questionnaire.items if item.id == item_id), None)
    return None


def answer_for_item(response: Response, item_id: str, framework_node: str, actor: Actor) -> Answer:
    """The response's answer to the item, created empty so evidence can come first.

    :raises ServiceError: the questionnaire asks no such item (for that framework node).
    """
    from surveyapp.services.answers import layout_for  # see change_refused

    framework_node = framework_node.strip()
    if layout_for(response).slot(item_id, framework_node) is None:
        where = f" for “{framework_node}”" if framework_node else ""
        raise ServiceError(_("The questionnaire has no question “%(item_id)s”%(where)s.",
                             item_id=item_id, where=where))
    answer = db.session.scalar(select(Answer).where(
        Answer.response_id == response.id, Answer.item_id == item_id,
        Answer.framework_node == framework_node))
    if answer is None:
        answer = Answer(response=response, item_id=item_id, framework_node=framework_node,
                        value=None, updated_by_id=actor.user_id)
        db.session.add(answer)
        db.session.flush()
    return answer


# --- Adding and changing evidence -------------------------------------------------------


def _audit(actor: Actor, action: str, evidence: Evidence, after: dict[str, object]) -> None:
    record(actor, action, "evidence", evidence.id, after=after, cycle_id=evidence.cycle_id)


def _snapshot(evidence: Evidence) -> dict[str, object]:
    return {
        "kind": evidence.kind.value, "sha256": evidence.sha256, "size": evidence.size,
        "media_type": evidence.media_type, "name": evidence.original_name, "url": evidence.url,
        "description": evidence.description,
        "document_date": evidence.document_date.isoformat() if evidence.document_date else None,
        "supersedes": evidence.supersedes_id,
    }


def _store_file(stream: BinaryIO, filename: str) -> tuple[str, int, str]:
    """Check and store an upload: (sha256, size, media type); nothing stays if refused."""
    kind_for_name(filename)  # refuse a wrong extension before reading a byte
    stored, kind = evidence_store().put(
        stream, max_bytes=evidence_max_bytes(),
        check=lambda path: check_content(path, filename))
    return stored.sha256, stored.size, kind.media_type


def add_file(
    cycle: Cycle,
    answer: Answer,
    stream: BinaryIO,
    filename: str | None,
    description: str | None,
    document_date: date | None,
    actor: Actor,
) -> Evidence:
    """Store an uploaded document and attach it to ``answer``.

    Everything that can be refused is checked before the file is moved into the store.

    :raises UploadRefused: the file (name, size, content) is not accepted.
    :raises ServiceError: the answer cannot change, or the description or date is wrong.
    """
    _require_same_cycle(cycle, answer)
    _require_editable(answer, actor)
    name = clean_filename(filename)
    text = _clean_description(description)
    _check_document_date(document_date)
    sha256, size, media_type = _store_file(stream, name)
    evidence = Evidence(
        cycle_id=cycle.id, kind=EvidenceKind.file, sha256=sha256, size=size,
        media_type=media_type, original_name=name, description=text,
        document_date=document_date, uploaded_by_id=actor.user_id)
    evidence.links.append(EvidenceLink(answer=answer))
    db.session.add(evidence)
    db.session.flush()
    _audit(actor, "evidence.added", evidence, {**_snapshot(evidence), "answer": answer.id})
    return evidence


def add_link(
    cycle: Cycle,
    answer: Answer,
    url: str | None,
    description: str | None,
    document_date: date | None,
    actor: Actor,
) -> Evidence:
    """Attach a web address to ``answer`` as evidence.

    :raises ServiceError: not an http(s) address, no description, or the answer is locked.
    """
    _require_same_cycle(cycle, answer)
    _require_editable(answer, actor)
    address = clean_url(url)
    text = _clean_description(description)
    _check_document_date(document_date)
    evidence = Evidence(
        cycle_id=cycle.id, kind=EvidenceKind.link, url=address, description=text,
        document_date=document_date, uploaded_by_id=actor.user_id)
    evidence.links.append(EvidenceLink(answer=answer))
    db.session.add(evidence)
    db.session.flush()
    _audit(actor, "evidence.added", evidence, {**_snapshot(evidence), "answer": answer.id})
    return evidence


def add_plan_document(cycle: Cycle, stream: BinaryIO, filename: str | None, description: str,
                      actor: Actor) -> Evidence:
    """Store a document supporting the cycle's action plan (a stock-take), attached to no item.

    The same checks as any evidence file; the caller links it to what it supports.

    :raises UploadRefused: the file (name, size, content) is not accepted.
    """
    name = clean_filename(filename)
    sha256, size, media_type = _store_file(stream, name)
    evidence = Evidence(
        cycle_id=cycle.id, kind=EvidenceKind.file, sha256=sha256, size=size,
        media_type=media_type, original_name=name, description=_clean_description(description),
        uploaded_by_id=actor.user_id)
    db.session.add(evidence)
    db.session.flush()
    _audit(actor, "evidence.added", evidence, {**_snapshot(evidence), "plan": True})
    return evidence


def _is_superseded(evidence: Evidence) -> bool:
    return db.session.scalar(
        select(exists().where(Evidence.supersedes_id == evidence.id))
    ) or False


def attach(evidence: Evidence, answer: Answer, actor: Actor) -> EvidenceLink:
    """Let one document support another item of the same cycle.

    :raises ServiceError: another cycle's evidence, an older version, an answer that cannot
        change, or evidence already attached to it.
    """
    _require_same_cycle(evidence_cycle(evidence), answer)
    _require_editable(answer, actor)
    if _is_superseded(evidence):
        raise ServiceError(_("A newer version of this document exists; attach that one instead."))
    if any(link.answer_id == answer.id for link in evidence.links):
        raise ServiceError(_("This evidence is already attached to that question."))
    link = EvidenceLink(evidence=evidence, answer=answer)
    db.session.add(link)
    db.session.flush()
    _audit(actor, "evidence.attached", evidence, {"answer": answer.id})
    return link


def detach(evidence: Evidence, answer: Answer, actor: Actor) -> None:
    """Stop using evidence for one item; the evidence itself stays in the cycle.

    :raises ServiceError: it is not attached there, or the answer cannot change.
    """
    link = next((link for link in evidence.links if link.answer_id == answer.id), None)
    if link is None:
        raise ServiceError(_("This evidence is not attached to that question."))
    _require_editable(answer, actor)
    evidence.links.remove(link)
    db.session.flush()
    _audit(actor, "evidence.detached", evidence, {"answer": answer.id})


def confirm(evidence: Evidence, answer: Answer, actor: Actor) -> None:
    """Confirm that evidence carried over from the previous cycle still supports the answer.

    :raises ServiceError: not attached there, not carried over, or the answer is locked.
    """
    if not any(link.answer_id == answer.id for link in evidence.links):
        raise ServiceError(_("This evidence is not attached to that question."))
    if not evidence.carried_over:
        raise ServiceError(_("This evidence was not carried over; there is nothing to confirm."))
    _require_editable(answer, actor)
    evidence.carried_over = False
    db.session.flush()
    _audit(actor, "evidence.confirmed", evidence, {"answer": answer.id, "carried_over": False})


def new_version(
    evidence: Evidence,
    stream: BinaryIO,
    filename: str | None,
    actor: Actor,
    *,
    description: str | None = None,
    document_date: date | None = None,
) -> Evidence:
    """Replace a document by a newer version; the old version and its file are kept.

    The items that ``actor`` may change now use the new version; items that are locked
    (submitted, or accepted by the validator) keep the version they were reviewed with.

    :raises UploadRefused: the new file is not accepted.
    :raises ServiceError: a link, an older version, the same file again, or no item of the
        document can change now.
    """
    if evidence.kind is not EvidenceKind.file:
        raise ServiceError(_("Links have no versions: add the new address as a new link."))
    if _is_superseded(evidence):
        raise ServiceError(_("A newer version of this document exists already; replace that one."))
    movable = [link for link in evidence.links if editable_by(link.answer, actor) is None]
    if not movable:
        raise ServiceError(
            _("None of the questions this document supports can change now, so it cannot be "
              "replaced. Ask the validator to return the item if it needs a newer document."))
    name = clean_filename(filename)
    text = _clean_description(description) if description else evidence.description
    _check_document_date(document_date)
    sha256, size, media_type = _store_file(stream, name)
    if sha256 == evidence.sha256:
        raise ServiceError(_("This is the same file as the current version; nothing changed."))
    newer = Evidence(
        cycle_id=evidence.cycle_id, kind=EvidenceKind.file, sha256=sha256, size=size,
        media_type=media_type, original_name=name, description=text,
        document_date=document_date or evidence.document_date, supersedes_id=evidence.id,
        uploaded_by_id=actor.user_id)
    db.session.add(newer)
    for link in movable:
        evidence.links.remove(link)
        newer.links.append(EvidenceLink(answer_id=link.answer_id))
    db.session.flush()
    _audit(actor, "evidence.versioned", newer,
           {**_snapshot(newer), "answers": sorted(link.answer_id for link in movable)})
    return newer


# --- Reading ----------------------------------------------------------------------------


def evidence_cycle(evidence: Evidence) -> Cycle:
    return db.session.get_one(Cycle, evidence.cycle_id)


def evidence_for_answers(answer_ids: Collection[int]) -> dict[int, list[Evidence]]:
    """The evidence attached to each answer, oldest first, in one query."""
    if not answer_ids:
        return {}
    found: dict[int, list[Evidence]] = defaultdict(list)
    rows = db.session.execute(
        select(EvidenceLink.answer_id, Evidence)
        .join(Evidence, Evidence.id == EvidenceLink.evidence_id)
        .where(EvidenceLink.answer_id.in_(list(answer_ids)))
        .order_by(Evidence.created_at, Evidence.id)
    )
    for answer_id, evidence in rows:
        found[answer_id].append(evidence)
    return dict(found)


def current_evidence(cycle: Cycle) -> list[Evidence]:
    """The cycle's evidence that no newer version replaces, oldest first, in one query."""
    newer = aliased(Evidence)
    return list(db.session.scalars(
        select(Evidence)
        .where(Evidence.cycle_id == cycle.id,
               ~exists().where(newer.supersedes_id == Evidence.id))
        .order_by(Evidence.created_at, Evidence.id)
    ))


def all_evidence(cycle: Cycle) -> list[Evidence]:
    """Every row of the cycle's evidence, every version, oldest first."""
    return list(db.session.scalars(
        select(Evidence).where(Evidence.cycle_id == cycle.id)
        .order_by(Evidence.created_at, Evidence.id)
    ))


def supported_items(evidence_ids: Iterable[int]) -> dict[int, list[Answer]]:
    """For each evidence id, the answers it supports (with their responses), in one query."""
    ids = list(evidence_ids)
    if not ids:
        return {}
    found: dict[int, list[Answer]] = defaultdict(list)
    rows = db.session.execute(
        select(EvidenceLink.evidence_id, Answer, Response)
        .join(Answer, Answer.id == EvidenceLink.answer_id)
        .join(Response, Response.id == Answer.response_id)
        .where(EvidenceLink.evidence_id.in_(ids))
        .order_by(Response.questionnaire, Answer.item_id, Answer.framework_node)
    )
    for evidence_id, answer, _response in rows:
        found[evidence_id].append(answer)
    return dict(found)


def download_name(evidence: Evidence) -> str:
    """The name offered when downloading: the uploader's, or a made-up one if it had none."""
    if evidence.original_name:
        return evidence.original_name
    return f"evidence-{evidence.id}"


def content_disposition(disposition: str, filename: str) -> str:
    """``attachment`` or ``inline`` with an ASCII fallback name and the exact UTF-8 name.

    The fallback drops accents and replaces anything that could break the header; the
    ``filename*`` form (RFC 6266) carries the real name for browsers that read it.
    """
    ascii_name = "".join(
        "" if unicodedata.combining(character)
        else character if character.isascii() and (character.isalnum() or character in " ._-()")
        else "_"
        for character in unicodedata.normalize("NFKD", filename)
    ).strip() or "evidence"
    return (f'{disposition}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}")
