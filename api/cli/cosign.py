"""``gongkai cosign``: a committee member seals the community's latest checkpoint.

The member's tool trusts nothing the server says without checking it:

1. fetch the latest checkpoint and verify the log's signature with the log's verifier
   key (given with ``--log-key``, or pinned in the state file on first use);
2. if this key cosigned before, fetch a consistency proof from that checkpoint and
   verify it, so that the member never seals a history that contradicts the one sealed
   before (a rollback or a fork stops here, loudly);
3. sign a C2SP ``tlog-cosignature`` line and upload it;
4. remember the checkpoint in the local state file (written atomically).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ledger.errors import GongkaiError, InvalidInputError, VerificationError
from ledger.seal.checkpoint import open_checkpoint
from ledger.seal.keys import KeyKind, PrivateKey
from ledger.seal.merkle import verify_consistency
from ledger.seal.note import Signature, parse_vkey

MAX_RESPONSE = 1 << 20


class ServerError(GongkaiError):
    """The server could not be reached or refused the request."""


class RollbackError(VerificationError):
    """The server's checkpoint is older than, or forks from, one this key sealed."""


@dataclass(frozen=True, slots=True)
class Sealed:
    tree_size: int
    root: bytes
    previous_size: int
    log_key: str


def _request(url: str, *, data: bytes | None = None) -> tuple[int, bytes]:
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidInputError(f"not an http(s) URL: {url!r}", field="server")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=data, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read(MAX_RESPONSE)
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read(MAX_RESPONSE)
    except (urllib.error.URLError, OSError) as e:
        raise ServerError(f"cannot reach {url}: {getattr(e, 'reason', e)}") from e


def _get(url: str) -> bytes:
    status, body = _request(url)
    if status != 200:
        raise ServerError(f"GET {url} answered {status}: {_detail(body)}")
    return body


def _detail(body: bytes) -> str:
    try:
        problem = json.loads(body)
        return str(problem.get("detail") or problem)
    except ValueError:
        return body.decode("utf-8", errors="replace").strip()[:300]


def load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidInputError(f"cannot read the cosign state file {path}: {e}") from None
    if not isinstance(state, dict):
        raise InvalidInputError(f"{path} is not a cosign state file")
    return state


def save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def cosign(
    server: str, community_id: str, key: PrivateKey, state_path: Path, log_vkey: str | None
) -> Sealed:
    """Run steps 1–4 of the module docstring; returns what was sealed."""
    if key.kind is not KeyKind.COSIGNER:
        raise InvalidInputError("a committee seal is a cosigner key (--kind cosigner)")
    base = f"{server.rstrip('/')}/v1/communities/{quote(community_id)}"
    state = load_state(state_path)
    mine = state.get(community_id, {})
    # 1. The checkpoint, verified with the log key we trust.
    log_key = log_vkey or mine.get("log_key")
    if log_key is None:
        log_key = json.loads(_get(f"{base}/keys")).get("log")
        if not log_key:
            raise ServerError(f"{server} publishes no log key for {community_id}")
    elif mine.get("log_key") and log_key != mine["log_key"]:
        raise VerificationError(
            f"the log key {log_key} differs from the one pinned in {state_path}"
        )
    text = _get(f"{base}/checkpoint").decode("utf-8")
    signed = open_checkpoint(text, [parse_vkey(log_key)])
    checkpoint = signed.checkpoint
    # 2. Consistency with what this key sealed before.
    previous = int(mine.get("size", 0))
    if previous:
        old_root = base64.b64decode(mine["root"])
        if checkpoint.size < previous:
            raise RollbackError(
                f"the server's latest checkpoint has {checkpoint.size} entries, but this key "
                f"sealed {previous} before: the log was rolled back"
            )
        body = json.loads(_get(f"{base}/proof/consistency?from={previous}&to={checkpoint.size}"))
        proof = [base64.b64decode(h) for h in body["hashes"]]
        try:
            verify_consistency(previous, checkpoint.size, old_root, checkpoint.root, proof)
        except VerificationError as e:
            raise RollbackError(
                f"the checkpoint of size {checkpoint.size} is not consistent with the one "
                f"of size {previous} this key sealed: {e}"
            ) from None
    # 3. Sign and upload.
    signer = key.signer()
    line = Signature(signer.name, signer.key_id, signer.sign(signed.note.text.encode())).line()
    status, answer = _request(
        f"{base}/checkpoints/{checkpoint.size}/cosignatures", data=line.encode("utf-8")
    )
    if status not in (200, 201):
        raise ServerError(f"the server refused the seal ({status}): {_detail(answer)}")
    # 4. Remember it.
    state[community_id] = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": base64.b64encode(checkpoint.root).decode(),
        "log_key": log_key,
    }
    save_state(state_path, state)
    return Sealed(checkpoint.size, checkpoint.root, previous, log_key)
