"""Which roles may perform which command (DOMAIN.md, "Who uses it").

The API checks this too, with the community; the ledger checks it again so that no
path around the API can record an act in the wrong role.
"""

from __future__ import annotations

from typing import Final

from ledger.domain.base import Actor
from ledger.domain.vocabulary import ROLE_NAMES, STAGE_NAMES, STAGE_ROLES, ReviewStage, Role
from ledger.errors import PermissionDeniedError

_CLERK: Final = frozenset({Role.CLERK})
_STREET: Final = frozenset({Role.DISCIPLINARY_AUDITOR, Role.PARTY_REVIEWER})

COMMAND_ROLES: Final[dict[str, frozenset[Role]]] = {
    "draft_disclosure": _CLERK,
    "revise_draft": _CLERK,
    "submit_for_review": _CLERK,
    "publish": _CLERK,
    "withdraw": _CLERK,
    "archive": _CLERK,
    # The clerk drafts a correction and posts it once reviewed (review_correction
    # is recorded by the roles of each stage, as a disclosure's review).
    "draft_correction": _CLERK,
    "publish_correction": _CLERK,
    "record_entry": _CLERK,
    "reverse_entry": _CLERK,
    "adopt_chart": frozenset({Role.CLERK, Role.SYSTEM}),
    "add_account": _CLERK,
    # The committee's chair records which key seals each member's reviews.
    "register_seal_key": frozenset({Role.COMMITTEE_CHAIR}),
    # Residents and integrity supervisors object; a clerk records an oral objection.
    "raise_objection": frozenset(
        {
            Role.RESIDENT,
            Role.RESIDENT_REPRESENTATIVE,
            Role.CLERK,
            Role.COMMITTEE_MEMBER,
            Role.COMMITTEE_CHAIR,
            Role.PARTY_REVIEWER,
        }
    ),
    # The party branch or the street disciplinary committee verifies [004 篇六].
    "verify_objection": frozenset(
        {Role.PARTY_REVIEWER, Role.DISCIPLINARY_AUDITOR, Role.COMMITTEE_CHAIR}
    ),
    "dismiss_objection": frozenset(
        {Role.PARTY_REVIEWER, Role.DISCIPLINARY_AUDITOR, Role.COMMITTEE_CHAIR}
    ),
    # Residents and their representatives leave opinions on a posted item; the clerk,
    # who handles the residents' feedback, answers them.
    "leave_opinion": frozenset({Role.RESIDENT, Role.RESIDENT_REPRESENTATIVE}),
    "answer_opinion": _CLERK,
    # Inquiries (质询) are put by the residents' representatives to the residents'
    # committee, whose clerk answers; the service escalates; the supervision committee
    # records the accountability meeting [004 篇九 五].
    "file_inquiry": frozenset({Role.RESIDENT_REPRESENTATIVE}),
    # The residents' committee calls its meetings and records them [003 四、五].
    "call_meeting": _CLERK,
    "elect_representative": _CLERK,
    "post_meeting_notice": _CLERK,
    "record_attendance": _CLERK,
    "vote_resolution": _CLERK,
    "post_resolution": _CLERK,
    # The clerk keeps the supervision committee's register and records its election.
    "register_post": _CLERK,
    "leave_post": _CLERK,
    "declare_relationship": _CLERK,
    "elect_committee": _CLERK,
    "leave_committee": _CLERK,
    "assign_subgroup": frozenset({Role.COMMITTEE_CHAIR}),
    "deliver_committee_report": frozenset({Role.COMMITTEE_CHAIR}),
    "answer_inquiry": _CLERK,
    "mark_unsatisfactory": frozenset({Role.RESIDENT_REPRESENTATIVE}),
    "escalate_inquiry": frozenset({Role.SYSTEM}),
    "record_meeting": frozenset({Role.COMMITTEE_CHAIR, Role.COMMITTEE_MEMBER}),
    # Reports (举报) go to the street disciplinary committee, which alone registers the
    # key they are sealed to, and investigates and handles them [004 篇九 (三)].
    "register_report_key": frozenset({Role.DISCIPLINARY_AUDITOR}),
    "file_report": frozenset({Role.RESIDENT, Role.RESIDENT_REPRESENTATIVE}),
    "acknowledge_report": frozenset({Role.DISCIPLINARY_AUDITOR}),
    "record_investigation_step": frozenset({Role.DISCIPLINARY_AUDITOR}),
    "conclude_report": frozenset({Role.DISCIPLINARY_AUDITOR}),
    # The disclosure calendar (公开目录): the clerk adopts and retires its obligations,
    # which the supervision committee approves.
    "adopt_obligation": _CLERK,
    "approve_obligation": frozenset({Role.COMMITTEE_CHAIR, Role.COMMITTEE_MEMBER}),
    "retire_obligation": _CLERK,
    "declare_coverage": _CLERK,
    # The community's review gates: chosen by the supervision committee's chair, who
    # answers for the reviews.
    "choose_gates": frozenset({Role.COMMITTEE_CHAIR}),
    # Erasing a person's personal data (PIPL 第四十七条) destroys it for good: the
    # chair decides, not the clerk who drafts the lists (ledger.domain.person).
    "erase_person": frozenset({Role.COMMITTEE_CHAIR}),
    # The clerk closes a period and drafts its statement; the democratic finance group
    # (民主理财, the committee's members) signs it off.
    "close_period": _CLERK,
    "sign_off_statement": frozenset({Role.COMMITTEE_CHAIR, Role.COMMITTEE_MEMBER}),
    "draft_statement": _CLERK,
    # Democratic evaluation (民主评议): opened by the street, whose disciplinary
    # committee stands for it here, or by the clerk; the street and the community's
    # party branch hold the ballot, printing, handing out and counting its forms
    # [003 《社区民主评议社区居委会成员制度》 四.3]. Representatives (and residents, where a
    # residents' meeting evaluates) cast ballots with their form's code, or the street
    # enters the paper forms; either way the ballot is recorded under no one's name.
    "open_evaluation": frozenset({Role.DISCIPLINARY_AUDITOR, Role.CLERK}),
    "record_evaluation_report": frozenset({Role.CLERK, Role.DISCIPLINARY_AUDITOR}),
    "issue_ballot_codes": _STREET,
    "open_voting": _STREET,
    "cast_ballot": frozenset(
        {Role.RESIDENT_REPRESENTATIVE, Role.RESIDENT, Role.DISCIPLINARY_AUDITOR}
    ),
    "close_voting": _STREET,
    "publish_tally": _STREET,
    # The street commends and admonishes; a recall motion goes to a residents' meeting.
    "record_consequences": frozenset({Role.DISCIPLINARY_AUDITOR}),
    # The satisfaction survey (满意度测评) is held with the evaluation, on its mechanism.
    "open_survey": frozenset({Role.DISCIPLINARY_AUDITOR, Role.CLERK}),
    "issue_survey_codes": _STREET,
    "open_survey_voting": _STREET,
    "answer_survey": frozenset(
        {Role.RESIDENT_REPRESENTATIVE, Role.RESIDENT, Role.DISCIPLINARY_AUDITOR}
    ),
    "close_survey_voting": _STREET,
    "publish_survey_tally": _STREET,
}


def require_role(actor: Actor, command: str) -> None:
    allowed = COMMAND_ROLES[command]
    if actor.role not in allowed:
        raise PermissionDeniedError(
            f"a {ROLE_NAMES[actor.role]} ({actor.role.value}) may not {command.replace('_', ' ')}"
        )


def require_stage_role(actor: Actor, stage: ReviewStage) -> None:
    if actor.role not in STAGE_ROLES[stage]:
        allowed = ", ".join(sorted(r.value for r in STAGE_ROLES[stage]))
        raise PermissionDeniedError(
            f"{STAGE_NAMES[stage]} ({stage.value}) is recorded by: {allowed}; "
            f"not by {actor.role.value}"
        )
