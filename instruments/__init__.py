"""Instruments: the declarative format, its loader and the bundled library.

The bottom layer of surveyapp: it imports nothing from scoring, reports or the
web app. See ``instruments/README.md`` for the file format.
"""

from instruments.errors import ErrorCode, InstrumentInvalid, Problem
from instruments.loader import (
    LoadedInstrument,
    load_instrument,
    load_instrument_file,
    load_library,
    parse_instrument,
)
from instruments.schema import Instrument

__all__ = [
    "ErrorCode",
    "Instrument",
    "InstrumentInvalid",
    "LoadedInstrument",
    "Problem",
    "load_instrument",
    "load_instrument_file",
    "load_library",
    "parse_instrument",
]
