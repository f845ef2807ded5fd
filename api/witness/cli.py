"""``gongkai witness``: the witness the street disciplinary committee (街道纪工委) runs.

``serve`` answers C2SP tlog-witness over HTTP, on loopback unless told otherwise;
``add-checkpoint`` answers one request body offline (a file or stdin), for a witness that
is never on a network. Both keep their state in the same kind of SQLite file, and may share
one.

Exit status: 0 cosigned (or served); 1 the witness refused the checkpoint; 2 bad usage or
an error (unreadable key or request, unusable state), always with a message on stderr.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from ledger.errors import GongkaiError
from ledger.seal.keys import load_private_key
from ledger.seal.note import NoteVerifier, parse_vkey
from ledger.seal.witness import Witness

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_ERROR = 2


class _SetupError(Exception):
    """The witness could not be set up from the command line."""


def _error(message: str) -> int:
    print(f"gongkai: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _witness(args: argparse.Namespace) -> Witness:
    try:
        key = load_private_key(Path(args.key))
    except (GongkaiError, OSError) as e:
        raise _SetupError(f"--key {args.key}: {e}") from e
    logs: list[NoteVerifier] = []
    for vkey in args.log:
        try:
            logs.append(parse_vkey(vkey))
        except GongkaiError as e:
            raise _SetupError(f"--log {vkey}: {e}") from e
    try:
        return Witness(key, logs, Path(args.state))
    except GongkaiError as e:
        raise _SetupError(str(e)) from e


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_witness_serve(args: argparse.Namespace) -> int:
    if not _is_loopback(args.host) and not args.allow_remote:
        return _error(
            f"--host {args.host} is not a loopback address; the witness holds a signing key, "
            "put it behind a bastion or pass --allow-remote"
        )
    try:
        witness = _witness(args)
    except _SetupError as e:
        return _error(str(e))
    import uvicorn

    from api.witness.app import create_witness_app

    print(witness.vkey, file=sys.stderr)
    print(
        f"witness {witness.name} cosigning {', '.join(witness.origins)} "
        f"on http://{args.host}:{args.port} (state {args.state})",
        file=sys.stderr,
    )
    uvicorn.run(create_witness_app(witness), host=args.host, port=args.port, log_level="info")
    return EXIT_OK


def cmd_witness_add_checkpoint(args: argparse.Namespace) -> int:
    try:
        witness = _witness(args)
    except _SetupError as e:
        return _error(str(e))
    try:
        stdin = args.request == "-"
        body = sys.stdin.buffer.read() if stdin else Path(args.request).read_bytes()
    except OSError as e:
        return _error(f"--request {args.request}: {e}")
    try:
        reply = witness.add_checkpoint(body)
    except GongkaiError as e:
        return _error(str(e))
    if reply.status != 200:
        print(f"witness: {reply.status} {reply.reason}", file=sys.stderr)
        return EXIT_REFUSED
    sys.stdout.write(reply.body.decode("utf-8"))
    sys.stdout.flush()
    return EXIT_OK


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key", required=True, metavar="FILE", help="the witness's private key (a cosigner key)"
    )
    parser.add_argument(
        "--state",
        required=True,
        metavar="FILE",
        help="SQLite file with the latest cosigned checkpoint of each log (created if missing)",
    )
    parser.add_argument(
        "--log",
        required=True,
        action="append",
        metavar="VKEY",
        help="a log's verifier key; its name is the log's origin (repeat for each log)",
    )


def add_witness_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``witness serve`` and ``witness add-checkpoint`` under ``sub``."""
    witness = sub.add_parser(
        "witness", help="cosign checkpoints of the logs (C2SP tlog-witness)"
    ).add_subparsers(dest="witness_command", required=True, metavar="ACTION")

    serve = witness.add_parser("serve", help="answer add-checkpoint over HTTP")
    _add_common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="listen on a non-loopback address (otherwise refused)",
    )
    serve.set_defaults(func=cmd_witness_serve)

    offline = witness.add_parser(
        "add-checkpoint", help="answer one add-checkpoint request offline"
    )
    _add_common(offline)
    offline.add_argument(
        "--request",
        default="-",
        metavar="FILE",
        help="the request body (old size, proof, empty line, signed checkpoint); - for stdin",
    )
    offline.set_defaults(func=cmd_witness_add_checkpoint)
