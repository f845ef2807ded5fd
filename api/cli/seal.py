"""The seal's commands: keys, checkpoints, committee seals, proofs.

gongkai keys generate --name NAME -o FILE [--kind log|cosigner]
gongkai checkpoint --community ID [--key FILE] [--witness URL ...]
gongkai checkpoint show --community ID
gongkai checkpoint adopt --community ID (--checkpoint FILE | --from-store)
gongkai cosigner add --community ID --vkey VKEY --role committee|witness --label TEXT
gongkai cosigner list --community ID
gongkai cosign --server URL --community ID --key FILE [--state FILE] [--log-key VKEY]
gongkai proof --community ID --seq N [--json]

The bundle commands are in :mod:`api.cli.bundles`, wired in among these.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from api.cli.bundles import add_bundle_commands
from api.cli.common import EXIT_OK, EXIT_VERIFY_FAILED, UsageError, add_db
from api.cli.log_key import add_checkpoint_args, load_log_key, log_key_path_of
from api.service.keyfiles import DEFAULT_KEYS_DIR, vkey_path
from ledger.errors import VerificationError
from ledger.seal.community_log import CommunityLog, InconsistentCheckpointError
from ledger.seal.key_files import read_public_file
from ledger.seal.keys import KeyKind, generate_key, load_private_key, write_private_key, write_vkey
from ledger.seal.merkle import tree_root
from ledger.seal.note import check_key_name
from ledger.seal.signer_state import MAX_STATE_BYTES, SignedHead, SignerState
from ledger.store import open_store


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- keys ------------------------------------------------------------------------------


def cmd_keys_generate(args: argparse.Namespace) -> int:
    check_key_name(args.name)
    key = generate_key(args.name, KeyKind(args.kind))
    path = Path(args.output)
    write_private_key(key, path, overwrite=args.force)
    write_vkey(key.vkey, vkey_path(path))
    print(key.vkey)
    print(f"private key: {path} (mode 0600); verifier key: {vkey_path(path)}", file=sys.stderr)
    if key.kind is KeyKind.LOG:
        # A new log key has signed only the empty tree; its memory starts there. A
        # replaced key (--force) starts again too: the old key's state is not its own.
        state = SignerState.beside(path, key, args.name.rsplit("/", 1)[-1])
        if args.force and state.exists():
            state.path.unlink()
        state.create_empty(key.signer())
        print(f"signer state: {state.path}", file=sys.stderr)
    return EXIT_OK


# --- checkpoints -----------------------------------------------------------------------


def cmd_checkpoint_sign(args: argparse.Namespace) -> int:
    if not args.community:
        raise UsageError("--community is required")
    key = load_log_key(args)
    with open_store(args.db) as store:
        log = CommunityLog(store, store.community(args.community).id)
        old, new = log.update_tree(
            on_progress=lambda n: (
                print(f"\rtree: {n:,} leaves\033[K", end="", file=sys.stderr)
                if sys.stderr.isatty()
                else None
            )
        )
        state = SignerState.beside(log_key_path_of(args), key, log.community_id)
        try:
            checkpoint = log.sign_checkpoint(key.signer(), state, update=False)
        except InconsistentCheckpointError as e:
            print(f"gongkai: REFUSED to sign: {e}", file=sys.stderr)
            return EXIT_VERIFY_FAILED
        for url in args.witness or ():
            from api.witness.submit import submit_to_witness

            submit_to_witness(log, checkpoint, url)
        note = log.cosigned_note(checkpoint)
    print(note, end="")
    print(
        f"tree {old:,} → {new:,} leaves; checkpoint of size {checkpoint.tree_size} "
        f"signed by {key.name}",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_checkpoint_show(args: argparse.Namespace) -> int:
    if not args.community:
        raise UsageError("--community is required")
    with open_store(args.db) as store:
        log = CommunityLog(store, store.community(args.community).id)
        print(log.cosigned_note(log.latest_checkpoint()), end="")
    return EXIT_OK


def cmd_checkpoint_adopt(args: argparse.Namespace) -> int:
    """Give a log key whose signer state is missing the checkpoint it signed last, from
    a copy held outside the database (or, said explicitly, the database's own latest),
    once the store is shown to still hold that history. Never overwrites a state."""
    key = load_log_key(args)
    with open_store(args.db) as store:
        log = CommunityLog(store, store.community(args.community).id)
        state = SignerState.beside(log_key_path_of(args), key, log.community_id)
        if state.exists():
            raise UsageError(
                f"{state.path} exists: a signer state is never replaced, since it may "
                "record a later checkpoint than the one offered"
            )
        if args.from_store:
            stored = log.seal.checkpoint()
            if stored is None:
                raise UsageError(
                    f"the store holds no checkpoint of {log.community_id!r}: adopt one "
                    "held outside with --checkpoint FILE (a witness's, an auditor's, a "
                    "bundle's)"
                )
            head = state.parse(stored.note)
            print(
                "gongkai: warning: adopting the database's own latest checkpoint trusts the "
                "database as it is now; compare it with a copy held outside first",
                file=sys.stderr,
            )
        else:
            held = read_public_file(Path(args.checkpoint), MAX_STATE_BYTES, "checkpoint")
            head = state.parse(held)
        log.update_tree()
        problem = _missing_history(log, head)
        if problem:
            print(f"gongkai: REFUSED to adopt: {problem}", file=sys.stderr)
            return EXIT_VERIFY_FAILED
        state.save(head.note)
    print(f"{state.path}: adopted the checkpoint of size {head.size} of {log.community_id}")
    return EXIT_OK


def _missing_history(log: CommunityLog, head: SignedHead) -> str | None:
    """Why the store does not hold the history ``head`` signed, or None."""
    size = log.seal.tree_size()
    if size < head.size:
        return (
            f"the checkpoint has size {head.size} but the store's tree only {size} "
            "leaves: the database has lost signed history"
        )
    if head.size and tree_root(head.size, log.seal.read_nodes) != head.root:
        return (
            f"the store's root at size {head.size} is not the checkpoint's: the database "
            "has changed signed history"
        )
    return None


# --- cosigners -------------------------------------------------------------------------


def cmd_cosigner_add(args: argparse.Namespace) -> int:
    with open_store(args.db) as store:
        log = CommunityLog(store, store.community(args.community).id)
        cosigner = log.add_cosigner(args.vkey, role=args.role, label=args.label)
    print(f"{args.community} accepts {cosigner.role} seal {cosigner.name} ({cosigner.label})")
    return EXIT_OK


def cmd_cosigner_list(args: argparse.Namespace) -> int:
    with open_store(args.db) as store:
        log = CommunityLog(store, store.community(args.community).id)
        for c in log.cosigners():
            print(f"{c.role}\t{c.label}\t{c.vkey}")
    return EXIT_OK


def cmd_cosign(args: argparse.Namespace) -> int:
    from api.cli.cosign import cosign

    key_path = Path(args.key)
    key = load_private_key(key_path)
    state = Path(args.state) if args.state else key_path.with_suffix(".cosign-state.json")
    try:
        sealed = cosign(args.server, args.community, key, state, args.log_key)
    except VerificationError as e:
        print(f"gongkai: REFUSED to seal: {e}", file=sys.stderr)
        return EXIT_VERIFY_FAILED
    since = f" (consistent with size {sealed.previous_size})" if sealed.previous_size else ""
    print(
        f"sealed {args.community} checkpoint of size {sealed.tree_size}{since} "
        f"as {key.name}; state in {state}"
    )
    return EXIT_OK


# --- proofs ----------------------------------------------------------------------------


def cmd_proof(args: argparse.Namespace) -> int:
    from api.routes.seal import proof_text

    with open_store(args.db) as store:
        log = CommunityLog(store, store.community(args.community).id)
        proof = log.inclusion(args.seq)
    if args.json:
        body: dict[str, Any] = {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": _b64(proof.leaf_hash),
            "hashes": [_b64(h) for h in proof.hashes],
            "checkpoint": proof.checkpoint,
            "seq": proof.seq,
            "entry_hash": proof.entry_hash.hex(),
        }
        print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        print(proof_text(proof), end="")
    return EXIT_OK


# --- wiring ----------------------------------------------------------------------------


def add_seal_commands(sub: Any) -> None:
    keys = sub.add_parser("keys", help="signing keys").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    gen = keys.add_parser("generate", help="write an Ed25519 key pair; print its vkey")
    gen.add_argument("--name", required=True, help="key name, e.g. gongkai.example/tianhai")
    gen.add_argument("-o", "--output", required=True, metavar="FILE", help="private key file")
    gen.add_argument(
        "--kind",
        choices=[k.value for k in KeyKind],
        default=KeyKind.LOG.value,
        help="log: signs checkpoints (default); cosigner: a committee seal or a witness",
    )
    gen.add_argument("--force", action="store_true", help="replace an existing key file")
    gen.set_defaults(func=cmd_keys_generate)

    cp = sub.add_parser("checkpoint", help="sign the community's current tree")
    add_checkpoint_args(cp)
    cp.set_defaults(func=cmd_checkpoint_sign)
    cp_sub = cp.add_subparsers(dest="checkpoint_command", required=False, metavar="ACTION")
    show = cp_sub.add_parser("show", help="print the latest signed checkpoint")
    add_db(show)
    show.add_argument("--community", metavar="ID", required=True)
    show.set_defaults(func=cmd_checkpoint_show)
    adopt = cp_sub.add_parser(
        "adopt", help="give a log key without signer state the checkpoint it signed last"
    )
    add_db(adopt)
    adopt.add_argument("--community", metavar="ID", required=True)
    adopt.add_argument("--key", metavar="FILE", help="log key file (default KEYS_DIR/ID.log.key)")
    adopt.add_argument(
        "--keys-dir", metavar="DIR", default=str(DEFAULT_KEYS_DIR), help="default data/keys"
    )
    source = adopt.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="a checkpoint this key signed, held outside the database",
    )
    source.add_argument(
        "--from-store",
        action="store_true",
        help="the database's latest checkpoint (trusts the database as it is now)",
    )
    adopt.set_defaults(func=cmd_checkpoint_adopt)

    cosigner = sub.add_parser("cosigner", help="committee seals and witnesses").add_subparsers(
        dest="cosigner_command", required=True, metavar="ACTION"
    )
    add = cosigner.add_parser("add", help="accept a cosigner's verifier key")
    add_db(add)
    add.add_argument("--community", metavar="ID", required=True)
    add.add_argument("--vkey", required=True, help="the cosigner's verifier key")
    add.add_argument("--role", choices=["committee", "witness"], default="committee")
    add.add_argument("--label", required=True, help="whose seal, e.g. 监委会 王丽")
    add.set_defaults(func=cmd_cosigner_add)
    listing = cosigner.add_parser("list", help="accepted cosigners")
    add_db(listing)
    listing.add_argument("--community", metavar="ID", required=True)
    listing.set_defaults(func=cmd_cosigner_list)

    cosign = sub.add_parser("cosign", help="seal the latest checkpoint with a committee key")
    cosign.add_argument(
        "--server", required=True, metavar="URL", help="e.g. http://127.0.0.1:8000"
    )
    cosign.add_argument("--community", metavar="ID", required=True)
    cosign.add_argument("--key", metavar="FILE", required=True, help="your cosigner key file")
    cosign.add_argument(
        "--state", metavar="FILE", help="what this key sealed last (default: beside the key)"
    )
    cosign.add_argument(
        "--log-key", metavar="VKEY", help="the log's verifier key (default: pinned on first use)"
    )
    cosign.set_defaults(func=cmd_cosign)

    add_bundle_commands(sub)

    proof = sub.add_parser("proof", help="inclusion proof of an entry in the latest checkpoint")
    add_db(proof)
    proof.add_argument("--community", metavar="ID", required=True)
    proof.add_argument("--seq", type=_positive, required=True, help="chain entry number")
    proof.add_argument("--json", action="store_true", help="JSON instead of tlog-proof text")
    proof.set_defaults(func=cmd_proof)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
