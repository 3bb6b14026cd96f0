"""No personal data and no secret in the log, at any level.

One filter rewrites every record as it is made (a record factory, so it also covers handlers
added later, such as a test's capture): the configured secrets become "***", and the records that
echo query data (aiosqlite's debug lines, SQLAlchemy's result rows) keep only that they happened.
SQLAlchemy's statement parameters are hidden by the engine itself (hide_parameters)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

HIDDEN = "***"
# Loggers whose records below WARNING carry query parameters or rows, whatever their wording.
DATA_ECHOING = ("aiosqlite", "asyncpg")
SQLALCHEMY_ROW = "Row %r"
# Secrets that look like themselves, even before the settings are known: a Telegram bot token,
# a password in a URL, a key or token in a query string (VK's long poll key), the input that
# pydantic quotes in a validation error (a malformed update: ids, names, text).
_PATTERNS = (
    (re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"), HIDDEN),
    (re.compile(r"(://[^:/@\s]*:)[^@\s]+@"), rf"\g<1>{HIDDEN}@"),
    (re.compile(r"([?&](?:key|access_token|token|secret)=)[^&\s'\"]+"), rf"\g<1>{HIDDEN}"),
    (re.compile(r"(input_value=).*?(, input_type=)"), rf"\g<1>{HIDDEN}\g<2>"),
)


class PrivacyFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add_secrets(self, secrets: Iterable[str | None]) -> None:
        self.secrets.update(secret for secret in secrets if secret and len(secret) >= 4)

    def redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, HIDDEN)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING and record.name.split(".")[0] in DATA_ECHOING:
            record.msg, record.args = "%s: details hidden (they carry query data)", (record.name,)
        elif record.name.startswith("sqlalchemy.engine") and record.msg == SQLALCHEMY_ROW:
            record.args = (HIDDEN,)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error report
            return True
        record.msg, record.args = self.redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


PRIVACY = PrivacyFilter()
_installed = False


def install_privacy_filter(secrets: Iterable[str | None] = ()) -> PrivacyFilter:
    """Put PRIVACY in front of every record (once per process) and teach it `secrets`."""
    global _installed
    PRIVACY.add_secrets(secrets)
    if not _installed:
        make_record = logging.getLogRecordFactory()

        def private_record(*args, **kwargs) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            PRIVACY.filter(record)
            return record

        logging.setLogRecordFactory(private_record)
        _installed = True
    return PRIVACY
