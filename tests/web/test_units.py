"""The unit tree, roles inherited down it, and the home page each role sees first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from surveyapp.extensions import db
from surveyapp.models import Role, Unit, UnitKind, User
from surveyapp.services import ServiceError
from surveyapp.services.units import coverage, create_unit, grant_role, roles_for


@dataclass(frozen=True)
class Tree:
    """Two countries with clusters, one sub-national cluster, and a separate mission."""

    car: Unit
    car_health: Unit
    car_wash: Unit
    car_health_west: Unit
    chad: Unit
    chad_health: Unit
    mission: Unit


@pytest.fixture
def tree(make_unit: Callable[..., Unit]) -> Tree:
    car = make_unit("CAR", name="Central African Republic")
    car_health = make_unit("CAR-HEALTH", name="Health", kind=UnitKind.cluster, parent=car)
    chad = make_unit("TCD", name="Chad")
    return Tree(
        car=car,
        car_health=car_health,
        car_wash=make_unit("CAR-WASH", name="WASH", kind=UnitKind.cluster, parent=car),
        car_health_west=make_unit(
            "CAR-HEALTH-W", name="Health (west)", kind=UnitKind.cluster, parent=car_health
        ),
        chad=chad,
        chad_health=make_unit("TCD-HEALTH", name="Health", kind=UnitKind.cluster, parent=chad),
        mission=make_unit("MINUSCA", kind=UnitKind.mission),
    )


def fresh(unit: Unit) -> Unit:
    """Load ``unit`` again in the current app context."""
    loaded = db.session.get(Unit, unit.id)
    assert loaded is not None
    return loaded


def test_country_coordinator_has_the_role_on_its_clusters_only(
    app: Flask, tree: Tree, make_user: Callable[..., User]
) -> None:
    coordinator = make_user(role=Role.coordinator, unit=tree.car)
    with app.app_context():
        user = db.session.get(User, coordinator.id)
        assert user is not None
        assert roles_for(user, fresh(tree.car)) == {Role.coordinator}
        assert roles_for(user, fresh(tree.car_health)) == {Role.coordinator}
        assert roles_for(user, fresh(tree.car_health_west)) == {Role.coordinator}
        assert roles_for(user, fresh(tree.chad)) == frozenset()
        assert roles_for(user, fresh(tree.chad_health)) == frozenset()
        assert roles_for(user, fresh(tree.mission)) == frozenset()


def test_roles_do_not_travel_up_and_combine_down(
    app: Flask, tree: Tree, make_user: Callable[..., User]
) -> None:
    focal_point = make_user(role=Role.focal_point, unit=tree.car_health)
    with app.app_context():
        user = db.session.get(User, focal_point.id)
        assert user is not None
        assert roles_for(user, fresh(tree.car)) == frozenset()
        assert roles_for(user, fresh(tree.car_wash)) == frozenset()
        grant_role(user, fresh(tree.car), Role.viewer)
        assert roles_for(user, fresh(tree.car_health_west)) == {Role.focal_point, Role.viewer}


def test_ancestors_and_descendants(app: Flask, tree: Tree) -> None:
    with app.app_context():
        west = fresh(tree.car_health_west)
        assert [unit.code for unit in west.ancestors()] == ["CAR", "CAR-HEALTH"]
        assert [unit.code for unit in fresh(tree.car).descendants()] == [
            "CAR-HEALTH",
            "CAR-HEALTH-W",
            "CAR-WASH",
        ]
        assert fresh(tree.car).ancestors() == []
        assert fresh(tree.mission).descendants() == []


def test_coverage_lists_each_role_as_a_tree_without_repeats(
    app: Flask, tree: Tree, make_user: Callable[..., User]
) -> None:
    viewer = make_user(role=Role.viewer, unit=tree.car)
    with app.app_context():
        user = db.session.get(User, viewer.id)
        assert user is not None
        grant_role(user, fresh(tree.car_health), Role.viewer)  # already covered through CAR
        grant_role(user, fresh(tree.mission), Role.viewer)
        grant_role(user, fresh(tree.chad_health), Role.validator)
        listing = {
            entry.role: [(row.unit.code, row.depth) for row in entry.units]
            for entry in coverage(user)
        }
    assert listing == {
        Role.validator: [("TCD-HEALTH", 0)],
        Role.viewer: [
            ("CAR", 0),
            ("CAR-HEALTH", 1),
            ("CAR-HEALTH-W", 2),
            ("CAR-WASH", 1),
            ("MINUSCA", 0),
        ],
    }
    assert list(listing) == [Role.validator, Role.viewer]  # role order, as on the home page


def test_grant_role_twice_keeps_one_membership(
    app: Flask, tree: Tree, make_user: Callable[..., User]
) -> None:
    made = make_user()
    with app.app_context():
        user = db.session.get(User, made.id)
        assert user is not None
        first = grant_role(user, fresh(tree.car), Role.viewer)
        assert grant_role(user, fresh(tree.car), Role.viewer).id == first.id
        assert len(user.memberships) == 1


def test_unit_codes_are_unique(app: Flask, tree: Tree) -> None:
    with app.app_context(), pytest.raises(ServiceError, match="already exists"):
        create_unit("CAR", "Another", UnitKind.country)


def test_coordinator_home_page(
    client: FlaskClient, tree: Tree, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    login(make_user(name="Inter-cluster coordinator", role=Role.coordinator, unit=tree.car))
    page = client.get("/").get_data(as_text=True)
    assert "Welcome, Inter-cluster coordinator" in page
    assert "Coordinator: <abbr" in page  # the role in the header
    assert '<h2 id="role-coordinator">Coordinator</h2>' in page
    assert "Units covered (4)" in page
    for code in ("CAR", "CAR-HEALTH", "CAR-HEALTH-W", "CAR-WASH"):
        assert f"<td>{code}</td>" in page
    assert "<td>TCD</td>" not in page
    assert "<td>MINUSCA</td>" not in page


def test_focal_point_home_page(
    client: FlaskClient, tree: Tree, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    login(make_user(role=Role.focal_point, unit=tree.car_wash))
    page = client.get("/").get_data(as_text=True)
    assert '<h2 id="role-focal_point">Focal point</h2>' in page
    assert "fill in the self-assessment" in page
    assert "Units covered (1)" in page
    assert "<td>CAR</td>" not in page


def test_admin_home_page_counts_users_and_units(
    client: FlaskClient, tree: Tree, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    make_user()
    login(make_user(role=Role.admin, unit=tree.mission))
    page = client.get("/").get_data(as_text=True)
    assert "This site has 2 users and 7 units." in page


def test_home_page_of_a_user_without_roles(
    client: FlaskClient, make_user: Callable[..., User], login: Callable[..., object]
) -> None:
    login(make_user())
    page = client.get("/").get_data(as_text=True)
    assert "You do not hold a role on any unit yet." in page
    assert "No roles yet." in page
    assert 'class="role-section"' not in page
