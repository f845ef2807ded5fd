"""The commands of the satisfaction survey (满意度测评, :mod:`ledger.domain.survey`),
on the democratic evaluation's ballot mechanism: the street (or the clerk) opens a
survey; the street issues its forms' one-time codes (answered once, committed only as
salted hashes), opens voting, closes it and publishes the tally; a form is answered
with its code, as no one (:data:`~ledger.domain.evaluation.BALLOT`) and under a key of
no meaning, as a ballot is."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.application.evaluations import (
    IssuedCodes,
    code_sha256,
    make_codes,
    printed,
)
from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.evaluation import BALLOT
from ledger.domain.permissions import require_role
from ledger.domain.survey import MAX_QUESTIONS, Satisfaction, SatisfactionSurvey, survey_id
from ledger.errors import InvalidInputError, InvalidTransitionError


class SurveyCommands(CommandRunner):
    """Commands on :class:`~ledger.domain.survey.SatisfactionSurvey` aggregates."""

    def open_survey(
        self, actor: Actor, idempotency_key: str, *, year: int, month: int,
        questions: Sequence[str],
    ) -> CommandResult:  # fmt: skip
        """Open the survey of ``year``-``month`` (June or December) asking ``questions``."""
        require_role(actor, "open_survey")
        for name, value in (("year", year), ("month", month)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInputError(f"the {name} is a whole number", field=name)
        if isinstance(questions, str | bytes) or not isinstance(questions, Sequence):
            raise InvalidInputError("questions is a list", field="questions")
        if len(questions) > MAX_QUESTIONS:
            raise InvalidInputError(f"a survey asks at most {MAX_QUESTIONS} questions",
                                    field="questions")  # fmt: skip
        asked = [validate.text(q, "questions", max_length=200) for q in questions]
        community = self.community.id

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            if self._find_survey(survey_id(community, year, month)) is not None:
                raise InvalidTransitionError(
                    f"the survey of {year}-{month:02d} is already open in this community"
                )
            survey = SatisfactionSurvey.open(actor, community, year=year, month=month,
                                             questions=asked)  # fmt: skip
            return [survey], {"id": str(survey.id)}

        arguments = {"year": year, "month": month, "questions": asked}
        return self.execute(actor, idempotency_key, "open_survey", arguments, build)

    def issue_survey_codes(
        self, actor: Actor, idempotency_key: str, survey: UUID | str, *, count: int
    ) -> IssuedCodes:
        """Make ``count`` one-time codes, commit their salted hashes, and answer the codes
        (grouped for printing) this once; a replay answers none."""
        require_role(actor, "issue_survey_codes")
        salt, issued, hashes = make_codes(count)
        result = self._on_survey(
            actor, idempotency_key, "issue_survey_codes", survey, {"count": count},
            lambda s: s.commit_codes(actor, salt, hashes),
        )  # fmt: skip
        return IssuedCodes(result, None if result.replayed else [printed(c) for c in issued])

    def open_survey_voting(
        self, actor: Actor, idempotency_key: str, survey: UUID | str
    ) -> CommandResult:
        require_role(actor, "open_survey_voting")
        return self._on_survey(actor, idempotency_key, "open_survey_voting", survey, {},
                               lambda s: s.open_voting(actor))  # fmt: skip

    def answer_survey(
        self, actor: Actor, survey: UUID | str, *, code: str, answers: Mapping[str, str]
    ) -> CommandResult:
        """One form's ``answers`` (a question's index → a choice). ``actor`` is checked
        and then forgotten: the form is recorded as answered by no one, under a random
        key, so that the commands table ties it to no account."""
        require_role(actor, "answer_survey")
        typed = validate.text(code, "code", max_length=40)
        if not isinstance(answers, Mapping) or len(answers) > MAX_QUESTIONS:
            raise InvalidInputError("answers map each question's number to a choice",
                                    field="answers")  # fmt: skip
        given = {
            str(index): validate.choice(Satisfaction, choice, "answers").value
            for index, choice in answers.items()
        }
        found = self.get(SatisfactionSurvey, survey, "survey")
        if not found.salt:
            raise InvalidTransitionError("voting has not opened yet: no answer is taken")
        digest = code_sha256(found.salt, typed)

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            current = self.get(SatisfactionSurvey, survey, "survey")
            current.receive_answers(digest, given)
            return [current], {"id": str(current.id), "accepted": True}

        arguments = {"survey": str(survey), "code_sha256": digest, "answers": given}
        return self.execute(BALLOT, uuid4().hex, "answer_survey", arguments, build)

    def close_survey_voting(
        self, actor: Actor, idempotency_key: str, survey: UUID | str
    ) -> CommandResult:
        require_role(actor, "close_survey_voting")
        return self._on_survey(actor, idempotency_key, "close_survey_voting", survey, {},
                               lambda s: s.close_voting(actor))  # fmt: skip

    def publish_survey_tally(
        self, actor: Actor, idempotency_key: str, survey: UUID | str
    ) -> CommandResult:
        """Publish the counts of the answers received; answers them."""
        require_role(actor, "publish_survey_tally")
        return self._on_survey(actor, idempotency_key, "publish_survey_tally", survey, {},
                               lambda s: {"tally": s.publish_tally(actor)})  # fmt: skip

    def survey(self, survey: UUID | str) -> SatisfactionSurvey:
        return self.get(SatisfactionSurvey, survey, "survey")

    def _find_survey(self, uid: UUID) -> SatisfactionSurvey | None:
        try:
            found: Aggregate = self.repository.get(uid)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, SatisfactionSurvey) else None

    def _on_survey(
        self, actor: Actor, idempotency_key: str, command: str, survey: UUID | str,
        arguments: dict[str, Any], act: Callable[[SatisfactionSurvey], object],
    ) -> CommandResult:  # fmt: skip
        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            found = self.get(SatisfactionSurvey, survey, "survey")
            answered = act(found)
            extra = answered if isinstance(answered, dict) else {}
            return [found], {"id": str(found.id), "status": found.status.value, **extra}

        return self.execute(actor, idempotency_key, command,
                            {"survey": str(survey), **arguments}, build)  # fmt: skip
