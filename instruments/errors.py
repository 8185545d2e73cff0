"""Located, fixable problems in instrument files.

Every problem names the file, the line and column, a stable code and a
message that says what is wrong and how to fix it (the pyxform model: an
author should never need to read a traceback). ``surveyapp instruments
validate --codes`` prints the table below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ErrorCode(Enum):
    """Stable problem codes; the value is (code, one-line meaning)."""

    UNREADABLE = ("I000", "the file cannot be read (missing, a folder, no permission)")
    EMPTY_FILE = ("I001", "the file is empty")
    NOT_TEXT = ("I002", "the file is not UTF-8 text (binary or another encoding)")
    YAML_SYNTAX = ("I003", "the YAML cannot be read")
    DUPLICATE_KEY = ("I004", "a key appears twice in the same mapping")
    NOT_A_MAPPING = ("I005", "the file or a section has the wrong shape (list vs mapping)")
    UNKNOWN_KEY = ("I010", "a key the format does not know (often a misspelling)")
    MISSING_KEY = ("I011", "a required key is missing")
    INVALID_VALUE = ("I012", "a value has the wrong type or is out of range")
    DUPLICATE_ID = ("I020", "two things of the same kind share an id")
    UNKNOWN_REFERENCE = ("I021", "a reference to an id that is not defined")
    BAND_GAP = ("I030", "rating bands leave a gap")
    BAND_OVERLAP = ("I031", "rating bands overlap")
    BAND_RANGE = ("I032", "rating bands do not cover the scale exactly")
    SKIP_LOGIC_SYNTAX = ("I040", "a skip-logic expression cannot be parsed")
    SKIP_LOGIC_UNKNOWN_ITEM = ("I041", "a skip-logic expression names an unknown item")
    SKIP_LOGIC_LATER_ITEM = ("I042", "a skip-logic expression names an item asked later")
    ITEM_TYPE_MISMATCH = ("I050", "an item lacks a field its type needs, or has one it cannot use")
    STAGE_NUMBERING = ("I051", "stages or rubric levels are not numbered 1, 2, 3 ... in order")
    OPTION_SCORING = ("I052", "an option's code or score is inconsistent")
    MISSING_TRANSLATION = ("I060", "a text lacks a translation the instrument promises")
    LOCKED_ITEM = ("I070", "an overlay hides or adds an item in a way that would change scores")
    WRONG_INSTRUMENT = ("I071", "an overlay names another instrument or version than the one it "
                        "adapts")

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def meaning(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class Problem:
    """One problem at one place in one file."""

    file: str
    line: int
    column: int
    code: ErrorCode
    message: str

    def format(self) -> str:
        """``FILE:LINE:COLUMN: CODE message``, the form editors and CI understand."""
        message = self.message.replace("\r", "\\r").replace("\n", "\\n")
        return f"{self.file}:{self.line}:{self.column}: {self.code.code} {message}"


class InstrumentInvalid(Exception):
    """Raised with every problem found, so an author fixes them in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(problem.format() for problem in problems))
