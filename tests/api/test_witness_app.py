"""The witness at its edges: the HTTP app (status codes, bodies and content types exactly as
C2SP tlog-witness gives them), the standard-library client against a real uvicorn server
on loopback, and the ``gongkai witness`` commands."""

from __future__ import annotations

import argparse
import hashlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.witness.app import create_witness_app
from api.witness.cli import add_witness_commands
from api.witness.client import (
    WitnessConflictError,
    WitnessRejectedError,
    WitnessUnavailableError,
    submit_checkpoint,
)
from ledger.errors import InvalidInputError
from ledger.seal.checkpoint import open_checkpoint
from ledger.seal.keys import KeyKind, PrivateKey, generate_key, write_private_key
from ledger.seal.note import add_signatures, parse_note
from ledger.seal.witness import MAX_REQUEST_BYTES, Witness, format_add_checkpoint_request
from tests.unit.test_witness import NOW, ORIGIN, WITNESS_NAME, Log

TEXT = "text/plain; charset=utf-8"
ORIGIN_HASH = hashlib.sha256(ORIGIN.encode()).hexdigest()


@pytest.fixture(scope="module")
def log_key() -> PrivateKey:
    return generate_key(ORIGIN, KeyKind.LOG)


@pytest.fixture(scope="module")
def witness_key() -> PrivateKey:
    return generate_key(WITNESS_NAME, KeyKind.COSIGNER)


@pytest.fixture
def log(log_key: PrivateKey) -> Log:
    return Log(log_key)


@pytest.fixture
def witness(witness_key: PrivateKey, log_key: PrivateKey, tmp_path: Path) -> Witness:
    return Witness(witness_key, [log_key.verifier()], tmp_path / "w.sqlite3", clock=lambda: NOW)


@pytest.fixture
def client(witness: Witness) -> Iterator[TestClient]:
    with TestClient(create_witness_app(witness)) as c:
        yield c


# --- the HTTP app -------------------------------------------------------------------------


def test_add_checkpoint_answers_cosignature_lines(
    client: TestClient, witness: Witness, log: Log
) -> None:
    response = client.post("/add-checkpoint", content=log.request(0, 5))
    assert response.status_code == 200
    assert response.headers["content-type"] == TEXT
    assert response.text.startswith(f"— {WITNESS_NAME} ")
    assert response.text.endswith("\n")
    opened = open_checkpoint(
        log.checkpoint(5) + response.text, [log.key.verifier()], cosigners=[witness.verifier]
    )
    assert [t for _key, t in opened.cosignatures] == [NOW]


def test_conflict_is_exactly_the_size_line(client: TestClient, log: Log) -> None:
    assert client.post("/add-checkpoint", content=log.request(0, 5)).status_code == 200
    response = client.post("/add-checkpoint", content=log.request(2, 9))
    assert response.status_code == 409
    assert response.headers["content-type"] == "text/x.tlog.size"
    assert response.content == b"5\n"


@pytest.mark.parametrize(
    ("make_body", "status", "reason"),
    [
        (
            lambda log: log.request(9, 8, []),
            400,
            "old size 9 is larger than the checkpoint size 8",
        ),
        (lambda log: b"old 1\n" + b"AAAA\n", 400, "malformed request"),
        (lambda log: log.request(0, 8, [bytes(32)]), 422, "from old size 0 must be empty"),
        (
            lambda log: Log(generate_key("gongkai.example/else", KeyKind.LOG)).request(0, 2),
            404,
            "unknown log origin",
        ),
        (
            lambda log: Log(generate_key(ORIGIN, KeyKind.LOG)).request(0, 2),
            403,
            "no trusted key signed this note",
        ),
    ],
    ids=["old above size", "malformed", "proof from zero", "unknown origin", "unknown key"],
)
def test_refusals_are_plain_text_reasons(
    client: TestClient, log: Log, make_body: Any, status: int, reason: str
) -> None:
    response = client.post("/add-checkpoint", content=make_body(log))
    assert response.status_code == status
    assert response.headers["content-type"] == TEXT
    assert reason in response.text
    assert response.text.endswith("\n")


def test_fork_is_422(client: TestClient, log: Log) -> None:
    assert client.post("/add-checkpoint", content=log.request(0, 6)).status_code == 200
    response = client.post("/add-checkpoint", content=Log(log.key, "forged ").request(6, 6))
    assert response.status_code == 422
    assert "the log has forked" in response.text


def test_a_body_longer_than_the_limit_is_400(client: TestClient) -> None:
    response = client.post("/add-checkpoint", content=b"old 0\n" + b"A" * MAX_REQUEST_BYTES)
    assert response.status_code == 400
    assert "longer than" in response.text


def test_monitoring_get_is_404_until_cosigned(
    client: TestClient, witness: Witness, log: Log
) -> None:
    response = client.get(f"/{ORIGIN_HASH}/checkpoint")
    assert response.status_code == 404
    assert response.headers["content-type"] == TEXT
    assert "never cosigned" in response.text
    assert client.post("/add-checkpoint", content=log.request(0, 5)).status_code == 200
    response = client.get(f"/{ORIGIN_HASH}/checkpoint")
    assert response.status_code == 200
    opened = open_checkpoint(response.text, [log.key.verifier()], cosigners=[witness.verifier])
    assert opened.checkpoint.size == 5
    assert len(opened.cosignatures) == 1


def test_other_methods_and_paths_are_plain_text_errors(client: TestClient) -> None:
    response = client.get("/add-checkpoint")
    assert response.status_code == 405
    assert response.headers["content-type"] == TEXT
    assert "POST" in response.headers["allow"]
    response = client.get("/nothing/here")
    assert (response.status_code, response.headers["content-type"]) == (404, TEXT)


def test_an_unusable_state_is_503(witness_key: PrivateKey, log: Log, tmp_path: Path) -> None:
    broken = Witness(witness_key, [log.key.verifier()], tmp_path / "missing" / "w.sqlite3")
    with TestClient(create_witness_app(broken)) as c:
        response = c.post("/add-checkpoint", content=log.request(0, 1))
        assert response.status_code == 503
        assert c.get(f"/{ORIGIN_HASH}/checkpoint").status_code == 503


# --- the client against a real server -------------------------------------------------------


@pytest.fixture
def server_url(witness: Witness) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_witness_app(witness), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the witness server stopped while starting"
        assert time.monotonic() < deadline, "the witness server did not start in 10 s"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert not thread.is_alive()


def test_submit_checkpoint_over_http(server_url: str, witness: Witness, log: Log) -> None:
    signed = log.checkpoint(5)
    signatures = submit_checkpoint(server_url + "/", 0, [], signed, timeout=5)
    assert [s.name for s in signatures] == [WITNESS_NAME]
    cosigned = add_signatures(parse_note(signed), signatures)
    opened = open_checkpoint(str(cosigned), [log.key.verifier()], cosigners=[witness.verifier])
    assert len(opened.cosignatures) == 1
    log.grow(12)
    more = submit_checkpoint(server_url, 5, log.proof(5, 12), log.checkpoint(12))
    assert len(more) == 1


def test_submit_checkpoint_conflict_carries_the_size(server_url: str, log: Log) -> None:
    submit_checkpoint(server_url, 0, [], log.checkpoint(7))
    with pytest.raises(WitnessConflictError, match="has size 7") as raised:
        submit_checkpoint(server_url, 0, [], log.checkpoint(9))
    assert raised.value.size == 7
    # The client learns the size and proves consistency from there.
    log.grow(9)
    assert len(submit_checkpoint(server_url, 7, log.proof(7, 9), log.checkpoint(9))) == 1


def test_submit_checkpoint_refusals(server_url: str, log: Log) -> None:
    submit_checkpoint(server_url, 0, [], log.checkpoint(4))
    with pytest.raises(WitnessRejectedError, match=r"answered 422: .*forked") as raised:
        submit_checkpoint(server_url, 4, [], Log(log.key, "forged ").checkpoint(4))
    assert raised.value.status == 422
    stranger = Log(generate_key(ORIGIN, KeyKind.LOG))
    with pytest.raises(WitnessRejectedError, match="answered 403") as raised:
        submit_checkpoint(server_url, 4, [], stranger.checkpoint(4))
    assert "no trusted key signed" in raised.value.reason


def test_submit_checkpoint_without_a_witness(log: Log) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: the connection is refused
        with pytest.raises(WitnessUnavailableError, match="cannot reach the witness"):
            submit_checkpoint(f"http://127.0.0.1:{port}", 0, [], log.checkpoint(1), timeout=2)
    with pytest.raises(InvalidInputError, match="not an http"):
        submit_checkpoint("file:///etc/passwd", 0, [], log.checkpoint(1))


# --- the commands -------------------------------------------------------------------------


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gongkai")
    add_witness_commands(p.add_subparsers(dest="command", required=True))
    return p


@pytest.fixture
def key_file(witness_key: PrivateKey, tmp_path: Path) -> Path:
    path = tmp_path / "witness.key"
    write_private_key(witness_key, path)
    return path


def run(parser: argparse.ArgumentParser, *argv: str) -> int:
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_offline_add_checkpoint_round_trip(
    parser: argparse.ArgumentParser,
    key_file: Path,
    witness_key: PrivateKey,
    log: Log,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "offline.sqlite3"
    common = ["--key", str(key_file), "--state", str(state), "--log", log.key.vkey]
    request = tmp_path / "request"
    signed = log.checkpoint(5)
    request.write_bytes(format_add_checkpoint_request(0, [], signed))

    assert run(parser, "witness", "add-checkpoint", *common, "--request", str(request)) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"— {WITNESS_NAME} ")
    assert err == ""
    opened = open_checkpoint(
        signed + out, [log.key.verifier()], cosigners=[witness_key.verifier()]
    )
    assert len(opened.cosignatures) == 1

    # Refused: the same request again is a 409 (the state file remembers size 5).
    assert run(parser, "witness", "add-checkpoint", *common, "--request", str(request)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "witness: 409 old size 0 does not match the latest cosigned size 5\n"

    # From stdin, with the proof from 5.
    log.grow(8)
    body = format_add_checkpoint_request(5, log.proof(5, 8), log.checkpoint(8))
    monkeypatch.setattr("sys.stdin", SimpleNamespace(buffer=io.BytesIO(body)))
    assert run(parser, "witness", "add-checkpoint", *common) == 0
    assert capsys.readouterr().out.startswith(f"— {WITNESS_NAME} ")


def test_offline_add_checkpoint_usage_errors_exit_2(
    parser: argparse.ArgumentParser,
    key_file: Path,
    log: Log,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = str(tmp_path / "s.sqlite3")
    request = tmp_path / "request"
    request.write_bytes(format_add_checkpoint_request(0, [], log.checkpoint(1)))
    log_key_file = tmp_path / "log.key"
    write_private_key(log.key, log_key_file)
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key\n")
    cases = [
        (["--key", str(tmp_path / "absent.key"), "--log", log.key.vkey], "--key"),
        (["--key", str(garbage), "--log", log.key.vkey], "--key"),
        (["--key", str(log_key_file), "--log", log.key.vkey], "not a cosigner key"),
        (["--key", str(key_file), "--log", "not+a+vkey"], "--log not+a+vkey"),
        (
            ["--key", str(key_file), "--log", log.key.vkey, "--request", str(tmp_path / "no")],
            "--request",
        ),
    ]
    for extra, message in cases:
        argv = ["witness", "add-checkpoint", "--state", state, "--request", str(request), *extra]
        assert run(parser, *argv) == 2, extra
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("gongkai: error: ")
        assert message in err
    argv = ["witness", "add-checkpoint", "--key", str(key_file), "--log", log.key.vkey]
    argv += ["--state", str(tmp_path / "missing" / "s.sqlite3"), "--request", str(request)]
    assert run(parser, *argv) == 2
    assert "cannot open the witness state" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["witness", "add-checkpoint", "--state", state])
    assert exited.value.code == 2


def test_serve_prints_the_vkey_and_stays_on_loopback(
    parser: argparse.ArgumentParser,
    key_file: Path,
    witness_key: PrivateKey,
    log: Log,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        served.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    common = ["--key", str(key_file), "--state", str(tmp_path / "s.sqlite3")]
    common += ["--log", log.key.vkey]

    assert run(parser, "witness", "serve", *common, "--host", "0.0.0.0") == 2
    assert "not a loopback address" in capsys.readouterr().err
    assert served == {}

    assert run(parser, "witness", "serve", *common) == 0
    assert (served["host"], served["port"]) == ("127.0.0.1", 8001)
    err = capsys.readouterr().err
    assert witness_key.vkey in err.splitlines()
    with TestClient(served["app"]) as c:
        assert c.get(f"/{ORIGIN_HASH}/checkpoint").status_code == 404

    served.clear()
    argv = ["witness", "serve", *common, "--host", "0.0.0.0", "--allow-remote", "--port", "9"]
    assert run(parser, *argv) == 0
    assert (served["host"], served["port"]) == ("0.0.0.0", 9)
