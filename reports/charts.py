"""Charts as SVG text, drawn with matplotlib's object API (no pyplot, no global state).

Output is deterministic: a fixed ``svg.hashsalt`` and no date in the metadata,
so the same results give the same bytes. Text stays text in the SVG
(``svg.fonttype: none``) and is set in DejaVu Sans like the report, so the
PDF keeps chart labels searchable. Every coloured mark also carries its value
or rating in words: colour is never the only carrier of meaning.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

#: Width of the text column of an A4 page with 2 cm margins, in inches.
PAGE_WIDTH = 6.7
INK = "#1a1a1a"
GRID = "#d0d0d0"
#: Self-assessed and validated: light and dark of one hue, told apart by the legend and labels.
SELF_COLOUR = "#9ecae1"
VALIDATED_COLOUR = "#08519c"
#: Stage 1..5 from light to dark.
STAGE_COLOURS = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
STAGE_TEXT = ("#000000", "#000000", "#000000", "#ffffff", "#ffffff")
#: Two questionnaires compared (coordinator, partners): orange and blue, distinct for most
#: colour-vision deficiencies.
PAIR_COLOURS = ("#e66101", "#2166ac")
#: Width of an average character of the 7.5 pt labels, in inches, for the left margin.
CHARACTER_WIDTH = 0.058

_STYLE = {
    "svg.hashsalt": "surveyapp-report",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.titlesize": 8.5,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}


@dataclass(frozen=True)
class Bar:
    """One labelled bar: its value (None: nothing to draw), colour and the words beside it."""

    label: str
    value: float | None
    colour: str
    words: str


@contextmanager
def _figure(height: float) -> Iterator[tuple[Figure, Axes]]:
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(PAGE_WIDTH, height))
        FigureCanvasSVG(figure)
        yield figure, figure.add_subplot()


def _finish(figure: Figure, axes: Axes, labels: Sequence[str], *, legend: bool) -> str:
    """Frame the axes, leave room for the row labels and the legend, return the SVG text.

    Margins are set from the longest label rather than measured (``bbox_inches="tight"``
    draws the figure twice); called inside ``_figure``, whose style sets the hash salt.
    """
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_axisbelow(True)
    axes.grid(axis="x", color=GRID, linewidth=0.5)
    width, height = figure.get_size_inches()
    longest = max((len(label) for label in labels), default=1)
    figure.subplots_adjust(left=(0.2 + CHARACTER_WIDTH * longest) / width, right=0.98,
                           bottom=0.42 / height, top=1 - (0.3 if legend else 0.08) / height)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _height(rows: int) -> float:
    return 0.6 + 0.22 * max(rows, 1)


def horizontal_bars(bars: Sequence[Bar], *, limit: float, axis: str) -> str:
    """One bar per row, top to bottom, each followed by its words (score and rating)."""
    with _figure(_height(len(bars))) as (figure, axes):
        rows = range(len(bars))[::-1]
        axes.barh(rows, [bar.value or 0 for bar in bars], color=[bar.colour for bar in bars],
                  edgecolor=INK, linewidth=0.3, height=0.7)
        for row, bar in zip(rows, bars, strict=True):
            axes.text((bar.value or 0) + limit * 0.01, row, bar.words, va="center",
                      color=INK)
        axes.set_yticks(list(rows), [bar.label for bar in bars])
        axes.set_xlim(0, limit * 1.3)
        axes.set_xticks([limit * step / 4 for step in range(5)])
        axes.set_xlabel(axis)
        return _finish(figure, axes, [bar.label for bar in bars], legend=False)


def paired_bars(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
    limit: float, axis: str, words: Sequence[Sequence[str]],
) -> str:
    """Two bars per row (e.g. coordinator and partners), each with its value written."""
    count = len(series)
    height = 0.8 / count
    with _figure(_height(len(labels) * (1 + count) / 2)) as (figure, axes):
        rows = list(range(len(labels)))[::-1]
        for position, ((name, values), colour) in enumerate(
                zip(series, PAIR_COLOURS[:len(series)], strict=True)):
            offsets = [row + 0.4 - height * (position + 0.5) for row in rows]
            axes.barh(offsets, [value or 0 for value in values], height=height * 0.9,
                      color=colour, label=name)
            for offset, value, text in zip(offsets, values, words[position], strict=True):
                axes.text((value or 0) + limit * 0.01, offset, text, va="center",
                          fontsize=6.5, color=INK)
        axes.set_yticks(rows, list(labels))
        axes.set_xlim(0, limit * 1.15)
        axes.set_xlabel(axis)
        axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=count)
        return _finish(figure, axes, labels, legend=True)


def stage_profile(
    labels: Sequence[str], self_stages: Sequence[int | None],
    validated: Sequence[int | None], *, top: int, names: tuple[str, str], axis: str,
) -> str:
    """Self-assessed and validated stage of every component, side by side."""
    words = [[str(stage) if stage else "–" for stage in stages]
             for stages in (self_stages, validated)]
    with _figure(_height(len(labels) * 1.4)) as (figure, axes):
        rows = list(range(len(labels)))[::-1]
        for position, (values, colour, name) in enumerate(
            ((self_stages, SELF_COLOUR, names[0]), (validated, VALIDATED_COLOUR, names[1]))
        ):
            offsets = [row + 0.2 - 0.4 * position for row in rows]
            axes.barh(offsets, [value or 0 for value in values], height=0.36, color=colour,
                      edgecolor=INK, linewidth=0.3, label=name)
            for offset, value, text in zip(offsets, values, words[position], strict=True):
                axes.text((value or 0) + 0.05, offset, text, va="center", fontsize=6.5)
        axes.set_yticks(rows, list(labels))
        axes.set_xlim(0, top + 0.5)
        axes.set_xticks(range(top + 1))
        axes.set_xlabel(axis)
        axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2)
        return _finish(figure, axes, labels, legend=True)


def stacked_bars(
    labels: Sequence[str], parts: Sequence[Sequence[int]], *, part_names: Sequence[str],
    axis: str, totals: Sequence[str] = (), limit: float | None = None,
) -> str:
    """Per row, parts stacked end to end with each part's value written inside.

    Stages: how many components sit at each stage. Rubrics: each criterion's
    level stacked into the total, which ``totals`` writes after the bar.
    """
    last = len(STAGE_COLOURS) - 1
    shades = [round(position * last / max(len(part_names) - 1, 1))
              for position in range(len(part_names))]
    with _figure(_height(len(labels) * 1.3) + 0.3) as (figure, axes):
        rows = list(range(len(labels)))[::-1]
        starts = [0] * len(labels)
        for position, (name, shade) in enumerate(zip(part_names, shades, strict=True)):
            widths = [row_parts[position] for row_parts in parts]
            axes.barh(rows, widths, left=starts, color=STAGE_COLOURS[shade], edgecolor=INK,
                      linewidth=0.3, height=0.6, label=name)
            for row, start, width in zip(rows, starts, widths, strict=True):
                if width:
                    axes.text(start + width / 2, row, str(width), ha="center", va="center",
                              color=STAGE_TEXT[shade])
            starts = [start + width for start, width in zip(starts, widths, strict=True)]
        top = limit if limit is not None else max(max(starts, default=1), 1)
        for row, start, text in zip(rows, starts, totals, strict=False):
            axes.text(start + top * 0.01, row, text, va="center", color=INK)
        axes.set_yticks(rows, list(labels))
        axes.set_xlim(0, top * (1.35 if totals else 1.0))
        axes.set_xticks([tick for tick in axes.get_xticks() if 0 <= tick <= top])
        axes.set_xlabel(axis)
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=len(part_names))
        return _finish(figure, axes, labels, legend=True)
