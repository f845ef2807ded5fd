"""The commands of democratic evaluation (民主评议, :mod:`ledger.domain.evaluation`): the
street (or the clerk) opens a round; the clerk records each person's written report;
the street issues the ballot forms' one-time codes, opens voting, closes it, publishes
the tally and records what follows from it; a ballot is cast with its code.

Neither the codes nor a ballot's code is kept in the clear anywhere. :meth:`issue
_ballot_codes` answers the plaintext codes once, to be printed on the forms, and
commits only their salted hashes; a replay of the command answers no codes. A ballot's
code is hashed with the evaluation's salt before anything else is done with it: only
the hash enters the command's arguments (whose fingerprint the commands table keeps)
and the event; and the ballot command runs as :data:`~ledger.domain.evaluation.BALLOT`
under a random key, so that the commands table holds no account's digest or
client-chosen key beside a ballot."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.evaluation import (
    BALLOT,
    Dimension,
    Evaluation,
    Grade,
    Tenure,
    evaluation_id,
)
from ledger.domain.permissions import require_role
from ledger.errors import InvalidInputError, InvalidTransitionError

#: The codes' letters: no 0/O, 1/I/L, which are misread on a printed form.
CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#: 12 letters of 31: about 59 bits, so that guessing a committed code from its salted
#: hash during the voting's hours costs far more than it could gain.
CODE_LENGTH: Final = 12
SALT_BYTES: Final = 16
#: The most people one round evaluates, and the most forms it issues.
MAX_EVALUATED: Final = 50
MAX_CODES: Final = 5_000


@dataclass(frozen=True, slots=True)
class IssuedCodes:
    """What issuing answers. ``codes`` are to be printed, one per form, and are stored
    nowhere; None when the command was a replay of one made before."""

    result: CommandResult
    codes: list[str] | None


def make_codes(count: int) -> tuple[str, list[str], list[str]]:
    """``count`` distinct one-time codes in a random order, a fresh salt, and each code's
    salted hash: (salt, codes, hashes)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_CODES:
        raise InvalidInputError(f"issue 1 to {MAX_CODES} codes", field="count")
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(new_code())
    issued = list(codes)
    secrets.SystemRandom().shuffle(issued)
    salt = secrets.token_hex(SALT_BYTES)
    return salt, issued, [code_sha256(salt, c) for c in issued]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(code: str) -> str:
    """A code as typed: case, spaces and dashes do not count."""
    return "".join(c for c in code.upper() if c.isalnum())


def code_sha256(salt: str, code: str) -> str:
    """SHA-256(salt ‖ code): the salt's bytes (from its hex), then the code's ASCII."""
    return hashlib.sha256(
        bytes.fromhex(salt) + normal_code(code).encode("ascii", "replace")
    ).hexdigest()


def printed(code: str) -> str:
    """A code as printed on a form, in groups of four."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


class EvaluationCommands(CommandRunner):
    """Commands on :class:`~ledger.domain.evaluation.Evaluation` aggregates."""

    def open_evaluation(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        year: int,
        month: int,
        evaluated: Sequence[Mapping[str, str]],
    ) -> CommandResult:
        """Open the round of ``year``-``month`` (June or December) evaluating each of
        ``evaluated`` (``name``, ``post``, ``tenure``: elected or hired)."""
        require_role(actor, "open_evaluation")
        if isinstance(year, bool) or not isinstance(year, int):
            raise InvalidInputError("the year is a whole number", field="year")
        if isinstance(month, bool) or not isinstance(month, int):
            raise InvalidInputError("the month is a whole number", field="month")
        if isinstance(evaluated, str | bytes) or not isinstance(evaluated, Sequence):
            raise InvalidInputError("evaluated is a list", field="evaluated")
        if len(evaluated) > MAX_EVALUATED:
            raise InvalidInputError(f"a round evaluates at most {MAX_EVALUATED}",
                                    field="evaluated")  # fmt: skip
        people: list[tuple[str, str, Tenure]] = []
        for person in evaluated:
            if not isinstance(person, Mapping):
                raise InvalidInputError("each evaluated person has a name, post and tenure",
                                        field="evaluated")  # fmt: skip
            people.append((
                validate.text(person.get("name"), "name", max_length=50),
                validate.text(person.get("post"), "post", max_length=100),
                validate.choice(Tenure, person.get("tenure"), "tenure"),
            ))  # fmt: skip
        community = self.community.id

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            if self._find(evaluation_id(community, year, month)) is not None:
                raise InvalidTransitionError(
                    f"the round of {year}-{month:02d} is already open in this community"
                )
            evaluation = Evaluation.open(actor, community, year=year, month=month,
                                         evaluated=people)  # fmt: skip
            return [evaluation], {"id": str(evaluation.id)}

        arguments = {
            "year": year,
            "month": month,
            "evaluated": [{"name": n, "post": p, "tenure": t.value} for n, p, t in people],
        }
        return self.execute(actor, idempotency_key, "open_evaluation", arguments, build)

    def record_evaluation_report(
        self,
        actor: Actor,
        idempotency_key: str,
        evaluation: UUID | str,
        *,
        person: str,
        sha256: str,
    ) -> CommandResult:
        """``person``'s written report (述职述廉), the file of SHA-256 ``sha256``."""
        require_role(actor, "record_evaluation_report")
        who = validate.text(person, "person", max_length=50)
        digest = validate.sha256_hex(sha256, "sha256")
        self.require_held([digest], "sha256")
        return self._on_evaluation(
            actor, idempotency_key, "record_evaluation_report", evaluation,
            {"person": who, "sha256": digest}, lambda e: e.record_report(actor, who, digest),
        )  # fmt: skip

    def issue_ballot_codes(
        self, actor: Actor, idempotency_key: str, evaluation: UUID | str, *, count: int
    ) -> IssuedCodes:
        """Make ``count`` one-time ballot codes, commit their salted hashes, and answer
        the codes (grouped for printing) this once."""
        require_role(actor, "issue_ballot_codes")
        salt, issued, hashes = make_codes(count)
        # Only the count enters the arguments: the fingerprint of a replay with the
        # same key matches, and answers no codes, since they were made anew.
        result = self._on_evaluation(
            actor, idempotency_key, "issue_ballot_codes", evaluation, {"count": count},
            lambda e: e.commit_codes(actor, salt, hashes),
        )  # fmt: skip
        return IssuedCodes(result, None if result.replayed else [printed(c) for c in issued])

    def open_voting(
        self, actor: Actor, idempotency_key: str, evaluation: UUID | str
    ) -> CommandResult:
        require_role(actor, "open_voting")
        return self._on_evaluation(actor, idempotency_key, "open_voting", evaluation, {},
                                   lambda e: e.open_voting(actor))  # fmt: skip

    def cast_ballot(
        self,
        actor: Actor,
        evaluation: UUID | str,
        *,
        code: str,
        grades: Mapping[str, Mapping[str, str]],
    ) -> CommandResult:
        """One ballot: ``grades`` gives each person evaluated a grade on each dimension.
        ``actor`` (a representative with their form's code, or the street entering a
        paper form) is checked and then forgotten: the ballot is recorded as cast by
        :data:`~ledger.domain.evaluation.BALLOT`. There is no idempotency key: a ballot
        retried after a lost answer is refused as already cast, which is the answer."""
        require_role(actor, "cast_ballot")
        typed = validate.text(code, "code", max_length=40)
        marks = _marks(grades)
        found = self.get(Evaluation, evaluation, "evaluation")
        if not found.salt:
            raise InvalidTransitionError("voting has not opened yet: no ballot is accepted")
        digest = code_sha256(found.salt, typed)

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            current = self.get(Evaluation, evaluation, "evaluation")
            current.receive_ballot(digest, marks)
            return [current], {"id": str(current.id), "accepted": True}

        arguments = {"evaluation": str(evaluation), "code_sha256": digest, "grades": marks}
        return self.execute(BALLOT, uuid4().hex, "cast_ballot", arguments, build)

    def close_voting(
        self, actor: Actor, idempotency_key: str, evaluation: UUID | str
    ) -> CommandResult:
        require_role(actor, "close_voting")
        return self._on_evaluation(actor, idempotency_key, "close_voting", evaluation, {},
                                   lambda e: e.close_voting(actor))  # fmt: skip

    def publish_tally(
        self, actor: Actor, idempotency_key: str, evaluation: UUID | str
    ) -> CommandResult:
        """Publish the tally, counted from the ballots received; answers it."""
        require_role(actor, "publish_tally")
        return self._on_evaluation(actor, idempotency_key, "publish_tally", evaluation, {},
                                   lambda e: {"tally": e.publish_tally(actor)})  # fmt: skip

    def record_consequences(
        self, actor: Actor, idempotency_key: str, evaluation: UUID | str, *, note: str = ""
    ) -> CommandResult:
        """What follows from the published grades: commendations, admonitions, recall
        motions (a recall itself is voted by a residents' meeting, called apart)."""
        require_role(actor, "record_consequences")
        said = validate.text(note, "note", multiline=True, max_length=2_000, required=False)
        return self._on_evaluation(
            actor, idempotency_key, "record_consequences", evaluation, {"note": said},
            lambda e: {"consequences": e.record_consequences(actor, said)},
        )  # fmt: skip

    def evaluation(self, evaluation: UUID | str) -> Evaluation:
        return self.get(Evaluation, evaluation, "evaluation")

    def _find(self, uid: UUID) -> Evaluation | None:
        try:
            found: Aggregate = self.repository.get(uid)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Evaluation) else None

    def _on_evaluation(
        self,
        actor: Actor,
        idempotency_key: str,
        command: str,
        evaluation: UUID | str,
        arguments: dict[str, Any],
        act: Callable[[Evaluation], object],
    ) -> CommandResult:
        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            found = self.get(Evaluation, evaluation, "evaluation")
            answered = act(found)
            extra = answered if isinstance(answered, dict) else {}
            return [found], {"id": str(found.id), "status": found.status.value, **extra}

        arguments = {"evaluation": str(evaluation), **arguments}
        return self.execute(actor, idempotency_key, command, arguments, build)


def _marks(grades: object) -> dict[str, dict[str, str]]:
    """A ballot's grades as plain data, each a known dimension and grade (the aggregate
    checks that they cover everyone evaluated)."""
    if not isinstance(grades, Mapping):
        raise InvalidInputError("a ballot's grades map each person to their grades",
                                field="grades")  # fmt: skip
    if len(grades) > MAX_EVALUATED:
        raise InvalidInputError(f"a ballot grades at most {MAX_EVALUATED}", field="grades")
    marks: dict[str, dict[str, str]] = {}
    for name, given in grades.items():
        if not isinstance(name, str) or not isinstance(given, Mapping):
            raise InvalidInputError("a ballot's grades map each person to their grades",
                                    field="grades")  # fmt: skip
        marks[name] = {
            validate.choice(Dimension, d, "grades").value: validate.choice(
                Grade, g, "grades"
            ).value
            for d, g in given.items()
        }
    return marks
