"""Random input never escapes the loader as anything but located problems.

``parse_instrument`` must return a :class:`LoadedInstrument` or raise
:class:`InstrumentInvalid` whose problems each format as ``FILE:LINE:COLUMN: Ixxx message``
(the issue: "a hypothesis test feeds random YAML and never sees an uncaught exception").
Three sources of input: raw bytes; YAML documents whose keys are mostly the format's own
field names, so that the schema layer is reached; and single mutations of a valid
instrument, which also reach the cross-field checks. What the messages say, and that each
stays on one line, is checked file by file in the broken corpus (test_broken_files.py).
"""

from __future__ import annotations

import copy
import re
import typing
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from instruments import schema
from instruments.errors import InstrumentInvalid
from instruments.loader import LoadedInstrument, parse_instrument

FUZZ_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FILENAME = "fuzz.yaml"
LOCATED = re.compile(r"fuzz\.yaml:(?P<line>\d+):(?P<column>\d+): I\d{3} ")


def _schema_models() -> list[type[BaseModel]]:
    return [value for value in vars(schema).values()
            if isinstance(value, type) and issubclass(value, BaseModel)
            and value.__module__ == schema.__name__]


def _field_names() -> list[str]:
    """Every key the format knows, by its name in the file."""
    names: set[str] = set()
    for model in _schema_models():
        names.update(field.alias or name for name, field in model.model_fields.items())
    return sorted(names)


def _literal_values() -> list[str]:
    """Every allowed value of the format's fixed vocabularies (item types, methods, roles...)."""
    values: set[str] = set()

    def collect(annotation: object) -> None:
        if typing.get_origin(annotation) is typing.Literal:
            values.update(str(argument) for argument in typing.get_args(annotation))
        for argument in typing.get_args(annotation):
            collect(argument)

    for model in _schema_models():
        for field in model.model_fields.values():
            collect(field.annotation)
    return sorted(values)


FIELD_NAMES = _field_names()
VOCABULARY = _literal_values()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from([*VOCABULARY, "en", "fr", "q1", "1", "1.1", "#C0392B", "${q1} = 4", ""]),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8), st.integers(0, 5))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=6),
    ),
    max_leaves=40,
)


def assert_loads_or_reports_located_problems(data: bytes) -> None:
    try:
        loaded = parse_instrument(data, FILENAME)
    except InstrumentInvalid as error:
        assert error.problems, "InstrumentInvalid without a problem"
        event("invalid: " + ", ".join(sorted({p.code.code for p in error.problems})))
        for problem in error.problems:
            formatted = problem.format()
            match = LOCATED.match(formatted)
            assert match, formatted
            assert int(match["line"]) >= 1 and int(match["column"]) >= 1, formatted
            assert problem.message.strip(), formatted
    else:
        assert isinstance(loaded, LoadedInstrument)
        event("valid")


def dump(document: object) -> bytes:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8")


@FUZZ_SETTINGS
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
def test_random_bytes(data: bytes) -> None:
    assert_loads_or_reports_located_problems(data)


@FUZZ_SETTINGS
@given(st.dictionaries(keys, documents, max_size=8))
def test_random_yaml_documents(document: dict[Any, Any]) -> None:
    assert_loads_or_reports_located_problems(dump(document))


def _paths(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every element below the root of a loaded YAML document."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*path, key)))
    elif isinstance(value, list):
        for position, child in enumerate(value):
            found.extend(_paths(child, (*path, position)))
    return found


def _mutate(document: Any, path: tuple[Any, ...], mutation: str, replacement: object) -> Any:
    """One change at ``path``: delete it, replace its value, or duplicate a list element."""
    mutated = copy.deepcopy(document)
    parent = mutated
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if mutation == "delete":
        del parent[last]
    elif mutation == "duplicate" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))
    else:
        parent[last] = replacement
    return mutated


@FUZZ_SETTINGS
@given(data=st.data())
def test_mutations_of_a_valid_instrument(mini_text: str, data: st.DataObject) -> None:
    document = yaml.safe_load(mini_text)
    path = data.draw(st.sampled_from(_paths(document)), label="path")
    mutation = data.draw(st.sampled_from(["delete", "replace", "duplicate"]), label="mutation")
    replacement = data.draw(documents, label="replacement")
    assert_loads_or_reports_located_problems(dump(_mutate(document, path, mutation, replacement)))
