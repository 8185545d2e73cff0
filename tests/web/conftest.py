"""Fixtures shared by the web tests: the people and units of ``cycles_world``, an open cycle.

Modules built on ``evidence_world`` (one organisation and its evidence) define their own
``world``, which takes precedence over this one.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from surveyapp.models import Unit, User
from tests.web.cycles_world import MINI, MINI_FRAMEWORK, World, build_world, make_cycle


@pytest.fixture
def world(make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> World:
    return build_world(make_unit, make_user)


@pytest.fixture
def mini(app: Flask, world: World) -> int:
    """An open MINI cycle of the Health cluster with one focal point and a validator."""
    return make_cycle(app, MINI, world.cluster, world.coordinator,
                      focal_points=[world.focal_point], validators=[world.validator],
                      framework=MINI_FRAMEWORK)
