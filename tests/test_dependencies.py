"""Every package the code imports is declared in pyproject.toml, bounded to a major version, and
every declared package is used."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from bot.config import PROJECT_ROOT

SHIPPED = ("bot", "handlers", "scheduler")
TESTS = ("tests", "bench")
FIRST_PARTY = {"bot", "handlers", "scheduler", "content", "tests", "bench"}
# Loaded by name, never imported: SQLAlchemy picks the driver from DATABASE_URL.
DRIVERS = {"aiosqlite", "asyncpg"}


def pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def requirements(group: str | None = None) -> dict[str, str]:
    """Distribution name -> its version specifier, e.g. "sqlalchemy" -> ">=2.0.30,<3"."""
    project = pyproject()["project"]
    listed = project["optional-dependencies"][group] if group else project["dependencies"]
    parsed = (re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?\s*(.*)", line.strip()) for line in listed)
    return {canonical(match[1]): match[3] for match in parsed}


def canonical(name: str) -> str:
    return name.lower().replace("_", "-")


def imported_distributions(folders: tuple[str, ...]) -> set[str]:
    owners = packages_distributions()
    modules: set[str] = set()
    for folder in folders:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    third_party = modules - FIRST_PARTY - set(sys.stdlib_module_names)
    return {canonical(owners[module][0]) for module in third_party if module in owners}


def test_what_the_bot_imports_is_declared():
    assert imported_distributions(SHIPPED) - set(requirements()) == set()


def test_what_the_tests_import_is_declared():
    declared = set(requirements()) | set(requirements("test"))
    assert imported_distributions(TESTS) - declared == set()


def test_every_declared_dependency_is_used():
    used = imported_distributions(SHIPPED) | DRIVERS
    assert set(requirements()) - used == set()
    # pytest plugins; what pip builds the wheel with; the linter and type checker .ci/run calls
    used_by_tests = imported_distributions(TESTS) | {"pytest-asyncio", "pytest-xdist", "wheel", "ruff", "mypy"}
    assert set(requirements("test")) - used_by_tests == set()


def test_every_dependency_is_bounded_by_a_major_version():
    for name, specifier in (requirements() | requirements("test")).items():
        assert re.search(r"(<|==|~=)\s*\d", specifier), f"{name}{specifier} has no upper bound"
