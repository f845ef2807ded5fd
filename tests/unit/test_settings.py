"""The service's settings: read from GONGKAI_* variables when asked, checked, and the
database password taken from a file (a container secret) when one is named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from api.service.settings import Settings
from ledger.errors import InvalidInputError, StoreError
from ledger.store import default_url, redacted_url, with_password_file

PASSWORD = "s3cret pa:ss/w@rd%"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GONGKAI_* variable of the machine running the tests leaks into them."""
    for name in list(os.environ):
        if name.startswith("GONGKAI_"):
            monkeypatch.delenv(name)


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "db_password"
    path.write_text(PASSWORD + "\n", encoding="utf-8")  # as `echo` or `openssl rand` write
    return path


def test_defaults() -> None:
    settings = Settings.from_env()
    assert settings.db_url == "sqlite:///data/gongkai.sqlite3"
    assert settings.db_password_file is None
    assert settings.keys_dir == Path("data/keys")
    assert settings.checkpoint_interval == 300.0
    assert settings.witnesses == ()
    assert settings.page_limit == 500
    assert settings.public_url is None


def test_each_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_DB", "postgresql://u@h/db")
    monkeypatch.setenv("GONGKAI_KEYS_DIR", "/run/secrets/keys")
    monkeypatch.setenv("GONGKAI_CHECKPOINT_INTERVAL", "0")
    monkeypatch.setenv("GONGKAI_WITNESSES", " http://127.0.0.1:8001 ,, https://w.example ")
    monkeypatch.setenv("GONGKAI_PAGE_LIMIT", "50")
    monkeypatch.setenv("GONGKAI_PUBLIC_URL", "https://gongkai.example.org/")
    settings = Settings.from_env()
    assert settings.db_url == "postgresql://u@h/db"
    assert settings.keys_dir == Path("/run/secrets/keys")
    assert settings.checkpoint_interval == 0
    assert settings.witnesses == ("http://127.0.0.1:8001", "https://w.example")
    assert settings.page_limit == 50
    assert settings.public_url == "https://gongkai.example.org"


@pytest.mark.parametrize(
    "url", ["gongkai.example.org", "ftp://x.example", "https://", "https://x/?q=1"]
)
def test_a_public_url_is_an_http_address(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("GONGKAI_PUBLIC_URL", url)
    with pytest.raises(InvalidInputError, match="GONGKAI_PUBLIC_URL"):
        Settings.from_env()


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GONGKAI_DB", "GONGKAI_KEYS_DIR", "GONGKAI_WITNESSES"):
        monkeypatch.setenv(name, "")
    assert Settings.from_env() == Settings()
    assert Settings.from_env().db_url == "sqlite:///data/gongkai.sqlite3"


def test_keyword_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_CHECKPOINT_INTERVAL", "60")
    settings = Settings(db_url="sqlite:///other.sqlite3", checkpoint_interval=0)
    assert (settings.db_url, settings.checkpoint_interval) == ("sqlite:///other.sqlite3", 0)


def test_a_copy_with_another_database() -> None:
    settings = Settings(checkpoint_interval=5)
    copy = settings.model_copy(update={"db_url": "sqlite:///elsewhere.sqlite3"})
    assert copy.db_url == "sqlite:///elsewhere.sqlite3"
    assert copy.checkpoint_interval == 5
    assert settings.db_url == "sqlite:///data/gongkai.sqlite3"


def test_nothing_is_read_at_import_time() -> None:
    """Importing the service with a broken environment is fine; only asking fails."""
    bad = {"GONGKAI_CHECKPOINT_INTERVAL": "soon", "GONGKAI_DB_PASSWORD_FILE": "/nonexistent"}
    code = "import api.service.app, api.cli.main, api.service.settings"
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **bad}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GONGKAI_CHECKPOINT_INTERVAL", "soon"),
        ("GONGKAI_CHECKPOINT_INTERVAL", "-1"),
        ("GONGKAI_CHECKPOINT_INTERVAL", "nan"),
        ("GONGKAI_PAGE_LIMIT", "0"),
        ("GONGKAI_PAGE_LIMIT", "many"),
        ("GONGKAI_WITNESSES", "http://ok.example,witness.example"),
    ],
)
def test_a_bad_value_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidInputError, match=name) as raised:
        Settings.from_env()
    assert repr(value) in str(raised.value)  # says what was given


def test_every_bad_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_CHECKPOINT_INTERVAL", "soon")
    monkeypatch.setenv("GONGKAI_PAGE_LIMIT", "many")
    with pytest.raises(InvalidInputError) as raised:
        Settings.from_env()
    assert "GONGKAI_CHECKPOINT_INTERVAL" in str(raised.value)
    assert "GONGKAI_PAGE_LIMIT" in str(raised.value)


# --- the password file --------------------------------------------------------------------


def test_the_password_file_is_merged_into_the_url(
    monkeypatch: pytest.MonkeyPatch, password_file: Path
) -> None:
    monkeypatch.setenv("GONGKAI_DB", "postgresql://gongkai_service@postgres:5432/gongkai")
    monkeypatch.setenv("GONGKAI_DB_PASSWORD_FILE", str(password_file))
    url = Settings.from_env().db_url
    parts = urlsplit(url)
    assert parts.username == "gongkai_service"
    assert unquote(parts.password or "") == PASSWORD  # percent-encoded, newline dropped
    assert (parts.hostname, parts.port, parts.path) == ("postgres", 5432, "/gongkai")
    assert default_url() == url  # the command line reads the same


def test_the_password_stays_out_of_repr(
    monkeypatch: pytest.MonkeyPatch, password_file: Path
) -> None:
    monkeypatch.setenv("GONGKAI_DB", "postgresql://u@h/db")
    monkeypatch.setenv("GONGKAI_DB_PASSWORD_FILE", str(password_file))
    settings = Settings.from_env()
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in redacted_url(settings.db_url)
    assert redacted_url(settings.db_url) == "postgresql://u:***@h/db"


def test_a_url_with_a_password_is_refused(
    monkeypatch: pytest.MonkeyPatch, password_file: Path
) -> None:
    monkeypatch.setenv("GONGKAI_DB", "postgresql://u:inline-secret@h/db")
    monkeypatch.setenv("GONGKAI_DB_PASSWORD_FILE", str(password_file))
    with pytest.raises(InvalidInputError, match="already has a password") as raised:
        Settings.from_env()
    assert "inline-secret" not in str(raised.value)
    with pytest.raises(StoreError, match="already has a password"):
        default_url()


def test_a_password_in_the_query_is_refused_too(password_file: Path) -> None:
    with pytest.raises(StoreError, match="already has a password"):
        with_password_file("postgresql://u@h/db?password=x", password_file)


@pytest.mark.parametrize("content", ["", "\n", "\r\n\n"])
def test_an_empty_password_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "empty"
    path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("GONGKAI_DB", "postgresql://u@h/db")
    monkeypatch.setenv("GONGKAI_DB_PASSWORD_FILE", str(path))
    with pytest.raises(InvalidInputError, match=r"GONGKAI_DB_PASSWORD_FILE.*is empty"):
        Settings.from_env()


def test_a_missing_password_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GONGKAI_DB", "postgresql://u@h/db")
    monkeypatch.setenv("GONGKAI_DB_PASSWORD_FILE", str(tmp_path / "absent"))
    with pytest.raises(InvalidInputError, match=r"no password file at .*absent"):
        Settings.from_env()
    with pytest.raises(StoreError, match="no password file"):
        default_url()


def test_a_password_file_needs_a_postgresql_url_with_a_user(
    monkeypatch: pytest.MonkeyPatch, password_file: Path
) -> None:
    monkeypatch.setenv("GONGKAI_DB_PASSWORD_FILE", str(password_file))
    with pytest.raises(InvalidInputError, match="postgresql:// URLs only"):
        Settings.from_env()  # the SQLite default
    with pytest.raises(StoreError, match="names no user"):
        with_password_file("postgresql://h/db", password_file)
