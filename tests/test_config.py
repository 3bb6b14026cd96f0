"""A configuration mistake ends with exit code 2 and one line naming the variable and the fix."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings

VALID_TOKEN = "123456789:AAEmulatorTokenForTheVmesteTestSuite"


def run_bot(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("BOT_", "VK_", "TELEGRAM_", "DATABASE_", "WEBHOOK_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=clean | env, capture_output=True, text=True, timeout=60
    )


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
def test_config_mistake_prints_one_line_and_exits_2(tmp_path, env, variable):
    result = run_bot(tmp_path, "run", **env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"config error: {variable}: ")
    assert "—" in lines[0]  # the fix follows the dash


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"BOT_TOKEN": VALID_TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:9"}, "TELEGRAM_API_URL"),
        ({"VK_TOKEN": "vk1.a.token", "VK_GROUP_ID": "42", "VK_API_URL": "http://127.0.0.1:9"}, "VK_API_URL"),
    ],
)
def test_unreachable_api_server_is_a_config_error(tmp_path, env, variable):
    result = run_bot(tmp_path, "run", DATABASE_URL=f"sqlite:///{tmp_path}/x.db", LOG_LEVEL="ERROR", **env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"config error: {variable}: cannot reach the API server")
    assert "Traceback" not in result.stderr


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
