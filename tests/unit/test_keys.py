"""Key files: the Go note package's private key format, and files kept like ssh keeps
its keys (0600 from the start, never overwritten or written through a symlink unless
asked, refused on load when others may read them)."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import FormatError, GongkaiError
from ledger.seal.key_files import InsecureKeyFileError, KeyFileError
from ledger.seal.keys import (
    KeyKind,
    PrivateKey,
    format_private_key,
    generate_key,
    load_private_key,
    load_vkey,
    parse_private_key,
    write_private_key,
    write_vkey,
)
from ledger.seal.note import (
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    key_id,
    open_note,
    parse_vkey,
    sign_note,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "vectors" / "signed_note.json").read_text("utf-8")
)
GO = VECTORS["go_note"]
TEXT = "gongkai.example/tianhai\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def a_key(kind: KeyKind = KeyKind.LOG, name: str = "log.example/tianhai") -> PrivateKey:
    return PrivateKey(name, kind, bytes(range(32)))


# ---------------------------------------------------------------------------------------
# Keys and their text


def test_go_private_key_vector() -> None:
    """The Go note package's test key: same name, key ID, vkey and signatures."""
    key = parse_private_key(GO["private_key"])
    assert (key.name, key.kind) == ("PeterNeumann", KeyKind.LOG)
    assert key.key_id.hex() == "c74f20a3"
    assert key.vkey == GO["vkey"]
    assert format_private_key(key) == GO["private_key"] + "\n"
    assert str(sign_note(GO["text"], [key.signer()])) == GO["signed_by_private_key"]


def test_every_mangled_private_key_is_refused() -> None:
    """As the Go package's TestNewSigner: every proper substring and every one-byte
    change is refused with a FormatError (a damaged key file is never half-loaded)."""
    skey = GO["private_key"]
    for i in range(len(skey) + 1):
        for j in range(i + 1, len(skey) + 1):
            if (i, j) != (0, len(skey)):
                with pytest.raises(FormatError):
                    parse_private_key(skey[i:j])
    for i in range(len(skey)):
        with pytest.raises(FormatError):
            parse_private_key(skey[:i] + chr(ord(skey[i]) + 1) + skey[i + 1 :])


@pytest.mark.parametrize("kind", list(KeyKind))
def test_generate_sign_open(kind: KeyKind) -> None:
    key = generate_key("社区.example/居委会", kind)
    assert len(key.seed) == 32
    assert key.kind.sig_type == (SIG_ED25519 if kind is KeyKind.LOG else SIG_COSIGNATURE_V1)
    signer, verifier = key.signer(), key.verifier()
    want_signer = Ed25519Signer if kind is KeyKind.LOG else CosignatureSigner
    want_verifier = Ed25519Verifier if kind is KeyKind.LOG else CosignatureVerifier
    assert isinstance(signer, want_signer)
    assert isinstance(verifier, want_verifier)
    assert signer.key_id == verifier.key_id == key.key_id
    assert key.key_id == key_id(key.name, kind.sig_type, key.public_key)
    opened = open_note(str(sign_note(TEXT, [signer])), [parse_vkey(key.vkey)])
    assert opened.verified[0][0] == verifier
    assert generate_key("a", kind).seed != generate_key("a", kind).seed


@pytest.mark.parametrize("kind", list(KeyKind))
def test_private_key_text_round_trip(kind: KeyKind) -> None:
    key = generate_key("witness.example/w1", kind)
    text = format_private_key(key)
    assert text.startswith(f"PRIVATE+KEY+witness.example/w1+{key.key_id.hex()}+")
    assert text.endswith("\n")
    assert text.count("\n") == 1
    raw = base64.b64decode(text.split("+", 4)[4])
    assert raw == bytes([kind.sig_type]) + key.seed
    assert parse_private_key(text) == key
    assert parse_private_key(text[:-1]) == key


def test_private_key_repr_hides_the_seed() -> None:
    key = a_key()
    assert bytes(range(32)).hex() not in repr(key)
    assert "seed" not in repr(key)
    assert repr(bytes(range(32))) not in repr(key)


def _skey(name: str, sig_type: int, seed: bytes, hex_id: str | None = None) -> str:
    public = PrivateKey("x", KeyKind.LOG, seed[:32].ljust(32, b"\0")).public_key
    kid = hex_id if hex_id is not None else key_id(name, sig_type, public).hex()
    encoded = base64.b64encode(bytes([sig_type]) + seed).decode()
    return f"PRIVATE+KEY+{name}+{kid}+{encoded}"


SEED = bytes(range(32))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param(GO["vkey"], "does not start with 'PRIVATE\\+KEY\\+'", id="a-vkey"),
        pytest.param("private+key+a+00000000+AA==", "does not start", id="lowercase"),
        pytest.param(_skey("a", 0x02, SEED), "type 0x02", id="type-2"),
        pytest.param(_skey("a", 0x01, SEED, "00000000"), "does not match its key", id="wrong-id"),
        pytest.param(
            _skey("a", 0x04, SEED, key_id("a", 1, a_key().public_key).hex()),
            "match",
            id="0x01-id-on-0x04-key",
        ),
        pytest.param(_skey("a", 0x01, SEED[:31]), "32 bytes|33", id="short-seed"),
        pytest.param(_skey("a", 0x01, SEED + b"\0"), "not 33", id="long-seed"),
        pytest.param(_skey("a", 0x01, SEED).upper(), "8 lowercase hex", id="upper"),
        pytest.param(_skey("a", 0x01, SEED) + "\n\n", "single line", id="two-newlines"),
        pytest.param(_skey("a", 0x01, SEED) + "\r\n", "base64", id="crlf"),
        pytest.param("PRIVATE+KEY+a+00000000", "not PRIVATE", id="no-key"),
        pytest.param("PRIVATE+KEY++00000000+AA==", "empty", id="no-name"),
    ],
)
def test_bad_private_keys_are_refused_without_quoting_them(text: str, match: str) -> None:
    with pytest.raises(FormatError, match=match) as exc:
        parse_private_key(text)
    secret = text.rsplit("+", 1)[-1].strip()
    if len(secret) > 8:
        assert secret not in str(exc.value)
        assert secret[:12] not in str(exc.value)


def test_private_key_fields_are_checked() -> None:
    with pytest.raises(FormatError, match="seed is 32 bytes"):
        PrivateKey("a", KeyKind.LOG, b"\0" * 31)
    with pytest.raises(FormatError, match="contains '\\+'"):
        PrivateKey("a+b", KeyKind.LOG, SEED)
    with pytest.raises(FormatError, match="unknown key kind"):
        PrivateKey("a", "witness", SEED)  # type: ignore[arg-type]
    assert PrivateKey("a", "cosigner", SEED).kind is KeyKind.COSIGNER  # type: ignore[arg-type]


@given(st.text(max_size=120))
def test_parse_private_key_raises_only_format_error(text: str) -> None:
    with suppress(FormatError):
        parse_private_key("PRIVATE+KEY+" + text)


# ---------------------------------------------------------------------------------------
# Writing private key files


def test_write_then_load(tmp_path: Path) -> None:
    key = a_key(KeyKind.COSIGNER)
    path = tmp_path / "w1.key"
    write_private_key(key, path)
    assert mode_of(path) == 0o600
    assert path.read_text() == format_private_key(key)
    assert load_private_key(path) == key


def test_written_with_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    with umask(0):
        write_private_key(a_key(), tmp_path / "k" / "log.key")
    assert mode_of(tmp_path / "k" / "log.key") == 0o600
    assert mode_of(tmp_path / "k") == 0o700


def test_created_0600_by_os_open_and_never_chmodded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mode is given to open(2) with O_CREAT|O_EXCL: there is no moment at which the
    key is on disk with a wider mode."""
    calls: list[tuple[int, int]] = []
    real_open = os.open

    def spy_open(path: Any, flags: int, mode: int = 0o777, *args: Any, **kw: Any) -> int:
        calls.append((flags, mode))
        return real_open(path, flags, mode, *args, **kw)

    def no_chmod(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the key file's mode was changed after creation")

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "fchmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    write_private_key(a_key(), tmp_path / "log.key")
    creating = [(f, m) for f, m in calls if f & os.O_CREAT]
    assert len(creating) == 1
    flags, mode = creating[0]
    assert flags & os.O_EXCL
    assert mode == 0o600


def test_missing_parents_are_created_0700(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    path = tmp_path / "a" / "b" / "c" / "log.key"
    write_private_key(a_key(), path)
    for d in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert mode_of(d) == 0o700, d
    assert mode_of(tmp_path) == 0o755  # an existing directory is left as it is


def test_an_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    path.write_text("precious\n")
    with pytest.raises(KeyFileError, match="already exists; refusing to overwrite"):
        write_private_key(a_key(), path)
    assert path.read_text() == "precious\n"
    first = generate_key("log.example", KeyKind.LOG)
    path.unlink()
    write_private_key(first, path)
    with pytest.raises(KeyFileError, match="already exists"):
        write_private_key(generate_key("log.example", KeyKind.LOG), path)
    assert load_private_key(path) == first


def test_overwrite_replaces_atomically_with_0600(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    path.write_text("old\n")
    path.chmod(0o644)
    key = a_key()
    write_private_key(key, path, overwrite=True)
    assert mode_of(path) == 0o600
    assert load_private_key(path) == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.key"]  # no temporary left


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_symlink_is_never_written_through(tmp_path: Path, overwrite: bool) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("not yours\n")
    link = tmp_path / "log.key"
    link.symlink_to(target)
    with pytest.raises(KeyFileError, match="is a symlink; refusing"):
        write_private_key(a_key(), link, overwrite=overwrite)
    assert target.read_text() == "not yours\n"
    assert link.is_symlink()
    dangling = tmp_path / "dangling.key"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(KeyFileError, match="is a symlink"):
        write_private_key(a_key(), dangling, overwrite=overwrite)
    assert not (tmp_path / "nowhere").exists()


def test_a_directory_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "log.key").mkdir()
    with pytest.raises(KeyFileError, match="not a regular file"):
        write_private_key(a_key(), tmp_path / "log.key", overwrite=True)


# ---------------------------------------------------------------------------------------
# Loading private key files


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o610, 0o601, 0o666])
def test_a_key_file_others_may_access_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "log.key"
    write_private_key(a_key(), path)
    path.chmod(mode)
    with pytest.raises(InsecureKeyFileError, match=f"permissions {mode:04o} .* are too open") as e:
        load_private_key(path)
    assert isinstance(e.value, GongkaiError)
    assert "chmod 600" in str(e.value)
    assert format_private_key(a_key()).split("+")[-1].strip()[:12] not in str(e.value)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_modes_are_accepted(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "log.key"
    write_private_key(a_key(), path)
    path.chmod(mode)
    assert load_private_key(path) == a_key()


def test_missing_key_file_has_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=r"private key file .*nope\.key does not exist"):
        load_private_key(tmp_path / "nope.key")


def test_not_a_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not a regular file"):
        load_private_key(tmp_path)
    path = tmp_path / "junk.key"
    for data, match in [
        (b"\xff\xfe", "not UTF-8"),
        (b"hello\n", "does not start with 'PRIVATE\\+KEY\\+'"),
        (b"x" * 5000, "too large"),
        (b"", "does not start"),
    ]:
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.close(fd)
        with pytest.raises(FormatError, match=match):
            load_private_key(path)


# ---------------------------------------------------------------------------------------
# Verifier key files


def test_vkey_file_is_0644_and_loads_back(tmp_path: Path) -> None:
    key = a_key(KeyKind.COSIGNER)
    path = tmp_path / "pub" / "w1.vkey"
    with umask(0o077):
        write_vkey(key.vkey, path)
    assert mode_of(path) == 0o644
    assert path.read_text() == key.vkey + "\n"
    assert load_vkey(path) == key.verifier()


def test_vkey_file_is_replaced_but_not_through_a_symlink(tmp_path: Path) -> None:
    path = tmp_path / "log.vkey"
    write_vkey(a_key().vkey, path)
    other = generate_key("log.example/tianhai", KeyKind.LOG)
    write_vkey(other.vkey, path)
    assert load_vkey(path) == other.verifier()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.vkey"]
    target = tmp_path / "target"
    target.write_text("x\n")
    (tmp_path / "link.vkey").symlink_to(target)
    with pytest.raises(KeyFileError, match="symlink"):
        write_vkey(other.vkey, tmp_path / "link.vkey")
    assert target.read_text() == "x\n"


def test_write_vkey_refuses_anything_but_a_vkey(tmp_path: Path) -> None:
    """Above all, a private key handed over by mistake is not published."""
    path = tmp_path / "log.vkey"
    with pytest.raises(FormatError):
        write_vkey(format_private_key(a_key()).strip(), path)
    with pytest.raises(FormatError):
        write_vkey("hello", path)
    assert not path.exists()


def test_load_vkey_refuses_junk(tmp_path: Path) -> None:
    path = tmp_path / "x.vkey"
    path.write_text(a_key().vkey + "\n\n")
    with pytest.raises(FormatError, match=r"x\.vkey"):
        load_vkey(path)
    with pytest.raises(KeyFileError, match="does not exist"):
        load_vkey(tmp_path / "none.vkey")
