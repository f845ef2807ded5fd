"""Service settings, read from the environment when the app is created, never at import
time.

================================ =========================================================
``GONGKAI_DB``                   the database URL (default ``sqlite:///data/gongkai.sqlite3``)
``GONGKAI_DB_PASSWORD_FILE``     a file holding the password of a ``postgresql://`` URL
                                 that has none (a container secret)
``GONGKAI_KEYS_DIR``             where each community's log key file is, see
                                 :mod:`api.service.keyfiles` (default ``data/keys``)
``GONGKAI_ATTACHMENTS_DIR``      where attachments and vouchers are kept, by SHA-256
                                 (default ``attachments/`` beside an SQLite database,
                                 ``data/attachments`` with PostgreSQL: there, a volume
                                 that every service process mounts)
``GONGKAI_ATTACHMENT_MAX_BYTES`` the largest file an upload may be (default 20 MiB)
``GONGKAI_CHECKPOINT_INTERVAL``  seconds between scheduled checkpoints; 0 turns the
                                 sealer off (default 300)
``GONGKAI_WITNESSES``            witness URLs, comma-separated, asked to cosign each new
                                 checkpoint
``GONGKAI_PAGE_LIMIT``           the most entries one page of a listing holds (default 500)
``GONGKAI_WORKER``               run the projection worker inside the service's process
                                 (``gongkai serve`` does, unless ``--no-worker``; an app
                                 made by ``create_app`` alone does not by default)
``GONGKAI_WORKER_POLL``          seconds between that worker's looks at every community,
                                 for what other processes wrote (default 2; this
                                 process's own commands wake it at once)
================================ =========================================================

An empty variable counts as unset. A copy with another database is
``settings.model_copy(update={"db_url": url})``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.service.keyfiles import DEFAULT_KEYS_DIR
from ledger.attachments import DEFAULT_MAX_BYTES, directory_beside
from ledger.errors import GongkaiError, InvalidInputError
from ledger.store import DB_PASSWORD_FILE_ENV, DEFAULT_DB_URL, with_password_file

ENV_PREFIX = "GONGKAI_"
DB_URL_ENV = "GONGKAI_DB"
# Fields whose value must never be repeated in an error message.
_SECRET_FIELDS = frozenset({"db_url", DB_URL_ENV})


class Settings(BaseSettings):
    """What the service needs to start (the variables are listed in the module's
    documentation). ``Settings()`` reads the environment; keyword arguments override it."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        # Settings(db_url=...) in code, GONGKAI_DB in the environment.
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
        extra="forbid",
        # A database URL may hold a password.
        hide_input_in_errors=True,
    )

    # Declared before db_url, whose validator needs it.
    db_password_file: Path | None = None
    db_url: str = Field(
        default=DEFAULT_DB_URL, validation_alias=DB_URL_ENV, validate_default=True, repr=False
    )
    page_limit: int = Field(default=500, gt=0)
    keys_dir: Path = DEFAULT_KEYS_DIR
    #: None: beside the database (:func:`~ledger.attachments.directory_beside`).
    attachments_dir: Path | None = None
    attachment_max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0)
    checkpoint_interval: float = Field(default=300.0, ge=0, allow_inf_nan=False)
    # NoDecode: a comma-separated list, not the JSON that pydantic-settings expects.
    witnesses: Annotated[tuple[str, ...], NoDecode] = ()
    #: The portal's address as residents reach it, for the QR codes on printed sheets
    #: (GONGKAI_PUBLIC_URL, e.g. https://gongkai.example.org); by default the address
    #: the printing request came to, which behind a proxy may be an internal one.
    public_url: str | None = None
    #: The projection worker in a thread of the service (see :mod:`api.service.worker`).
    worker: bool = False
    worker_poll: float = Field(default=2.0, gt=0, allow_inf_nan=False)

    @field_validator("db_url")
    @classmethod
    def _merge_password_file(cls, url: str, info: ValidationInfo) -> str:
        password_file = info.data.get("db_password_file")
        if password_file is None:
            return url
        try:
            return with_password_file(url, password_file)
        except GongkaiError as e:
            raise ValueError(str(e)) from None

    @field_validator("witnesses", mode="before")
    @classmethod
    def _split_witnesses(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(url.strip() for url in value.split(",") if url.strip())
        return value

    @field_validator("witnesses")
    @classmethod
    def _check_witness_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return urls

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(f"{url!r} is not an http:// or https:// address without a query")
        return url.rstrip("/")

    @property
    def attachments_directory(self) -> Path:
        """Where the attachments are: as set, or beside the database."""
        return self.attachments_dir or directory_beside(self.db_url)

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of the environment, or :class:`InvalidInputError` naming each
        variable that is wrong and why."""
        try:
            return cls()
        except ValidationError as e:
            raise InvalidInputError(describe_errors(e)) from None


def env_name(field: str) -> str:
    """The environment variable a field (or its alias) is read from."""
    return field if field.startswith(ENV_PREFIX) else ENV_PREFIX + field.upper()


def describe_errors(error: ValidationError) -> str:
    """One line per wrong variable, repeating the value given unless it may be secret."""
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        line = f"{env_name(field)}: {problem['msg'].removeprefix('Value error, ')}"
        if field not in _SECRET_FIELDS and "input" in problem:
            line += f" (got {problem['input']!r})"
        lines.append(line)
    return "invalid settings: " + "; ".join(lines)


__all__ = ["DB_PASSWORD_FILE_ENV", "Settings", "describe_errors", "env_name"]
