"""A configuration mistake ends with exit code 2 and one line naming the variable and the fix."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings

VALID_TOKEN = "123456789:AAEmulatorTokenForTheVmesteTestSuite"


BOT_VARIABLES = ("BOT_", "VK_", "TELEGRAM_", "DATABASE_", "WEBHOOK_")


def run_bot(tmp_path, *args: str, python_flags: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(BOT_VARIABLES)}
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "bot", *args], cwd=tmp_path, env=clean | env, capture_output=True, text=True, timeout=60
    )


@dataclass
class Ran:
    returncode: int
    stderr: str


@pytest.fixture
def run_in_process(tmp_path, monkeypatch, capsys):
    """`python -m bot ARGS` as run_bot, but bot.cli.main in this process (no interpreter to start):
    the same environment and folder, logging to standard error as in a fresh process, and no new
    import of aiogram allowed unless before_slow_imports is False (a config mistake is told before
    the slow imports)."""

    def run(*args: str, before_slow_imports: bool = True, **env: str) -> Ran:
        for key in [key for key in os.environ if key.startswith(BOT_VARIABLES)]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(tmp_path)
        hidden = [name for name in sys.modules if name == "aiogram" or name.startswith(("aiogram.", "bot.app"))] if before_slow_imports else []
        for name in hidden:
            monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
        capsys.readouterr()
        with logging_as_in_a_new_process():
            returncode = main(list(args))
        return Ran(returncode, capsys.readouterr().err)

    return run


@contextmanager
def logging_as_in_a_new_process() -> Iterator[None]:
    """No handlers on the root logger (pytest's are put back after), so logging.basicConfig
    writes to standard error as it does in `python -m bot`."""
    loggers = [logging.getLogger(name) for name in (None, "alembic", "apscheduler")]
    saved = [(logger, logger.handlers, logger.level) for logger in loggers]
    logging.getLogger().handlers = []
    try:
        yield
    finally:
        for logger, handlers, level in saved:
            logger.handlers = handlers
            logger.setLevel(level)


def without_import_times(stderr: str) -> tuple[list[str], list[str]]:
    """(the other lines, the names of the modules imported) from a `python -X importtime` run."""
    lines = stderr.strip().splitlines()
    imported = [line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")]
    return [line for line in lines if not line.startswith("import time:")], imported


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "BOT_TOKEN"),
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": VALID_TOKEN, "DATABASE_URL": "localhost:5432"}, "DATABASE_URL"),
        ({"BOT_TOKEN": VALID_TOKEN, "DATABASE_URL": "mysql://root@localhost/db"}, "DATABASE_URL"),
        ({"BOT_TOKEN": VALID_TOKEN, "DEFAULT_TIMEZONE": "Europe/Atlantis"}, "DEFAULT_TIMEZONE"),
        ({"BOT_TOKEN": VALID_TOKEN, "WEBHOOK_URL": "https://bot.example.org/hook"}, "WEBHOOK_SECRET"),
        ({"BOT_TOKEN": VALID_TOKEN, "TELEGRAM_API_URL": "127.0.0.1:8081"}, "TELEGRAM_API_URL"),
        ({"BOT_TOKEN": VALID_TOKEN, "ADMINS": "alice"}, "ADMINS"),
        ({"BOT_TOKEN": VALID_TOKEN, "CONTENT_DIR": "/nonexistent"}, "CONTENT_DIR"),
        ({"VK_TOKEN": "vk1.a.token"}, "VK_GROUP_ID"),
        ({"VK_TOKEN": "vk1.a.token", "VK_GROUP_ID": "club42"}, "VK_GROUP_ID"),
        ({"VK_TOKEN": "vk1.a.token", "VK_GROUP_ID": "42", "VK_CONFIRMATION_CODE": "abc"}, "VK_CALLBACK_SECRET"),
        ({"VK_TOKEN": "vk1.a.token", "VK_GROUP_ID": "42", "VK_API_URL": "vk.local"}, "VK_API_URL"),
    ],
)
def test_config_mistake_prints_one_line_and_exits_2(run_in_process, env, variable):
    result = run_in_process("run", **env)  # run_in_process fails on an import of aiogram
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"config error: {variable}: ")
    assert "—" in lines[0]  # the fix follows the dash


@pytest.mark.starts_processes
def test_the_real_entry_point_prints_one_line_before_the_slow_imports(tmp_path):
    """The process run_in_process stands for: a mistake found last before the slow imports (the
    content folder), in a new interpreter, where every import shows."""
    result = run_bot(tmp_path, "run", python_flags=("-X", "importtime"), BOT_TOKEN=VALID_TOKEN, CONTENT_DIR="/nonexistent")
    assert result.returncode == 2, result.stderr
    lines, imported = without_import_times(result.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("config error: CONTENT_DIR: ")
    assert "—" in lines[0]  # the fix follows the dash
    assert "aiogram" not in imported  # checked before the slow imports: the answer comes at once


@pytest.mark.starts_processes
def test_no_token_is_told_within_a_second(tmp_path):
    def timed() -> float:
        started = time.monotonic()
        result = run_bot(tmp_path, "run")
        assert result.returncode == 2 and "BOT_TOKEN" in result.stderr
        return time.monotonic() - started

    assert min(timed() for _ in range(3)) < 1.0  # the best of three, on a machine shared with other work


@pytest.mark.parametrize(
    ("database", "fix"),
    [("vmeste_no_such_database", "create it"), ("postgres", "create the role")],
)
def test_a_missing_postgresql_database_or_role_is_one_line(run_in_process, database, fix):
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    from sqlalchemy.engine import make_url

    url = make_url(server).set(database=database)
    if fix == "create the role":
        url = url.set(username="vmeste_no_such_role", password="s3cret-pw")
    result = run_in_process("migrate", DATABASE_URL=url.render_as_string(hide_password=False))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("config error: DATABASE_URL: cannot open the database"), result.stderr
    assert fix in lines[0] and "s3cret-pw" not in lines[0]


def test_a_sqlite_file_in_a_new_folder_says_what_it_created(tmp_path, run_in_process):
    folder = tmp_path / "data" / "vmeste"
    result = run_in_process("migrate", DATABASE_URL=f"sqlite:///{folder}/vmeste.db", LOG_LEVEL="INFO")
    assert result.returncode == 0, result.stderr
    created = [line for line in result.stderr.splitlines() if "created the folder" in line]
    assert len(created) == 1 and str(folder) in created[0]
    assert (folder / "vmeste.db").exists()


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"BOT_TOKEN": VALID_TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:9"}, "TELEGRAM_API_URL"),
        ({"VK_TOKEN": "vk1.a.token", "VK_GROUP_ID": "42", "VK_API_URL": "http://127.0.0.1:9"}, "VK_API_URL"),
    ],
)
def test_unreachable_api_server_is_a_config_error(tmp_path, run_in_process, env, variable):
    result = run_in_process("run", before_slow_imports=False, DATABASE_URL=f"sqlite:///{tmp_path}/x.db", LOG_LEVEL="ERROR", **env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"config error: {variable}: cannot reach the API server at http://127.0.0.1:9")
    assert "Traceback" not in result.stderr


async def test_an_unset_api_url_names_the_server_tried():
    from aiogram.exceptions import TelegramNetworkError

    from bot.app import check_bot

    class Unreachable:
        async def me(self):
            raise TelegramNetworkError(method=None, message="Cannot connect to host")

    with pytest.raises(ConfigError) as raised:
        await check_bot(Unreachable(), "BOT_TOKEN", "TELEGRAM_API_URL", None, "https://api.telegram.org", attempts=1)
    assert str(raised.value).startswith("config error: TELEGRAM_API_URL (not set, so https://api.telegram.org was tried): cannot reach")


def test_env_file_is_read(tmp_path):
    (tmp_path / ".env").write_text(f"BOT_TOKEN={VALID_TOKEN}\nDEFAULT_LANGUAGE=ro\n")
    settings = load_settings(env_file=str(tmp_path / ".env"))
    assert settings.bot_token.get_secret_value() == VALID_TOKEN and settings.default_language == "ro"


def test_plain_database_urls_get_an_async_driver():
    assert load_settings(env_file=None, DATABASE_URL="sqlite:///data/x.db").database_url == "sqlite+aiosqlite:///data/x.db"
    assert load_settings(env_file=None, DATABASE_URL="postgresql://u:p@h/db").database_url == "postgresql+asyncpg://u:p@h/db"


def test_admins_accept_telegram_and_vk_ids():
    assert load_settings(env_file=None, ADMINS="123, vk:456").admin_accounts == {("telegram", 123), ("vk", 456)}
    with pytest.raises(ConfigError):
        load_settings(env_file=None, ADMINS="max:1")


def test_env_example_lists_every_setting():
    from bot.config import PROJECT_ROOT, Settings

    example = (PROJECT_ROOT / ".env.example").read_text()
    for field in Settings.model_fields.values():
        assert f"{field.alias}=" in example, field.alias
