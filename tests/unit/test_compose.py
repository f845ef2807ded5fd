"""The shape of docker-compose.yml and the Dockerfile, read as data (no Docker needed):
the services exist, wait for each other, are health-checked, publish on loopback only,
and take every password and key from a file under ./secrets/, never from plain text.

The scanners below are tested against deliberately bad inputs too, so that a check that
can never fail does not pass for one that holds.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"postgres", "migrate", "api", "worker"}
ONE_SHOT = {"migrate"}

# A URL with a password in it: scheme://user:password@host.
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/@\s:]+:[^/@\s]+@", re.IGNORECASE)
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|KEY", re.IGNORECASE)
# A variable with a secret-sounding name may only point at a file or a directory.
POINTER_SUFFIXES = ("_FILE", "_DIR")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


# --- scanners -------------------------------------------------------------------------


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whichever of the two Compose forms it is written in."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def plain_text_secrets(compose: dict[str, Any]) -> list[str]:
    """Every environment value or inline config that looks like a password or a key."""
    found = []
    for name, service in compose.get("services", {}).items():
        for var, value in environment(service).items():
            where = f"{name}: {var}"
            if URL_WITH_PASSWORD.search(value):
                found.append(f"{where} is a URL with a password")
            elif "PRIVATE+KEY" in value:
                found.append(f"{where} holds a private key")
            elif SECRET_NAME.search(var) and not var.endswith(POINTER_SUFFIXES):
                found.append(f"{where} is a secret passed by value")
    for name, config in (compose.get("configs") or {}).items():
        content = str(config.get("content", ""))
        if URL_WITH_PASSWORD.search(content) or "PRIVATE+KEY" in content:
            found.append(f"config {name} holds a secret")
    return found


def secrets_not_from_files(compose: dict[str, Any]) -> list[str]:
    """Secrets that do not come from a file under ./secrets/ (inline content and host
    environment variables both end up in plain text somewhere)."""
    bad = []
    for name, secret in (compose.get("secrets") or {}).items():
        source = secret.get("file")
        if set(secret) != {"file"} or not str(source).startswith("./secrets/"):
            bad.append(name)
    return bad


def published_ports(service: dict[str, Any]) -> Iterator[str]:
    for port in service.get("ports") or []:
        if isinstance(port, dict):  # the long form
            yield f"{port.get('host_ip', '')}:{port.get('published', '')}:{port['target']}"
        else:
            yield str(port)


def non_loopback_ports(compose: dict[str, Any]) -> list[str]:
    return [
        f"{name}: {port}"
        for name, service in compose["services"].items()
        for port in published_ports(service)
        if not port.startswith("127.0.0.1:")
    ]


def instructions(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's instructions, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = (line.strip() for line in joined.splitlines())
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines)
        if word and not word.startswith("#")
    ]


def dockerfile_user(text: str) -> str | None:
    """The user of the final stage, with ARG defaults filled in; None if never set."""
    args: dict[str, str] = {}
    user = None
    for instruction, rest in instructions(text):
        match instruction:
            case "FROM":
                user = None  # a new stage starts as root again
            case "ARG":
                key, _, default = rest.partition("=")
                args[key] = default
            case "USER":
                user = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], ""), rest)
    return user


def runs_as_root(text: str) -> bool:
    user = dockerfile_user(text)
    return user is None or user.partition(":")[0] in {"", "root", "0"}


# --- the compose file -----------------------------------------------------------------


def test_the_services_exist(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= SERVICES


def test_every_service_is_health_checked_but_the_one_shot_job(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck") or {}
        if name in ONE_SHOT:
            assert service["restart"] == "no"
        else:
            assert check.get("test"), f"{name} has no health check"
            assert not check.get("disable"), f"{name} turns its health check off"


def test_postgres_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    mounts = [str(v) for v in compose["services"]["postgres"]["volumes"]]
    data = [m for m in mounts if m.endswith(":/var/lib/postgresql/data")]
    assert data, "no volume for the data directory"
    volume = data[0].split(":")[0]
    assert not volume.startswith((".", "/")), "a host directory, not a named volume"
    assert volume in compose["volumes"]


def test_postgres_reads_its_password_from_a_secret(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert environment(postgres)["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    assert "POSTGRES_PASSWORD" not in environment(postgres)
    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in postgres["healthcheck"]["test"]


def test_postgres_creates_the_service_role(compose: dict[str, Any]) -> None:
    (init,) = compose["services"]["postgres"]["configs"]
    assert init["target"].startswith("/docker-entrypoint-initdb.d/")
    script = compose["configs"][init["source"]]["content"]
    assert "CREATE ROLE gongkai_service LOGIN" in script
    assert "/run/secrets/gongkai_service_password" in script


def test_only_loopback_is_published(compose: dict[str, Any]) -> None:
    assert list(published_ports(compose["services"]["api"])) == ["127.0.0.1:8000:8000"]
    assert non_loopback_ports(compose) == []


def test_secrets_come_from_files_under_secrets(compose: dict[str, Any]) -> None:
    assert compose["secrets"], "no secrets at all"
    assert secrets_not_from_files(compose) == []
    for name, service in compose["services"].items():
        for use in service.get("secrets", []):
            source = use["source"] if isinstance(use, dict) else use
            assert source in compose["secrets"], f"{name} uses undeclared secret {source}"


def test_no_password_or_key_in_plain_text(compose: dict[str, Any]) -> None:
    assert plain_text_secrets(compose) == []
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "PRIVATE+KEY" not in text
    assert not URL_WITH_PASSWORD.search(text)


def test_the_services_connect_with_a_password_file(compose: dict[str, Any]) -> None:
    for name in ("migrate", "api", "worker"):
        env = environment(compose["services"][name])
        assert env["GONGKAI_DB"].startswith("postgresql://"), name
        assert env["GONGKAI_DB_PASSWORD_FILE"].startswith("/run/secrets/"), name
    api = environment(compose["services"]["api"])
    assert "gongkai_service@" in api["GONGKAI_DB"]
    assert api["GONGKAI_KEYS_DIR"].startswith("/run/secrets/")


def test_migrate_runs_once_after_postgres_is_healthy(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["command"] == ["gongkai", "db", "init", "--service-role", "gongkai_service"]
    assert migrate["restart"] == "no"


@pytest.mark.parametrize("name", ["api", "worker"])
def test_the_app_waits_for_the_migration(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert service["restart"] == "unless-stopped"


def test_secrets_are_never_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {"secrets/", "/secrets/"} & set(ignored)


# --- the scanners catch what they are for ---------------------------------------------


def test_the_scanners_catch_a_bad_compose_file(compose: dict[str, Any]) -> None:
    bad = copy.deepcopy(compose)
    api = bad["services"]["api"]
    api["environment"] = [
        "GONGKAI_DB=postgresql://gongkai_service:hunter2@postgres/gongkai",
        "LOG_KEY=PRIVATE+KEY+tianhai+01234567+AAAA",
        "POSTGRES_PASSWORD=hunter2",
        "GONGKAI_DB_PASSWORD_FILE=/run/secrets/fine",
    ]
    api["ports"] = ["8000:8000", {"target": 8000, "published": 8001, "host_ip": "0.0.0.0"}]
    bad["secrets"]["inline"] = {"environment": "SOME_PASSWORD"}
    bad["secrets"]["elsewhere"] = {"file": "/etc/shadow"}
    assert plain_text_secrets(bad) == [
        "api: GONGKAI_DB is a URL with a password",
        "api: LOG_KEY holds a private key",
        "api: POSTGRES_PASSWORD is a secret passed by value",
    ]
    assert non_loopback_ports(bad) == ["api: 8000:8000", "api: 0.0.0.0:8001:8000"]
    assert secrets_not_from_files(bad) == ["inline", "elsewhere"]


def test_the_dockerfile_scanner_sees_root() -> None:
    assert runs_as_root('FROM python:3.11-slim\nCMD ["x"]\n')
    assert runs_as_root("FROM python:3.11-slim\nUSER 0:0\n")
    assert runs_as_root('FROM a\nUSER app\nFROM b\nCMD ["x"]\n')  # a later stage is root
    assert runs_as_root("ARG UID=0\nFROM a\nUSER ${UID}\n")
    assert not runs_as_root("ARG UID=10001\nFROM a\nUSER ${UID}:${UID}\n")


# --- the Dockerfile -------------------------------------------------------------------


def test_the_image_runs_as_a_non_root_user(dockerfile: str) -> None:
    assert not runs_as_root(dockerfile), dockerfile_user(dockerfile)


def test_the_image_checks_its_health(dockerfile: str) -> None:
    (check,) = [rest for word, rest in instructions(dockerfile) if word == "HEALTHCHECK"]
    assert "urllib.request" in check
    assert "/healthz" in check


def test_the_image_is_built_from_the_project(dockerfile: str) -> None:
    steps = instructions(dockerfile)
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert ("EXPOSE", "8000") in steps
    assert any(word == "RUN" and rest.startswith("pip install .") for word, rest in steps)
    assert steps[-1] == ("CMD", '["gongkai", "serve", "--host", "0.0.0.0", "--port", "8000"]')


def test_the_build_context_leaves_secrets_out() -> None:
    """The image is built from an allow-list, so no secret file can be copied into it."""
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert not any("secrets" in rule for rule in rules if rule.startswith("!"))
