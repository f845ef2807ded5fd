"""``gongkai users``: accounts made by the administrator, passwords never on the command
line, and a clear message with exit status 2 for every mistake."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import pytest

from api.accounts import AuthenticationError, open_accounts
from api.cli.common import EXIT_ERROR, UsageError
from api.cli.main import main
from api.cli.users import add_user_commands
from ledger.errors import GongkaiError
from tests.accounts_support import GOOD_PASSWORD

Capsys = pytest.CaptureFixture[str]


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    """Run a users command as ``gongkai`` does (see ``api.cli.main.main``), in a parser of
    its own."""
    parser = argparse.ArgumentParser(prog="gongkai")
    add_user_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except UsageError as e:
        print(f"gongkai: error: {e}", file=sys.stderr)
        code = EXIT_ERROR
    except GongkaiError as e:
        print(f"gongkai: error: {e}", file=sys.stderr)
        code = EXIT_ERROR
    out, err = capsys.readouterr()
    return code, out, err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def db(isolated_store_url: str, capsys: Capsys) -> str:
    """A store with the community tianhai registered."""
    assert main(["db", "init", "--db", isolated_store_url]) == 0
    assert (
        main(["community", "add", "tianhai", "--name", "天海社区", "--db", isolated_store_url])
        == 0
    )
    capsys.readouterr()
    return isolated_store_url


@pytest.fixture
def password_file(tmp_path: Path) -> str:
    path = tmp_path / "password"
    path.write_text(GOOD_PASSWORD + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal())


def add(capsys: Capsys, db: str, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "users", "add", "--db", db, *extra)


def signs_in(db: str, username: str, password: str) -> bool:
    with open_accounts(db) as accounts:
        try:
            accounts.login(username, password, "cli-test")
        except AuthenticationError:
            return False
    return True


def test_add_from_a_file_and_list(capsys: Capsys, db: str, password_file: str) -> None:
    code, out, err = add(
        capsys,
        db,
        *("--username", "wang.li", "--role", "clerk", "--community", "tianhai"),
        *("--name", "王丽", "--password-file", password_file),
    )
    assert code == 0, err
    assert out == ""
    assert "wang.li (王丽) is ready: 社区工作者 of tianhai" in err
    assert signs_in(db, "wang.li", GOOD_PASSWORD)
    code, out, _ = run(capsys, "users", "list", "--db", db)
    assert code == 0
    [line] = out.splitlines()
    assert line.split("\t")[:4] == ["wang.li", "clerk", "tianhai", "active"]
    assert GOOD_PASSWORD not in out


def test_add_from_standard_input(capsys: Capsys, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped passphrase 42\n"))
    code, out, err = add(capsys, db, "--username", "jiwei", "--role", "disciplinary_auditor")
    assert code == 0, err
    assert "every community of the street" in err
    assert out == ""
    assert signs_in(db, "jiwei", "piped passphrase 42")


def test_add_on_a_terminal_generates_and_prints_once(
    capsys: Capsys, db: str, terminal: None
) -> None:
    code, out, err = add(
        capsys, db, "--username", "zhao", "--role", "resident", "--community", "tianhai"
    )
    assert code == 0, err
    password = out.strip()
    assert len(password) >= 20
    assert "shown this once" in err
    assert signs_in(db, "zhao", password)
    _, listed, _ = run(capsys, "users", "list", "--db", db)
    assert password not in listed


def test_the_password_is_never_an_argument(capsys: Capsys, db: str) -> None:
    with pytest.raises(SystemExit) as e:
        add(capsys, db, "--username", "zhao", "--role", "resident", "--password", GOOD_PASSWORD)
    assert e.value.code == 2
    assert "unrecognized arguments: --password" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--username", "Wang", "--role", "clerk", "--community", "tianhai"), "3-32 characters"),
        (("--username", "wang.li", "--role", "clerk"), "works in one community"),
        (("--username", "wang.li", "--role", "resident"), "works in one community"),
        (
            ("--username", "jw", "--role", "disciplinary_auditor", "--community", "tianhai"),
            "3-32",
        ),
        (
            ("--username", "jiwei", "--role", "disciplinary_auditor", "--community", "tianhai"),
            "every community of the street",
        ),
        (("--username", "wang.li", "--role", "clerk", "--community", "nowhere"), "nowhere"),
    ],
)
def test_bad_accounts_are_refused(
    capsys: Capsys, db: str, password_file: str, extra: tuple[str, ...], message: str
) -> None:
    code, out, err = add(capsys, db, *extra, "--password-file", password_file)
    assert code == EXIT_ERROR
    assert message in err
    assert out == ""
    assert run(capsys, "users", "list", "--db", db)[1] == ""


def test_unknown_roles_are_refused_by_the_parser(capsys: Capsys, db: str) -> None:
    with pytest.raises(SystemExit) as e:
        add(capsys, db, "--username", "wang.li", "--role", "system", "--community", "tianhai")
    assert e.value.code == 2
    assert "invalid choice: 'system'" in capsys.readouterr().err


def test_duplicate_usernames_are_refused(capsys: Capsys, db: str, password_file: str) -> None:
    args = ("--username", "wang.li", "--role", "clerk", "--community", "tianhai")
    assert add(capsys, db, *args, "--password-file", password_file)[0] == 0
    code, _, err = add(capsys, db, *args, "--password-file", password_file)
    assert code == EXIT_ERROR
    assert "'wang.li' is taken" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("short\n", "at least 10"),
        ("wang.li-123456\n", "too easy"),
        ("two lines of\npassword text\n", "one line"),
        ("", "at least 10"),
    ],
)
def test_weak_or_malformed_passwords_are_refused(
    capsys: Capsys, db: str, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "password"
    path.write_text(content, encoding="utf-8")
    code, _, err = add(
        capsys,
        db,
        *("--username", "wang.li", "--role", "clerk", "--community", "tianhai"),
        *("--password-file", str(path)),
    )
    assert code == EXIT_ERROR
    assert message in err


def test_a_missing_password_file_is_a_clear_error(capsys: Capsys, db: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    code, _, err = add(
        capsys,
        db,
        *("--username", "wang.li", "--role", "clerk", "--community", "tianhai"),
        *("--password-file", str(missing)),
    )
    assert code == EXIT_ERROR
    assert f"cannot read the password file {missing}" in err


def test_an_uninitialised_store_is_a_clear_error(
    capsys: Capsys, tmp_path: Path, password_file: str
) -> None:
    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    code, _, err = add(
        capsys,
        url,
        *("--username", "wang.li", "--role", "clerk", "--community", "tianhai"),
        *("--password-file", password_file),
    )
    assert code == EXIT_ERROR
    assert "gongkai db init" in err


def test_disable_stops_sign_in(capsys: Capsys, db: str, password_file: str) -> None:
    add(
        capsys,
        db,
        *("--username", "zhao", "--role", "resident", "--community", "tianhai"),
        *("--password-file", password_file),
    )
    assert signs_in(db, "zhao", GOOD_PASSWORD)
    code, out, _ = run(capsys, "users", "disable", "zhao", "--db", db)
    assert code == 0
    assert "zhao is disabled" in out
    assert not signs_in(db, "zhao", GOOD_PASSWORD)
    assert "\tdisabled\t" in run(capsys, "users", "list", "--db", db)[1]
    code, _, err = run(capsys, "users", "disable", "nobody", "--db", db)
    assert code == EXIT_ERROR
    assert "no account 'nobody'" in err


def test_token_prints_the_secret_once(capsys: Capsys, db: str, password_file: str) -> None:
    add(
        capsys,
        db,
        *("--username", "wang.li", "--role", "clerk", "--community", "tianhai"),
        *("--password-file", password_file),
    )
    code, out, err = run(
        capsys, "users", "token", "wang.li", "--days", "90", "--label", "backup", "--db", db
    )
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("gk_")
    assert "shown this once" in err
    with open_accounts(db) as accounts:
        assert accounts.tokens.principal(secret).username == "wang.li"
        [info] = accounts.tokens.of("wang.li")
    assert info.label == "backup"
    assert info.id in err


def test_token_errors(capsys: Capsys, db: str) -> None:
    code, _, err = run(capsys, "users", "token", "nobody", "--db", db)
    assert code == EXIT_ERROR
    assert "no account 'nobody'" in err
    for days in ("0", "366", "many"):
        with pytest.raises(SystemExit) as e:
            run(capsys, "users", "token", "nobody", "--days", days, "--db", db)
        assert e.value.code == 2
