"""Read instrument files: bytes -> YAML -> pydantic model -> cross-checks.

Parsing is fast on the happy path (libyaml when available, one pydantic
validation) and careful on the unhappy one: only when something is wrong is
the file composed a second time to find the line and column of every
problem. Instruments are cached by the sha256 of their bytes, so a file is
parsed once however often it is asked for.
"""

from __future__ import annotations

import difflib
import hashlib
import typing
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from instruments.checks import Location, cross_check
from instruments.errors import ErrorCode, InstrumentInvalid, Problem
from instruments.schema import (
    COLOUR_PATTERN,
    ID_PATTERN,
    KEY_PATTERN,
    LANG_PATTERN,
    Instrument,
)

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LIBRARY_PACKAGE = "instruments"
LIBRARY_FOLDER = "library"


@dataclass(frozen=True)
class LoadedInstrument:
    """A validated instrument with the exact text it came from and that text's sha256.

    ``overlay_sha256`` is set when ``instrument`` is that text as a unit's overlay adapts it
    (``instruments.overlay.adapt``): ``sha256`` and ``text`` stay the instrument file's.
    """

    instrument: Instrument
    sha256: str
    text: str
    path: str
    overlay_sha256: str | None = None

    @property
    def fingerprint(self) -> str:
        """What identifies the questions asked: the file's sha256, and the overlay's if any."""
        return self.sha256 if self.overlay_sha256 is None else (
            f"{self.sha256}+{self.overlay_sha256}")

    @property
    def key(self) -> str:
        return self.instrument.key

    @property
    def version(self) -> str:
        return self.instrument.version


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _StrictLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """A safe loader that refuses duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # keys brought in by `<<` may be overridden: that is what merging means
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, typing.Hashable) and key in seen:
                first = seen[key].start_mark
                raise _DuplicateKey(
                    problem=(
                        f"`{key}` appears twice in this mapping (first on line {first.line + 1}): "
                        "keep one and delete the other"
                    ),
                    problem_mark=key_node.start_mark,
                )
            seen[key] = key_node
        self.flatten_mapping(node)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping
)


# --------------------------------------------------------------------------- locations


def position_index(text: str) -> dict[Location, tuple[int, int]]:
    """Map every path in the YAML document to its 1-based (line, column)."""
    index: dict[Location, tuple[int, int]] = {}
    try:
        root = yaml.compose(text, Loader=_SafeLoader)
    except yaml.YAMLError:
        return index

    # Iterative, and each node visited once: deep nesting and recursive aliases are safe.
    pending: list[tuple[yaml.Node, Location]] = [(root, ())] if root is not None else []
    visited: set[int] = set()
    while pending:
        node, path = pending.pop()
        index.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = (*path, key_node.value)
                index[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                pending.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, (*path, position)) for position, item in enumerate(node.value))
    return index


#: How YAML 1.1 may have spelled a key that it read as a boolean.
_BOOLEAN_SPELLINGS = {
    True: ("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "y", "Y"),
    False: ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "n", "N"),
}


def locate(index: dict[Location, tuple[int, int]], path: Location) -> tuple[int, int]:
    """The position of ``path``, or of its nearest enclosing element that exists in the file."""
    for length in range(len(path), -1, -1):
        prefix = path[:length]
        if prefix and isinstance(prefix[-1], bool):
            for spelling in _BOOLEAN_SPELLINGS[prefix[-1]]:
                position = index.get((*prefix[:-1], spelling))
                if position is not None:
                    return position
        position = index.get(prefix)
        if position is not None:
            return position
    return (1, 1)


def _describe(path: Location) -> str:
    parts: list[str] = []
    for step in path:
        if isinstance(step, bool):
            parts.append(f".{str(step).lower()}")
        elif isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append(f".{step}" if parts else str(step))
    return "".join(parts) or "the top level"


# --------------------------------------------------------------------------- pydantic errors


def _model_fields_at(loc: Location, root: type[BaseModel]) -> list[str]:
    """Field names of the model that owns the last step of ``loc`` (for "did you mean")."""
    model: Any = root
    for step in loc[:-1]:
        if isinstance(step, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(str(step))
        if field is None:
            return []
        model = _innermost_model(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [field.alias or name for name, field in model.model_fields.items()]
    return []


def _innermost_model(annotation: Any) -> Any:
    """Unwrap ``tuple[X, ...]``, ``X | None`` and ``Annotated`` down to a model class."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _innermost_model(argument)
        if found is not None:
            return found
    return None


#: Plain-language versions of the schema's patterns.
_PATTERN_HELP = {
    ID_PATTERN: "use letters, digits, `.`, `_` or `-`, starting with a letter or digit",
    KEY_PATTERN: "use lower-case letters, digits and `-` only, e.g. `ccpm` or `jiu-rbm`",
    LANG_PATTERN: "use a two-letter language code such as `en` or `fr`",
    COLOUR_PATTERN: "write the colour as `#rrggbb`, e.g. `#1fc63c`",
}


def _shown(value: object) -> str:
    """A short, one-line rendering of a value, safe for deep or recursive input."""
    if isinstance(value, dict | list | tuple):
        return f"a {type(value).__name__}"
    return repr(value)[:60]


def _message_for(detail: Any, loc: Location, root: type[BaseModel]) -> tuple[ErrorCode, str]:
    kind, value, where = detail["type"], detail["input"], _describe(loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _model_fields_at(loc, root)
        guess = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean `{guess[0]}`?" if guess else f"allowed here: {', '.join(allowed)}"
        return ErrorCode.UNKNOWN_KEY, f"unknown key `{key}` at {where}: {hint}"
    if isinstance(value, bool) and kind != "bool_type":
        return ErrorCode.INVALID_VALUE, (
            f"{where} was read as {str(value).lower()}: YAML treats No/Yes/On/Off/true/false "
            "as booleans, so put the text in quotes, e.g. 'No'")
    if kind == "missing":
        return ErrorCode.MISSING_KEY, f"`{loc[-1]}` is required at {_describe(loc[:-1])}: add it"
    if kind == "dict_type" and isinstance(value, int | float | str):
        return ErrorCode.INVALID_VALUE, (
            f"{where} should be text (or `en:` and `fr:` lines), not the number {value!r}: "
            "put it in quotes")
    if kind in ("model_type", "model_attributes_type", "dict_type", "tuple_type"):
        wanted = "a list" if kind == "tuple_type" else "a mapping (key: value lines)"
        return ErrorCode.NOT_A_MAPPING, f"{where} should be {wanted}, not {_shown(value)}"
    if kind == "string_type" and isinstance(value, int | float):
        return ErrorCode.INVALID_VALUE, (
            f"{where} should be text but YAML read the number {value!r}: put it in quotes, "
            f'e.g. "{value}"')
    if kind == "string_pattern_mismatch":
        help_text = _PATTERN_HELP.get(detail.get("ctx", {}).get("pattern"), detail["msg"])
        return ErrorCode.INVALID_VALUE, f"{where}: {_shown(value)} is not allowed here: {help_text}"
    if kind == "too_short":
        return ErrorCode.INVALID_VALUE, f"{where} is empty: it needs at least one entry"
    return ErrorCode.INVALID_VALUE, f"{where}: {detail['msg']} (got {_shown(value)})"


def _key_aware_location(detail: Any) -> Location:
    """The error's path; for an error in a mapping key, the path of the key itself.

    pydantic reports a bad key as (..., position, "[key]"), and a boolean key (YAML's
    unquoted ``no:``) at position 0 or 1; the key's own value locates it in the file.
    """
    loc: Location = tuple(detail["loc"])
    if loc and loc[-1] == "[key]":
        key = detail["input"]
        return (*loc[:-2], key) if isinstance(key, bool) else loc[:-1]
    return loc


def pydantic_problems(
    error: ValidationError, filename: str, index: dict[Location, tuple[int, int]],
    root: type[BaseModel] = Instrument,
) -> list[Problem]:
    """Located problems of a failed validation of ``root`` (the instrument, or an overlay)."""
    details = error.errors(include_url=False)
    locs = [_key_aware_location(detail) for detail in details]
    problems: list[Problem] = []
    for detail, loc in zip(details, locs, strict=True):
        if detail["type"] == "too_short" and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in locs
        ):
            continue  # the list is "empty" only because its elements failed: report those
        code, message = _message_for(detail, loc, root)
        problems.append(Problem(filename, *locate(index, loc), code, message))
    return problems


# --------------------------------------------------------------------------- parsing


EMPTY_MESSAGE = "the file is empty: start from the worked example in instruments/README.md"


def decode_text(data: bytes, fail: Callable[..., InstrumentInvalid], empty_message: str,
                binary_advice: str) -> str:
    """The UTF-8 text of a YAML file, or the failure that says how to save it properly."""
    if not data.strip():
        raise fail(ErrorCode.EMPTY_FILE, empty_message)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fail(ErrorCode.NOT_TEXT, "the file is saved as UTF-16: save it as UTF-8 text")
    if b"\x00" in data:
        raise fail(ErrorCode.NOT_TEXT, f"this is a binary file, not YAML text: {binary_advice}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise fail(ErrorCode.NOT_TEXT, f"byte 0x{data[error.start]:02x} is not UTF-8: save the "
                   "file as UTF-8 text", line, column) from None


def read_yaml(text: str, fail: Callable[..., InstrumentInvalid]) -> Any:
    """The YAML document, or the failure that says where and how to fix the syntax."""
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except _DuplicateKey as error:
        mark = error.problem_mark
        raise fail(ErrorCode.DUPLICATE_KEY, str(error.problem), mark.line + 1, mark.column + 1
                   ) from None
    except yaml.MarkedYAMLError as error:
        problem = error.problem or "invalid YAML"
        if "expected a single document" in (error.context or ""):
            mark = error.problem_mark
            message = ("the file may hold only a single document: remove the second `---` "
                       "and what follows, or merge it into the first")
        elif "quoted scalar" in (error.context or "") and error.context_mark is not None:
            # An unclosed quote: the cause is where the quote opens, not the end of the file.
            mark = error.context_mark
            message = f"this quoted text is never closed ({problem}): add the closing quote"
        else:
            mark = error.problem_mark or error.context_mark
            message = f"{problem}: check indentation, colons and quotes around this point"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise fail(ErrorCode.YAML_SYNTAX, message, line, column) from None
    except yaml.reader.ReaderError as error:
        before = text[: error.position]
        line = before.count("\n") + 1
        column = error.position - (before.rfind("\n") + 1) + 1
        raise fail(ErrorCode.YAML_SYNTAX, f"unacceptable character #x{error.character:04x} "
                   "(a control character): delete it", line, column) from None
    except yaml.YAMLError as error:
        raise fail(ErrorCode.YAML_SYNTAX, f"invalid YAML ({error})") from None


def refuse_float_version(raw: dict[str, Any], text: str, fail: Callable[..., InstrumentInvalid],
                         field: str = "version") -> None:
    """A version YAML read as a number may have lost digits, so it is refused, not converted."""
    if isinstance(raw.get(field), float):
        line, column = locate(position_index(text), (field,))
        raise fail(ErrorCode.INVALID_VALUE, f"{field} {raw[field]!r} was read as a number, "
                   "which can drop digits (1.10 becomes 1.1): put it in quotes, e.g. \"1.10\"",
                   line, column)


def parse_instrument(data: bytes, filename: str) -> LoadedInstrument:
    """Validate instrument bytes; raise :class:`InstrumentInvalid` listing every problem."""
    digest = hashlib.sha256(data).hexdigest()
    cached = _cache.get(digest)
    if cached is not None:
        return LoadedInstrument(cached.instrument, digest, cached.text, filename)

    def fail(code: ErrorCode, message: str, line: int = 1, column: int = 1) -> InstrumentInvalid:
        return InstrumentInvalid([Problem(filename, line, column, code, message)])

    text = decode_text(data, fail, EMPTY_MESSAGE, "save the instrument as a UTF-8 .yaml text "
                       "file (an Excel workbook needs `from-excel`)")
    raw = read_yaml(text, fail)
    if raw is None:
        raise fail(ErrorCode.EMPTY_FILE, EMPTY_MESSAGE)
    if not isinstance(raw, dict):
        shape = "a list" if isinstance(raw, list) else f"a single {type(raw).__name__} value"
        raise fail(ErrorCode.NOT_A_MAPPING, f"the file holds {shape}: an instrument is a "
                   "mapping that starts with `key:`, `version:`, `title:` ...")
    refuse_float_version(raw, text, fail)

    try:
        instrument = Instrument.model_validate(raw)
    except ValidationError as error:
        problems = pydantic_problems(error, filename, position_index(text))
        raise InstrumentInvalid(sorted(problems, key=lambda p: (p.line, p.column))) from None

    issues = cross_check(instrument)
    if issues:
        index = position_index(text)
        problems = [
            Problem(filename, *locate(index, issue.location), issue.code, issue.message)
            for issue in issues
        ]
        raise InstrumentInvalid(sorted(problems, key=lambda p: (p.line, p.column)))

    loaded = LoadedInstrument(instrument, digest, text, filename)
    _cache[digest] = loaded
    return loaded


_cache: dict[str, LoadedInstrument] = {}


def clear_cache() -> None:
    """Forget parsed instruments (benchmarks measure cold loads with it)."""
    _cache.clear()


def load_instrument_file(path: str | Path) -> LoadedInstrument:
    """Read and validate one instrument file."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        raise InstrumentInvalid(
            [Problem(str(path), 1, 1, ErrorCode.UNREADABLE,
                     f"cannot read the file: {error.strerror}")]
        ) from None
    return parse_instrument(data, str(path))


def library_files() -> list[Path]:
    """The instrument files bundled with the package, sorted by name."""
    folder = resources.files(LIBRARY_PACKAGE) / LIBRARY_FOLDER
    return sorted(Path(str(entry)) for entry in folder.iterdir()
                  if entry.name.endswith((".yaml", ".yml")))


def load_library() -> dict[str, LoadedInstrument]:
    """Every bundled instrument, by key."""
    return {loaded.key: loaded for loaded in map(load_instrument_file, library_files())}



def load_instrument(key_or_path: str) -> LoadedInstrument:
    """A bundled instrument by key (``ccpm``), or any instrument file by path."""
    candidate = Path(key_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return load_instrument_file(candidate)
    library = load_library()
    if key_or_path in library:
        return library[key_or_path]
    guess = difflib.get_close_matches(key_or_path, list(library), n=1)
    hint = f"did you mean `{guess[0]}`?" if guess else f"known keys: {', '.join(sorted(library))}"
    raise InstrumentInvalid(
        [Problem(key_or_path, 1, 1, ErrorCode.UNKNOWN_REFERENCE,
                 f"no bundled instrument has the key `{key_or_path}` and no such file exists: "
                 f"{hint}")]
    )
