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
import types
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from instruments.checks import Location, cross_check
from instruments.errors import ErrorCode, InstrumentInvalid, Problem
from instruments.schema import Instrument

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LIBRARY_PACKAGE = "instruments"
LIBRARY_FOLDER = "library"


@dataclass(frozen=True)
class LoadedInstrument:
    """A validated instrument with the exact text it came from and that text's sha256."""

    instrument: Instrument
    sha256: str
    text: str
    path: str

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

    def walk(node: yaml.Node, path: Location) -> None:
        index.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = (*path, key_node.value)
                index[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                walk(item, (*path, position))

    if root is not None:
        walk(root, ())
    return index


def locate(index: dict[Location, tuple[int, int]], path: Location) -> tuple[int, int]:
    """The position of ``path``, or of its nearest enclosing element that exists in the file."""
    for length in range(len(path), -1, -1):
        position = index.get(path[:length])
        if position is not None:
            return position
    return (1, 1)


def _describe(path: Location) -> str:
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append(f".{step}" if parts else str(step))
    return "".join(parts) or "the top level"


# --------------------------------------------------------------------------- pydantic errors


def _model_fields_at(loc: Location) -> list[str]:
    """Field names of the model that owns the last step of ``loc`` (for "did you mean")."""
    model: Any = Instrument
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
    if isinstance(annotation, types.UnionType):
        return None
    return None


def _pydantic_problems(
    error: ValidationError, filename: str, index: dict[Location, tuple[int, int]]
) -> list[Problem]:
    problems: list[Problem] = []
    details = error.errors(include_url=False)
    failed_paths = [tuple(detail["loc"]) for detail in details]
    for detail in details:
        loc: Location = tuple(detail["loc"])
        kind = detail["type"]
        if kind == "too_short" and any(len(p) > len(loc) and p[: len(loc)] == loc
                                       for p in failed_paths):
            continue  # the list is "empty" only because its elements failed: report those
        if isinstance(detail["input"], bool) and kind != "bool_type":
            line, column = locate(index, loc)
            problems.append(Problem(
                filename, line, column, ErrorCode.INVALID_VALUE,
                f"{_describe(loc)} was read as {str(detail['input']).lower()}: YAML treats "
                "No/Yes/On/Off/true/false as booleans, so put the text in quotes, e.g. 'No'"))
            continue
        where = _describe(loc)
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = _model_fields_at(loc)
            guess = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean `{guess[0]}`?" if guess else f"allowed here: {', '.join(allowed)}"
            code, message = ErrorCode.UNKNOWN_KEY, f"unknown key `{key}` at {where}: {hint}"
        elif kind == "missing":
            code = ErrorCode.MISSING_KEY
            message = f"`{loc[-1]}` is required at {_describe(loc[:-1])}: add it"
        elif kind in ("model_type", "model_attributes_type", "dict_type", "tuple_type"):
            code = ErrorCode.NOT_A_MAPPING
            wanted = "a list" if kind == "tuple_type" else "a mapping (key: value lines)"
            message = f"{where} should be {wanted}, not {type(detail['input']).__name__}"
        else:
            code = ErrorCode.INVALID_VALUE
            message = f"{where}: {detail['msg']} (got {detail['input']!r:.60})"
        line, column = locate(index, loc)
        problems.append(Problem(filename, line, column, code, message))
    return problems


# --------------------------------------------------------------------------- parsing


def parse_instrument(data: bytes, filename: str) -> LoadedInstrument:
    """Validate instrument bytes; raise :class:`InstrumentInvalid` listing every problem."""
    digest = hashlib.sha256(data).hexdigest()
    cached = _cache.get(digest)
    if cached is not None:
        return LoadedInstrument(cached.instrument, digest, cached.text, filename)

    def fail(code: ErrorCode, message: str, line: int = 1, column: int = 1) -> InstrumentInvalid:
        return InstrumentInvalid([Problem(filename, line, column, code, message)])

    if not data.strip():
        raise fail(ErrorCode.EMPTY_FILE, "the file is empty: start from the worked example in "
                   "instruments/README.md")
    if b"\x00" in data:
        raise fail(ErrorCode.NOT_TEXT, "this is a binary file, not YAML text: save the "
                   "instrument as a .yaml text file (an Excel workbook needs `from-excel`)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise fail(ErrorCode.NOT_TEXT, f"byte {error.start} is not UTF-8: save the file as UTF-8"
                   ) from None
    try:
        raw = yaml.load(text, Loader=_StrictLoader)
    except _DuplicateKey as error:
        mark = error.problem_mark
        raise fail(ErrorCode.DUPLICATE_KEY, str(error.problem), mark.line + 1, mark.column + 1
                   ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = error.problem or "invalid YAML"
        raise fail(ErrorCode.YAML_SYNTAX, f"{reason}: check indentation, colons and quotes "
                   "around this point", line, column) from None
    except yaml.YAMLError as error:
        raise fail(ErrorCode.YAML_SYNTAX, f"invalid YAML ({error})") from None
    if not isinstance(raw, dict):
        shape = "a list" if isinstance(raw, list) else f"a single {type(raw).__name__} value"
        raise fail(ErrorCode.NOT_A_MAPPING, f"the file holds {shape}: an instrument is a "
                   "mapping that starts with `key:`, `version:`, `title:` ...")

    try:
        instrument = Instrument.model_validate(raw)
    except ValidationError as error:
        problems = _pydantic_problems(error, filename, position_index(text))
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
            [Problem(str(path), 1, 1, ErrorCode.NOT_TEXT,
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
