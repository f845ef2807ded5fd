"""Every role against every route of the service, each with the status the rules give it:
api/service/auth.py (who is signed in), projections/visibility.py (who reads what) and the
checks in api/routes/*.py. Every request targets the demo community ``tianhai``, with
real subjects from it, so that a 404 in the table means what it says; the clerk of
``xinhe`` is the same role in the wrong community. A route the service has and the table
lacks fails :func:`test_every_route_is_in_the_matrix`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.routes.command_paths import COMMAND_ROUTES
from api.service.app import create_app
from api.service.settings import Settings
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store
from tests.api.test_command_routes import BODIES

PROBLEM = "application/problem+json"

#: The callers, in the order of the table's columns: (role, community), None for nobody.
ROLES: Final[dict[str, tuple[str, str | None] | None]] = {
    "anonymous": None,
    "resident": ("resident", "tianhai"),
    "resident_representative": ("resident_representative", "tianhai"),
    "committee_member": ("committee_member", "tianhai"),
    "clerk": ("clerk", "tianhai"),
    "committee_chair": ("committee_chair", "tianhai"),
    "party_reviewer": ("party_reviewer", "tianhai"),
    "disciplinary_auditor": ("disciplinary_auditor", None),
    "clerk_of_xinhe": ("clerk", "xinhe"),
}

#: A command the caller may give: it reaches the ledger, which answers for the state of
#: its (here unknown) subject; any status but 401 and 403. What the ledger answers is
#: tested role by command in test_command_routes.
GO: Final = 0


@dataclass(frozen=True)
class Row:
    """One route, one request to it, and the status each caller gets, in ROLES order."""

    method: str
    route: str
    expected: tuple[int, ...]
    #: The request's path when it is not the route's with tianhai filled in: {names}
    #: are the demo's subjects, see :class:`Demo`.
    target: str = ""
    body: dict[str, Any] | None = field(default=None, hash=False)
    #: A body sent as text rather than JSON, with {names} as in ``target``.
    text: str = ""
    #: Tells apart the rows of one route.
    label: str = ""
    #: A portal page: its errors are HTML pages, not problem+json.
    page: bool = False

    @property
    def name(self) -> str:
        return f"{self.method} {self.route}" + (f" ({self.label})" if self.label else "")


C = "/v1/communities/{community_id}"
HISTORY = f"{C}/disclosures/{{disclosure_id}}/history"
PAGE = "/c/{community_id}/items/{disclosure_id}"
FILE = f"{C}/attachments/{{sha256}}"
CONSOLE = "/console/c/{community_id}"
T = "/v1/communities/tianhai"
SIGN_IN = {"username": "resident.tianhai", "password": GOOD_PASSWORD}

# fmt: off
#                          anon res  rep  mem  clk  chr  rev  aud  xinhe
EVERYONE: Final         = (200, 200, 200, 200, 200, 200, 200, 200, 200)
SIGNED_IN: Final        = (401, 200, 200, 200, 200, 200, 200, 200, 200)
# Internal: the community's members and the auditors (visibility.can_see).
MEMBERS: Final          = (401, 200, 200, 200, 200, 200, 200, 200, 403)
# The raw chain and the acts on items of every scope (visibility.reads_everything).
LEADERSHIP: Final       = (401, 403, 403, 403, 200, 200, 200, 200, 403)
STREET: Final           = (401, 403, 403, 403, 403, 403, 403, 200, 403)

COMMANDS: Final[dict[str, tuple[int, ...]]] = {
    #                      anon res  rep  mem  clk  chr  rev  aud  xinhe
    "draft_disclosure":   (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "revise_draft":       (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "submit_for_review":  (401, 403, 403, 403, GO,  403, 403, 403, 403),
    # BODIES' review is the committee's stage: its members and its chair.
    "review":             (401, 403, 403, GO,  403, GO,  403, 403, 403),
    "publish":            (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "withdraw":           (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "archive":            (401, 403, 403, 403, GO,  403, 403, 403, 403),
    # A street-wide auditor acts in no community's ledger but on objections' findings.
    "raise_objection":    (401, GO, GO,  GO,  GO,  GO,  GO,  403, 403),
    # Residents and their representatives leave opinions; the clerk answers them.
    "leave_opinion":      (401, GO,  GO,  403, 403, 403, 403, 403, 403),
    "answer_opinion":     (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "verify_objection":   (401, 403, 403, 403, 403, GO,  GO,  GO,  403),
    "dismiss_objection":  (401, 403, 403, 403, 403, GO,  GO,  GO,  403),
    "draft_correction":   (401, 403, 403, 403, GO,  403, 403, 403, 403),
    # BODIES' review of a correction is the committee's stage, as a disclosure's.
    "review_correction":  (401, 403, 403, GO,  403, GO,  403, 403, 403),
    "publish_correction": (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "record_entry":       (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "reverse_entry":      (401, 403, 403, 403, GO,  403, 403, 403, 403),
    # Inquiries: filed by representatives, answered by the clerk, judged by who asked,
    # and closed by the committee's record of the meeting.
    "file_inquiry":       (401, 403, GO,  403, 403, 403, 403, 403, 403),
    "answer_inquiry":     (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "mark_unsatisfactory": (401, 403, GO, 403, 403, 403, 403, 403, 403),
    "record_meeting":     (401, 403, 403, GO,  403, GO,  403, 403, 403),
    # The chair registers the members' seal keys.
    "register_seal_key":  (401, 403, 403, 403, 403, GO,  403, 403, 403),
    # The chair alone erases a person's personal data (ledger.domain.person).
    "erase_person":       (401, 403, 403, 403, 403, GO,  403, 403, 403),
    # Reports: filed by residents and representatives; the street's disciplinary
    # committee registers the key they are sealed to and handles them.
    "register_report_key": (401, 403, 403, 403, 403, 403, 403, GO, 403),
    "file_report":        (401, GO,  GO,  403, 403, 403, 403, 403, 403),
    "acknowledge_report": (401, 403, 403, 403, 403, 403, 403, GO,  403),
    "record_investigation_step": (401, 403, 403, 403, 403, 403, 403, GO, 403),
    "conclude_report":    (401, 403, 403, 403, 403, 403, 403, GO,  403),
    # The disclosure calendar: adopted and retired by the clerk, approved by the committee.
    "adopt_obligation":   (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "approve_obligation": (401, 403, 403, GO,  403, GO,  403, 403, 403),
    "choose_gates":       (401, 403, 403, 403, 403, GO,  403, 403, 403),
    "close_period":       (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "sign_off_statement": (401, 403, 403, GO,  403, GO,  403, 403, 403),
    "draft_statement":    (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "retire_obligation":  (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "declare_coverage":   (401, 403, 403, 403, GO,  403, 403, 403, 403),
    # Residents' meetings: called and recorded by the residents' committee's clerk.
    "call_meeting":       (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "post_meeting_notice": (401, 403, 403, 403, GO, 403, 403, 403, 403),
    "record_attendance":  (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "vote_resolution":    (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "post_resolution":    (401, 403, 403, 403, GO,  403, 403, 403, 403),
    # The committee's register: kept by the clerk.
    "register_post":      (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "leave_post":         (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "declare_relationship": (401, 403, 403, 403, GO, 403, 403, 403, 403),
    "elect_committee":    (401, 403, 403, 403, GO,  403, 403, 403, 403),
    "leave_committee":    (401, 403, 403, 403, GO,  403, 403, 403, 403),
    # The committee's chair assigns its groups and delivers its report.
    "assign_subgroup":    (401, 403, 403, 403, 403, GO,  403, 403, 403),
    "elect_representative": (401, 403, 403, 403, GO, 403, 403, 403, 403),
    "deliver_committee_report": (401, 403, 403, 403, 403, GO, 403, 403, 403),
    # Democratic evaluation: opened by the street or the clerk; the ballot held by the
    # street and the party branch; cast by residents and their representatives, or
    # entered from a paper form by the street, which records what follows.
    "open_evaluation":    (401, 403, 403, 403, GO,  403, 403, GO,  403),
    "record_evaluation_report": (401, 403, 403, 403, GO, 403, 403, GO, 403),
    "issue_ballot_codes": (401, 403, 403, 403, 403, 403, GO,  GO,  403),
    "open_voting":        (401, 403, 403, 403, 403, 403, GO,  GO,  403),
    "cast_ballot":        (401, GO,  GO,  403, 403, 403, 403, GO,  403),
    "close_voting":       (401, 403, 403, 403, 403, 403, GO,  GO,  403),
    "publish_tally":      (401, 403, 403, 403, 403, 403, GO,  GO,  403),
    "record_consequences": (401, 403, 403, 403, 403, 403, 403, GO, 403),
    # The satisfaction survey, on the evaluation's mechanism and by the same people.
    "open_survey":        (401, 403, 403, 403, GO,  403, 403, GO,  403),
    "issue_survey_codes": (401, 403, 403, 403, 403, 403, GO,  GO,  403),
    "open_survey_voting": (401, 403, 403, 403, 403, 403, GO,  GO,  403),
    "answer_survey":      (401, GO,  GO,  403, 403, 403, 403, GO,  403),
    "close_survey_voting": (401, 403, 403, 403, 403, 403, GO, GO,  403),
    "publish_survey_tally": (401, 403, 403, 403, 403, 403, GO, GO, 403),
}

ROWS: Final[list[Row]] = [
    # Signing in ignores who the request already acts for.
    Row("POST", "/v1/login",                   EVERYONE, body=SIGN_IN),
    Row("POST", "/v1/logout",                  (204, 204, 204, 204, 204, 204, 204, 204, 204)),
    Row("GET", "/v1/me",                       SIGNED_IN),
    Row("GET", "/v1/tokens",                   SIGNED_IN),
    # A token is issued from a browser session only, never from another token.
    Row("POST", "/v1/tokens",                  (401, 403, 403, 403, 403, 403, 403, 403, 403),
        body={"days": 1}),
    # The resident's own token; anyone else's is reported as not found.
    Row("DELETE", "/v1/tokens/{token_id}",     (401, 204, 404, 404, 404, 404, 404, 404, 404),
        target="/v1/tokens/{token}"),
    Row("GET", f"{C}/board",                   EVERYONE),
    Row("GET", HISTORY,                        EVERYONE,
        target=f"{T}/disclosures/{{public}}/history", label="public"),
    # An item a reader may not see does not exist for them.
    Row("GET", HISTORY,                        (404, 200, 200, 200, 200, 200, 200, 200, 404),
        target=f"{T}/disclosures/{{internal}}/history", label="internal"),
    Row("GET", HISTORY,                        (404, 404, 404, 404, 200, 200, 200, 200, 404),
        target=f"{T}/disclosures/{{leadership}}/history", label="leadership"),
    # Files: uploaded by the clerk; served as the item naming them is, to anyone else
    # not existing (a voucher is internal, like the finances).
    Row("POST", f"{C}/attachments",            (401, 403, 403, 403, GO,  403, 403, 403, 403),
        text="%PDF-1.4 uploaded by the matrix"),
    Row("GET", FILE,                           EVERYONE,
        target=f"{T}/attachments/{{public_file}}", label="public"),
    Row("GET", FILE,                           (404, 200, 200, 200, 200, 200, 200, 200, 404),
        target=f"{T}/attachments/{{internal_file}}", label="internal"),
    Row("GET", FILE,                           (404, 200, 200, 200, 200, 200, 200, 200, 404),
        target=f"{T}/attachments/{{voucher}}", label="voucher"),
    # What residents said and what came of it: read as the item is.
    *(
        Row("GET", f"{C}/disclosures/{{disclosure_id}}/{what}", expected,
            target=f"{T}/disclosures/{{{scope}}}/{what}", label=scope)
        for what in ("opinions", "objections")
        for scope, expected in (
            ("public", EVERYONE),
            ("internal", (404, 200, 200, 200, 200, 200, 200, 200, 404)),
            ("leadership", (404, 404, 404, 404, 200, 200, 200, 200, 404)),
        )
    ),
    # The inquiries, with their deadlines, are the members' and the auditors'.
    Row("GET", f"{C}/inquiries",               MEMBERS),
    Row("GET", f"{C}/inquiries/{{inquiry_id}}", (401, 404, 404, 404, 404, 404, 404, 404, 403)),
    # Reports' subject and text are the leadership's and the auditors'; the key they are
    # sealed to is public; a receipt code is its own proof (an unknown one: 404).
    Row("GET", f"{C}/reports",                 LEADERSHIP),
    Row("GET", f"{C}/reports/{{report_id}}",   (401, 403, 403, 403, 404, 404, 404, 404, 403)),
    Row("GET", f"{C}/report-key",              EVERYONE),
    # The calendar is for everyone, each obligation as its scope says.
    Row("GET", f"{C}/calendar",                EVERYONE),
    # The review gates are public, as the procedure is.
    Row("GET", f"{C}/settings/gates",          EVERYONE),
    # A closed period's figures, as the finances: the members' and the auditors'.
    Row("GET", f"{C}/finance/periods/{{period}}", (401, 404, 404, 404, 404, 404, 404, 404, 403)),
    # A meeting is public, as its notice and resolutions are: an unknown one is 404.
    Row("GET", f"{C}/meetings/{{meeting_id}}",  (404, 404, 404, 404, 404, 404, 404, 404, 404)),
    # An evaluation is public once its tally is published: an unknown one is 404.
    Row("GET", f"{C}/evaluations/{{evaluation_id}}", (404,) * 9),
    Row("GET", f"{C}/surveys/{{survey_id}}", (404,) * 9),
    # The demo keeps no committee register: 404 to everyone, as a public read.
    Row("GET", f"{C}/committee",               (404, 404, 404, 404, 404, 404, 404, 404, 404)),
    # What the calendar owes and what is late: the members' and the auditors'.
    Row("GET", f"{C}/compliance",              MEMBERS),
    # The 十个防止 report: the community's for its members and the auditors, the whole
    # street's for the auditors.
    Row("GET", f"{C}/ten-preventions",         MEMBERS),
    Row("GET", f"{C}/ten-preventions.csv",     MEMBERS),
    Row("GET", "/v1/street/ten-preventions",   STREET),
    Row("GET", "/v1/street/ten-preventions.csv", STREET),
    Row("POST", f"{C}/reports/status",         (404,) * 9, body={"receipt": "AAAA-BBBB"}),
    Row("GET", f"{C}/finance/entries",         MEMBERS),
    Row("GET", f"{C}/finance/totals",          MEMBERS),
    Row("GET", f"{C}/finance/package",         MEMBERS),
    Row("GET", f"{C}/audit-trail",             LEADERSHIP),
    Row("GET", "/v1/communities",              EVERYONE),
    Row("GET", f"{C}/head",                    EVERYONE),
    Row("GET", f"{C}/events",                  LEADERSHIP),
    # The seal is public: a checkpoint, a proof or a key reveals no content.
    Row("GET", f"{C}/checkpoint",              EVERYONE),
    Row("GET", f"{C}/checkpoints",             EVERYONE),
    Row("GET", f"{C}/checkpoints/{{tree_size}}", EVERYONE),
    # A cosignature is vouched for by its key, not by who posts it: the committee's
    # own again, which the log already holds.
    Row("POST", f"{C}/checkpoints/{{tree_size}}/cosignatures",
        (201, 201, 201, 201, 201, 201, 201, 201, 201), text="{cosignature}"),
    Row("GET", f"{C}/proof/inclusion",         EVERYONE, target=f"{T}/proof/inclusion?seq=1"),
    Row("GET", f"{C}/proof/consistency",       EVERYONE,
        target=f"{T}/proof/consistency?from=1&to={{tree_size}}"),
    Row("GET", f"{C}/keys",                    EVERYONE),
    # The members' seal keys are public like the log's: anyone checks the seals.
    Row("GET", f"{C}/seal-keys",               EVERYONE),
    Row("GET", f"{C}/tile/{{path:path}}",      EVERYONE, target=f"{T}/tile/entries/000.p/1"),
    Row("GET", "/healthz",                     EVERYONE),
    # The portal's pages (api/portal): the board's and the history's rules, as HTML.
    Row("GET", "/",                            EVERYONE, page=True),
    Row("GET", "/c/{community_id}",            EVERYONE, page=True),
    Row("GET", PAGE,                           EVERYONE,
        target="/c/tianhai/items/{public}", label="public", page=True),
    Row("GET", PAGE,                           (404, 200, 200, 200, 200, 200, 200, 200, 404),
        target="/c/tianhai/items/{internal}", label="internal", page=True),
    Row("GET", PAGE,                           (404, 404, 404, 404, 200, 200, 200, 200, 404),
        target="/c/tianhai/items/{leadership}", label="leadership", page=True),
    Row("GET", PAGE + "/proof",                EVERYONE,
        target="/c/tianhai/items/{public}/proof", label="public", page=True),
    Row("GET", PAGE + "/proof",                (404, 200, 200, 200, 200, 200, 200, 200, 404),
        target="/c/tianhai/items/{internal}/proof", label="internal", page=True),
    Row("GET", PAGE + "/proof",                (404, 404, 404, 404, 200, 200, 200, 200, 404),
        target="/c/tianhai/items/{leadership}/proof", label="leadership", page=True),
    Row("GET", "/c/{community_id}/finance",    MEMBERS, page=True),
    # Meetings are posted before and their resolutions after: public.
    Row("GET", "/c/{community_id}/meetings",   EVERYONE, page=True),
    Row("GET", "/c/{community_id}/verify",     EVERYONE, page=True),
    # The sheets for the wall show the public view to everyone (sheets_page).
    Row("GET", "/c/{community_id}/sheets",     EVERYONE, page=True),
    Row("GET", "/portal/verify.js",            EVERYONE),
    # The staff console: for the signed-in, in their own community (the street's
    # auditors have none of their own: 404); each form for the roles that do its act.
    Row("GET", "/console",                     SIGNED_IN, page=True),
    Row("GET", f"{CONSOLE}/new",               (401, 403, 403, 403, 200, 403, 403, 404, 404),
        page=True),
    Row("POST", f"{CONSOLE}/new",              (401, 403, 403, 403, GO,  403, 403, 404, 404),
        page=True),
    Row("GET", f"{CONSOLE}/items/{{disclosure_id}}", (401, 200, 200, 200, 200, 200, 200, 404, 404),
        target="/console/c/tianhai/items/{public}", page=True),
    Row("GET", "/console/seal.js",             EVERYONE),
    Row("GET", "/console/open-report.js",      EVERYONE),
    # Bundles hold every scope: the auditors' and the leadership's (reads_everything).
    Row("GET", "/console/bundles",             (401, 403, 403, 403, 200, 200, 200, 200, 200),
        page=True),
    Row("GET", f"{CONSOLE}/bundle.zip",        LEADERSHIP, page=True),
    Row("GET", "/console/seal-key",            (401, 403, 403, 200, 403, 200, 403, 403, 403),
        page=True),
    Row("GET", f"{CONSOLE}/seal-keys",         (401, 403, 403, 403, 403, 200, 403, 404, 404),
        page=True),
    Row("GET", f"{CONSOLE}/finance",           (401, 403, 403, 403, 200, 403, 403, 404, 404),
        page=True),
    Row("POST", f"{CONSOLE}/finance",          (401, 403, 403, 403, GO,  403, 403, 404, 404),
        page=True),
    Row("POST", f"{CONSOLE}/finance/{{entry_id}}/reversal",
        (401, 403, 403, 403, GO, 403, 403, 404, 404), page=True),
    Row("GET", f"{CONSOLE}/work-ledger",       LEADERSHIP, page=True),
    # Objections: handled by the party branch, the chair, the clerk and the auditors.
    # ... and their corrections reviewed by the committee's members too.
    Row("GET", f"{CONSOLE}/objections",        (401, 403, 403, 200, 200, 200, 200, 200, 404),
        page=True),
    Row("POST", f"{CONSOLE}/objections/{{objection_id}}/{{act}}",
        (401, 403, 403, 403, 403, GO, GO, GO, 404),
        target="/console/c/tianhai/objections/{public}/verification", page=True),
    # Opinions: followed by the leadership and the auditors, answered by the clerk;
    # left from the portal's item page by residents and their representatives.
    Row("GET", f"{CONSOLE}/opinions",          (401, 403, 403, 403, 200, 200, 200, 200, 404),
        page=True),
    Row("POST", f"{CONSOLE}/opinions/{{disclosure_id}}/{{opinion_id}}/answer",
        (401, 403, 403, 403, GO, 403, 403, 404, 404), page=True),
    Row("POST", PAGE + "/opinions",            (401, GO, GO, 403, 403, 403, 403, 404, 404),
        page=True),
    # Inquiries: the list on the portal is the members' and the auditors'; filed and
    # judged there by representatives; answered by the clerk and closed by the
    # committee in the console, where the auditors follow them.
    Row("GET", "/c/{community_id}/inquiries",  (401, 200, 200, 200, 200, 200, 200, 200, 403),
        page=True),
    Row("POST", "/c/{community_id}/inquiries", (401, 403, GO, 403, 403, 403, 403, 404, 404),
        page=True),
    Row("POST", "/c/{community_id}/inquiries/{inquiry_id}/unsatisfactory",
        (401, 403, GO, 403, 403, 403, 403, 404, 404), page=True),
    Row("GET", f"{CONSOLE}/inquiries",         (401, 403, 403, 200, 200, 200, 403, 200, 404),
        page=True),
    Row("POST", f"{CONSOLE}/inquiries/{{inquiry_id}}/{{act}}",
        (401, 403, 403, 403, GO, 403, 403, 404, 404),
        target="/console/c/tianhai/inquiries/{public}/answer", page=True),
    # Reports: how to report and the receipt code's lookup are for everyone; filed by
    # the community's residents; read in the console by its leadership and the auditors,
    # who alone register the key and handle them.
    Row("GET", "/c/{community_id}/reports",    EVERYONE, page=True),
    Row("POST", "/c/{community_id}/reports",   (401, GO, GO, 403, 403, 403, 403, 404, 404),
        page=True),
    Row("POST", "/c/{community_id}/reports/status", (GO,) * 9, page=True),
    Row("GET", f"{CONSOLE}/reports",           LEADERSHIP, page=True),
    Row("GET", f"{CONSOLE}/calendar",          MEMBERS, page=True),
    # Closing the books: the periods are the members' and the auditors', as the books;
    # the clerk closes and drafts, the democratic finance group signs off.
    Row("GET", f"{CONSOLE}/finance/periods",   MEMBERS, page=True),
    Row("POST", f"{CONSOLE}/finance/periods/{{period}}/close",
        (401, 403, 403, 403, GO,  403, 403, 404, 404), page=True),
    Row("POST", f"{CONSOLE}/finance/periods/{{period}}/sign-off",
        (401, 403, 403, GO,  403, GO,  403, 404, 404), page=True),
    Row("POST", f"{CONSOLE}/finance/periods/{{period}}/statement",
        (401, 403, 403, 403, GO,  403, 403, 404, 404), page=True),
    # The review gates are public; in the console, the community's and the street's
    # auditors'; chosen by the committee's chair.
    Row("GET", f"{CONSOLE}/settings/gates",    (401, 200, 200, 200, 200, 200, 200, 200, 404),
        page=True),
    Row("POST", f"{CONSOLE}/settings/gates",   (401, 403, 403, 403, 403, GO,  403, 404, 404),
        page=True),
    Row("GET", f"{CONSOLE}/ten-preventions",   MEMBERS, page=True),
    # Democratic evaluation: the rounds are the members' and the auditors'; opened by
    # the clerk or the street; the codes and the voting held by the street and the
    # party branch; a ballot cast by residents, representatives, or the street from a
    # paper form; the consequences the street's. A published round's results are
    # public; an unknown one is 404.
    Row("GET", f"{CONSOLE}/evaluations",       MEMBERS, page=True),
    Row("POST", f"{CONSOLE}/evaluations",      (401, 403, 403, 403, GO,  403, 403, GO,  404),
        page=True),
    Row("POST", f"{CONSOLE}/evaluations/{{evaluation}}/codes",
        (401, 403, 403, 403, 403, 403, GO,  GO,  404), page=True),
    Row("POST", f"{CONSOLE}/evaluations/{{evaluation}}/reports",
        (401, 403, 403, 403, GO,  403, 403, GO,  404), page=True),
    Row("POST", f"{CONSOLE}/evaluations/{{evaluation}}/ballots",
        (401, GO,  GO,  403, 403, 403, 403, GO,  404), page=True),
    Row("POST", f"{CONSOLE}/evaluations/{{evaluation}}/{{act}}",
        (401, 403, 403, 403, 403, 403, GO,  GO,  404),
        target="/console/c/tianhai/evaluations/{public}/voting-open", page=True),
    Row("GET", "/c/{community_id}/evaluations/{evaluation}", (404,) * 9, page=True),
    Row("GET", "/console/street/ten-preventions", STREET, page=True),
    Row("POST", f"{CONSOLE}/report-key",       (401, 403, 403, 403, 403, 403, 403, GO, 404),
        page=True),
    Row("POST", f"{CONSOLE}/reports/{{report_id}}/{{act}}",
        (401, 403, 403, 403, 403, 403, 403, GO, 404),
        target="/console/c/tianhai/reports/{public}/acknowledgement", page=True),
    Row("GET", f"{CONSOLE}/checkpoint",        (401, 403, 403, 403, 403, 200, 403, 404, 404),
        page=True),
    Row("POST", f"{CONSOLE}/seal-keys",        (401, 403, 403, 403, 403, GO,  403, 404, 404),
        page=True),
    Row("POST", f"{CONSOLE}/items/{{disclosure_id}}/{{act}}",
        (401, 403, 403, 403, GO, 403, 403, 404, 404),
        target="/console/c/tianhai/items/{public}/submission", page=True),
    *(
        Row("POST", C + COMMAND_ROUTES[command], expected, body=BODIES[command])
        for command, expected in COMMANDS.items()
    ),
]
# fmt: on


def test_every_route_is_in_the_matrix() -> None:
    """The table's routes are exactly the service's: a new route needs its row."""
    app = create_app(Settings(db_url="sqlite:///matrix-only.sqlite3", checkpoint_interval=0))
    # app.routes holds each included router as one node; this walks into them.
    routes = {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
    }
    rows = {(row.method, row.route) for row in ROWS}
    assert sorted(routes - rows) == [], "routes without a row in the matrix"
    assert sorted(rows - routes) == [], "rows for routes the service does not have"


@dataclass
class Demo:
    client: TestClient
    tokens: dict[str, str]
    #: What a row's target may name: disclosures of each scope, the sealed tree size,
    #: the resident's spare token, and the committee's cosignature of the checkpoint.
    subjects: dict[str, str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    directory = tmp_path_factory.mktemp("matrix")
    url = demo_store(directory)
    catch_up(url)
    tokens: dict[str, str] = {}
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for name, caller in ROLES.items():
            if caller is None:
                continue
            role, community = caller
            username = f"{role}.{community or 'street'}"
            accounts.directory.add(username, role, community=community, password=GOOD_PASSWORD)
            tokens[name] = accounts.tokens.issue(username).secret
        spare = accounts.tokens.issue("resident.tianhai", label="spare").info.id
    settings = Settings(db_url=url, checkpoint_interval=0, keys_dir=directory / "keys")
    with TestClient(create_app(settings)) as client:
        auditor = {"Authorization": f"Bearer {tokens['disciplinary_auditor']}"}
        items = client.get(f"{T}/board", headers=auditor).json()["items"]
        by_scope = {item["scope"]: item["disclosure_id"] for item in items}
        assert by_scope.keys() == {"public", "internal", "leadership"}, "the demo has each"
        tree_size = client.get(f"{T}/checkpoints").json()["checkpoints"][0]["tree_size"]
        note = client.get(f"{T}/checkpoints/{tree_size}").text
        committee = next(line for line in note.splitlines() if line.startswith("— committee."))
        files = {
            item["scope"]: attachments[0]
            for item in items
            if (attachments := item_files(client, item["disclosure_id"], auditor))
        }
        entries = client.get(f"{T}/finance/entries", headers=auditor).json()["entries"]
        subjects = {
            **by_scope,
            "public_file": files["public"],
            "internal_file": files["internal"],
            "voucher": entries[0]["voucher_sha256"],
            "tree_size": str(tree_size),
            "token": spare,
            "cosignature": committee + "\n",
        }
        yield Demo(client, tokens, subjects)


def item_files(client: TestClient, disclosure_id: str, headers: dict[str, str]) -> list[str]:
    """The files a disclosure's latest version names."""
    versions = client.get(f"{T}/disclosures/{disclosure_id}/history", headers=headers).json()
    files: list[str] = versions["versions"][-1]["attachments"]
    return files


def send(demo: Demo, row: Row, caller: str) -> httpx.Response:
    # The commands need a key of their own; the other routes ignore it.
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if caller in demo.tokens:
        headers["Authorization"] = f"Bearer {demo.tokens[caller]}"
    unknown = str(uuid.uuid4())
    path = (row.target or row.route).format(
        community_id="tianhai",
        disclosure_id=unknown,
        correction_id=unknown,
        entry_id=unknown,
        opinion_id=unknown,
        inquiry_id=unknown,
        report_id=unknown,
        obligation_id=unknown,
        meeting_id=unknown,
        person_id="p-unknown",
        evaluation_id=unknown,
        survey_id=unknown,
        evaluation=unknown,
        period="2026-01",
        **demo.subjects,
    )
    content = row.text.format(**demo.subjects).encode() if row.text else None
    # A sign-in's session cookie must not sign in the cells after it.
    demo.client.cookies.clear()
    response: httpx.Response = demo.client.request(
        row.method, path, headers=headers, json=row.body, content=content
    )
    demo.client.cookies.clear()
    return response


@pytest.mark.parametrize(
    ("row", "caller", "expected"),
    [
        pytest.param(row, caller, status, id=f"{row.name}-{caller}")
        for row in ROWS
        for caller, status in zip(ROLES, row.expected, strict=True)
    ],
)
def test_each_role_gets_the_status_the_rules_give_it(
    demo: Demo, row: Row, caller: str, expected: int
) -> None:
    response = send(demo, row, caller)
    if expected == GO:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
        return
    assert response.status_code == expected, response.text
    if expected >= 400:
        wanted = "text/html; charset=utf-8" if row.page else PROBLEM
        assert response.headers["content-type"] == wanted
    if expected == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
