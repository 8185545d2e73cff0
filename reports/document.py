"""The whole report as one document: cover, contents, method notes, results, action plan."""

from __future__ import annotations

from dataclasses import dataclass

from reports.blocks import Heading, Section
from reports.model import ReportData
from reports.sections import Context, actions, method, percent, rubric, stages, texts

#: The first 16 hex digits of a sha256 identify a file among any realistic number of files.
SHORT_DIGEST = 16


@dataclass(frozen=True)
class Document:
    """Everything the templates print, worded in the report's language."""

    language: str
    title: str
    final: bool
    status: str
    status_note: str
    cover: tuple[tuple[str, str], ...]
    digest: str
    digest_label: str
    contents_title: str
    footer: str
    contents: tuple[Heading, ...]
    sections: tuple[Section, ...]
    #: The local adaptation's label and sha256, when the cycle's unit adapted the instrument.
    overlay_digest: tuple[str, str] | None = None


def build_document(data: ReportData) -> Document:
    ctx = Context.of(data)
    t = ctx.t
    context = data.context
    instrument = data.instrument
    sections = (
        method.section(ctx),
        *percent.sections(ctx),
        *stages.sections(ctx),
        *rubric.sections(ctx),
        *texts.sections(ctx),
        actions.section(ctx),
    )
    status = "final" if context.final else "preliminary"
    cover = [(t("cover.unit"), context.unit)]
    cover += [(label, value) for label, value in (
        (t("cover.cycle"), context.cycle), (t("cover.period"), context.period)) if value]
    cover += [
        (t("cover.instrument"), t.local(instrument.instrument.title)),
        (t("cover.version"), f"{instrument.key} {instrument.version}"),
    ]
    overlay = data.overlay
    if overlay is not None:
        cover.append((t("cover.overlay"), f"{t.local(overlay.overlay.title)} "
                      f"({overlay.overlay.key} {overlay.overlay.version})"))
    cover.append((t("cover.date"), t.date(context.generated)))
    contents = tuple(
        heading for section in sections
        for heading in (section.heading, *(block for block in section.blocks
                                           if isinstance(block, Heading) and block.level == 2
                                           and block.anchor))
    )
    return Document(
        language=context.language,
        title=t.local(instrument.instrument.title),
        final=context.final,
        status=t(f"status.{status}"),
        status_note=t(f"status.{status}.note"),
        cover=tuple(cover),
        digest=instrument.sha256,
        digest_label=t("cover.sha256"),
        overlay_digest=(t("cover.overlay_sha256"), overlay.sha256) if overlay else None,
        contents_title=t("contents"),
        footer=f"{context.unit} · {instrument.key} {instrument.version} · "
               f"sha256 {instrument.sha256[:SHORT_DIGEST]}"
               + (f" · {overlay.overlay.key} {overlay.overlay.version} "
                  f"sha256 {overlay.sha256[:SHORT_DIGEST]}" if overlay else ""),
        contents=contents,
        sections=sections,
    )
