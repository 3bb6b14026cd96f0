"""The event store's kinds are an explicit, documented list: the README's table names each kind of
EventKind once, with its object and value, and nothing else; every kind a report counts is one."""

from __future__ import annotations

import re

from bot.config import PROJECT_ROOT
from bot.services.events import EventKind
from bot.services.reports.counted import COUNTED_KINDS
from bot.services.reports.reach import REACH_KIND_NAMES


def documented_kinds() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**The event store**", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \| [^|]+ \| [^|]+ \|$", section, flags=re.MULTILINE)


def test_the_readme_documents_every_event_kind_once_and_no_other():
    documented = documented_kinds()
    assert len(documented) == len(set(documented))
    assert sorted(documented) == sorted(kind.value for kind in EventKind)


def test_the_reports_count_only_kinds_that_exist():
    assert set(COUNTED_KINDS) | set(REACH_KIND_NAMES) <= {kind.value for kind in EventKind}
