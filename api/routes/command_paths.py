"""The path of every command route, by the ledger command it runs: one table that the
authorization matrix and the command-route tests are checked against."""

from ledger.domain.vocabulary import Role

#: Every command route: (ledger command, method path under /v1/communities/{id}).
COMMAND_ROUTES: dict[str, str] = {
    "draft_disclosure": "/disclosures",
    "revise_draft": "/disclosures/{disclosure_id}/revisions",
    "submit_for_review": "/disclosures/{disclosure_id}/submission",
    "review": "/disclosures/{disclosure_id}/reviews",
    "publish": "/disclosures/{disclosure_id}/publication",
    "withdraw": "/disclosures/{disclosure_id}/withdrawal",
    "archive": "/disclosures/{disclosure_id}/archival",
    "raise_objection": "/disclosures/{disclosure_id}/objections",
    "leave_opinion": "/disclosures/{disclosure_id}/opinions",
    "answer_opinion": "/disclosures/{disclosure_id}/opinions/{opinion_id}/answer",
    "verify_objection": "/objections/{correction_id}/verification",
    "dismiss_objection": "/objections/{correction_id}/dismissal",
    "draft_correction": "/objections/{correction_id}/correction-draft",
    "review_correction": "/objections/{correction_id}/correction-reviews",
    "publish_correction": "/objections/{correction_id}/correction",
    "record_entry": "/finance/entries",
    "reverse_entry": "/finance/entries/{entry_id}/reversal",
    "register_seal_key": "/seal-keys",
    "erase_person": "/people/{person_id}/erasure",
    # api/routes/inquiries.py
    "file_inquiry": "/inquiries",
    "answer_inquiry": "/inquiries/{inquiry_id}/answer",
    "mark_unsatisfactory": "/inquiries/{inquiry_id}/unsatisfactory",
    "record_meeting": "/inquiries/{inquiry_id}/meeting",
    # api/routes/reports.py
    "register_report_key": "/report-key",
    "file_report": "/reports",
    "acknowledge_report": "/reports/{report_id}/acknowledgement",
    "record_investigation_step": "/reports/{report_id}/steps",
    "conclude_report": "/reports/{report_id}/finding",
    # api/routes/calendar.py
    "adopt_obligation": "/obligations",
    "approve_obligation": "/obligations/{obligation_id}/approval",
    "retire_obligation": "/obligations/{obligation_id}/retirement",
    "declare_coverage": "/disclosures/{disclosure_id}/coverage",
    # api/routes/calendar.py, the community's gates
    "choose_gates": "/settings/gates",
    # api/routes/finance_periods.py
    "close_period": "/finance/periods/{period}/close",
    "sign_off_statement": "/finance/periods/{period}/sign-off",
    "draft_statement": "/finance/periods/{period}/statement",
    # api/routes/meetings.py
    "call_meeting": "/meetings",
    "post_meeting_notice": "/meetings/{meeting_id}/notice",
    "record_attendance": "/meetings/{meeting_id}/attendance",
    "vote_resolution": "/meetings/{meeting_id}/resolutions",
    "post_resolution": "/meetings/{meeting_id}/resolutions/posted",
    # api/routes/committee.py
    "register_post": "/committee/posts",
    "leave_post": "/committee/posts/left",
    "declare_relationship": "/committee/relationships",
    "elect_committee": "/committee/election",
    "leave_committee": "/committee/departures",
    "assign_subgroup": "/committee/subgroups",
    "elect_representative": "/representatives",
    "deliver_committee_report": "/committee/reports",
    # api/routes/evaluations.py
    "open_evaluation": "/evaluations",
    "record_evaluation_report": "/evaluations/{evaluation_id}/reports",
    "issue_ballot_codes": "/evaluations/{evaluation_id}/codes",
    "open_voting": "/evaluations/{evaluation_id}/voting/open",
    "cast_ballot": "/evaluations/{evaluation_id}/ballots",
    "close_voting": "/evaluations/{evaluation_id}/voting/close",
    "publish_tally": "/evaluations/{evaluation_id}/tally",
    "record_consequences": "/evaluations/{evaluation_id}/consequences",
    # api/routes/surveys.py
    "open_survey": "/surveys",
    "issue_survey_codes": "/surveys/{survey_id}/codes",
    "open_survey_voting": "/surveys/{survey_id}/voting/open",
    "answer_survey": "/surveys/{survey_id}/answers",
    "close_survey_voting": "/surveys/{survey_id}/voting/close",
    "publish_survey_tally": "/surveys/{survey_id}/tally",
}
ROLES_WITH_ACCOUNTS = [role for role in Role if role is not Role.SYSTEM]
