"""Asking a witness for a cosignature (C2SP tlog-witness ``add-checkpoint``), with the
standard library only. The signatures returned are parsed, not verified: the caller
checks them with the witness keys it trusts."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from urllib.parse import urlsplit

from ledger.errors import FormatError, GongkaiError, InvalidInputError
from ledger.seal.note import Signature, parse_note
from ledger.seal.witness import SIZE, format_add_checkpoint_request

MAX_RESPONSE_BYTES = 1024 * 1024
_SIZE_BODY = re.compile(r"(0|[1-9][0-9]*)\n")


class WitnessConflictError(GongkaiError):
    """409: the old size sent is not the size of the latest checkpoint the witness cosigned
    for this log; ``size`` is that size, to prove consistency from."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness's latest cosigned checkpoint of this log has size {size}")
        self.size = size


class WitnessRejectedError(GongkaiError):
    """The witness refused the checkpoint (any status but 200 and 409); ``reason`` is the
    text it gave."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"the witness answered {status}: {reason}")
        self.status = status
        self.reason = reason


class WitnessUnavailableError(GongkaiError):
    """No usable answer: the witness could not be reached, timed out, or answered outside
    the protocol."""


def submit_checkpoint(
    url: str,
    old_size: int,
    proof: Sequence[bytes],
    signed_checkpoint: str,
    *,
    timeout: float = 10,
) -> list[Signature]:
    """POST the checkpoint and the consistency proof from ``old_size`` to
    ``<url>/add-checkpoint``; the cosignature lines the witness returns, unverified."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(f"not an http(s) URL of a witness: {url!r}", field="url")
    body = format_add_checkpoint_request(old_size, proof, signed_checkpoint)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url.rstrip("/") + "/add-checkpoint",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
            content_type = response.headers.get("Content-Type", "")
            answer = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as e:
        with e:
            status = e.code
            content_type = e.headers.get("Content-Type", "") if e.headers else ""
            answer = e.read(MAX_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise WitnessUnavailableError(f"cannot reach the witness at {url}: {reason}") from e
    if len(answer) > MAX_RESPONSE_BYTES:
        raise WitnessUnavailableError(f"the witness at {url} sent a reply that is too long")
    text = answer.decode("utf-8", errors="replace")
    if status == 409:
        match = _SIZE_BODY.fullmatch(text)
        if match is None or content_type.split(";")[0].strip() != SIZE:
            raise WitnessRejectedError(409, f"a conflict without a size line: {text.strip()!r}")
        raise WitnessConflictError(int(match.group(1)))
    if status != 200:
        raise WitnessRejectedError(status, text.strip())
    return _parse_cosignatures(signed_checkpoint, text)


def _parse_cosignatures(signed_checkpoint: str, lines: str) -> list[Signature]:
    """The signature lines of a 200 answer. "To parse the response, the client MAY
    concatenate it to the checkpoint": the note parser reads them under its text."""
    if not lines or not lines.endswith("\n"):
        raise WitnessUnavailableError("the witness answered 200 without signature lines")
    try:
        text = parse_note(signed_checkpoint).text
        return list(parse_note(text + "\n" + lines).signatures)
    except FormatError as e:
        raise WitnessUnavailableError(
            f"the witness answered 200 with bad signature lines: {e}"
        ) from e
