"""A built wheel carries everything the app needs outside this source tree.

How, and why this way: the wheel is built offline with this environment's own setuptools
(``pip wheel --no-deps --no-build-isolation``) from a clean copy of the tree, so leftovers
of earlier builds (``build/``) cannot hide a missing file. Its file list must hold every
template, static asset, migration, message catalogue and library instrument of the source,
and a probe YAML file added to the copy's instrument library proves that the package-data
rules ship new instruments too. The wheel is then installed with ``pip install --no-deps
--target`` into an empty folder and used from a separate Python process whose ``PYTHONPATH``
puts that folder first, run from outside the tree: the process checks that it imported the installed
copy, creates the app, migrates a new SQLite database and renders the sign-in page. The
dependencies come from this virtualenv, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SOURCE = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "instance", "*.egg-info", "__pycache__", ".*_cache", "tests"
)
#: Folders whose every file is data the installed app reads.
DATA_FOLDERS = ("templates", "surveyapp/static", "surveyapp/migrations", "surveyapp/translations",
                "instruments/library")
PROBE = "instruments/library/packaging-probe.yaml"

INSTALLED_APP_CHECK = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import surveyapp
    import templates
    from flask_migrate import upgrade

    site, instance = Path(sys.argv[1]), sys.argv[2]
    for module in (surveyapp, templates):
        assert Path(module.__file__).is_relative_to(site), f"imported {module.__file__}"
    app = surveyapp.create_app({"TESTING": True, "INSTANCE_PATH": instance})
    with app.app_context():
        upgrade()
    page = app.test_client().get("/auth/login")
    assert page.status_code == 200, page.status
    assert b"<h1>Sign in</h1>" in page.data
    # The compiled catalogues ship too: the page speaks French and Arabic once installed.
    french = app.test_client().get("/auth/login", headers={"Accept-Language": "fr"})
    assert "<h1>Se connecter</h1>" in french.get_data(as_text=True)
    arabic = app.test_client().get("/auth/login", headers={"Accept-Language": "ar"})
    assert '<html lang="ar" dir="rtl">' in arabic.get_data(as_text=True)
    assert app.test_client().get("/static/css/app.css").status_code == 200
    print("installed app works")
    """
)


def source_files(root: Path, folder: str) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in (root / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Build the wheel from a clean copy of the tree; return (copy, wheel)."""
    work = tmp_path_factory.mktemp("packaging")
    copy = work / "source"
    shutil.copytree(SOURCE, copy, ignore=NOT_SOURCE)
    (copy / PROBE).write_text("# Only here to show that library YAML files are packaged.\n")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         str(copy), "--wheel-dir", str(work / "dist")],
        capture_output=True,
        text=True,
        check=False,
        cwd=work,
    )  # fmt: skip
    assert build.returncode == 0, (
        "building the wheel failed; 'make install' puts the build requirements of "
        f"pyproject.toml into .venv:\n{build.stdout}{build.stderr}"
    )
    (wheel,) = (work / "dist").glob("surveyapp-*.whl")
    return copy, wheel


def test_wheel_holds_templates_assets_migrations_and_instruments(
    built: tuple[Path, Path],
) -> None:
    copy, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        packaged = set(archive.namelist())
        entry_points = next(
            archive.read(name).decode() for name in packaged if name.endswith("entry_points.txt")
        )
    for folder in DATA_FOLDERS:
        missing = source_files(copy, folder) - packaged
        assert not missing, f"{folder} files left out of the wheel: {sorted(missing)}"
    assert {"templates/base.html", "surveyapp/migrations/env.py", PROBE,
            "surveyapp/translations/fr/LC_MESSAGES/messages.mo",
            "surveyapp/translations/ar/LC_MESSAGES/messages.mo"} <= packaged
    assert any(name.startswith("surveyapp/migrations/versions/") for name in packaged)
    assert "surveyapp = surveyapp.cli:main" in entry_points
    assert not any(name.startswith("tests/") for name in packaged)


@pytest.mark.usefixtures("clean_environment")
def test_installed_wheel_runs_without_the_source_tree(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    _copy, wheel = built
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True,
    )  # fmt: skip
    assert (site / PROBE).is_file()
    environment = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", INSTALLED_APP_CHECK, str(site), str(tmp_path / "instance")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "installed app works" in result.stdout
