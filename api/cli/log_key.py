"""The log key a command signs with: the options of the commands that sign or export
(:func:`add_checkpoint_args`: ``--db``, ``--community``, ``--key``, ``--keys-dir`` and
``--witness``), and loading the key they name, refused unless it is a log key."""

from __future__ import annotations

import argparse
from pathlib import Path

from api.cli.common import UsageError, add_db
from api.service.keyfiles import DEFAULT_KEYS_DIR, log_key_path
from ledger.seal.keys import KeyKind, PrivateKey, load_private_key


def log_key_path_of(args: argparse.Namespace) -> Path:
    return Path(args.key) if args.key else log_key_path(Path(args.keys_dir), args.community)


def load_log_key(args: argparse.Namespace) -> PrivateKey:
    path = log_key_path_of(args)
    if not path.exists():
        raise UsageError(
            f"no log key at {path}: create one with 'gongkai keys generate --kind log "
            f"--name <host>/{args.community} -o {path}'"
        )
    key = load_private_key(path)
    if key.kind is not KeyKind.LOG:
        raise UsageError(f"{path} is a {key.kind} key; checkpoints are signed with a log key")
    return key


def add_checkpoint_args(cp: argparse.ArgumentParser, *, witness: bool = True) -> None:
    add_db(cp)
    cp.add_argument("--community", metavar="ID", required=not witness)
    cp.add_argument("--key", metavar="FILE", help="log key file (default KEYS_DIR/ID.log.key)")
    cp.add_argument(
        "--keys-dir", metavar="DIR", default=str(DEFAULT_KEYS_DIR), help="default data/keys"
    )
    cp.add_argument("--witness", metavar="URL", action="append", help="ask this witness to cosign")
