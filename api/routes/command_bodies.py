"""The JSON bodies of the ledger's commands, as pydantic models: every field typed and
bounded, and no field the command does not take (``extra="forbid"``), so that a bad
body is a 422 naming the field before the ledger is asked."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from api.service.params import Fen, MultiLine, Period, SingleLine


class Body(BaseModel):
    """A command's JSON body. Free text is :data:`~api.service.params.SingleLine` where it is one
    line of a table or a sheet (titles, names, counterparties, a memo) and
    :data:`~api.service.params.MultiLine` where it is prose (bodies, opinions, reasons): the
    controls refused are the ledger's, checked here first so that the 422 names the
    field before anything is tried."""

    model_config = ConfigDict(extra="forbid")


class RecipientBody(Body):
    """One person on an aid list; stored sealed under the person's own key
    (ledger.domain.personal_data), never in the clear."""

    person_id: str = Field(
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="the clerk's own ID for the person (e.g. a household number), kept in "
        "the clear: never a phone or ID number",
    )
    name: SingleLine = Field(min_length=1, max_length=50)
    id_number: str = Field(default="", pattern=r"^([0-9]{17}[0-9Xx]|[0-9]{15})?$")
    phone: str = Field(default="", pattern=r"^(\+?[0-9][0-9-]{5,19})?$")
    amount_fen: Fen | None = None
    note: SingleLine = Field(default="", max_length=500)


class Content(Body):
    category: str
    title: SingleLine = Field(max_length=200)
    body: MultiLine = Field(max_length=20_000)
    scope: Literal["public", "internal", "leadership"]
    planned_from: str
    planned_until: str
    attachments: list[str] = Field(default_factory=list, max_length=50)
    #: An aid list's people (救助、低保、福利对象、征地补偿 lists only).
    recipients: list[RecipientBody] = Field(default_factory=list, max_length=1000)


class Erasure(Body):
    """The erasure of a person's personal data, on a ground of PIPL 第四十七条."""

    ground: Literal[
        "purpose_fulfilled",
        "retention_ended",
        "consent_withdrawn",
        "unlawful_processing",
        "other_legal",
    ]
    reason: MultiLine = Field(min_length=1, max_length=2_000)


class Review(Body):
    stage: str
    outcome: Literal["approved", "rejected"]
    opinion: MultiLine = Field(max_length=2_000)
    #: The reviewer's seal (监审印章), required once their key is registered: the key as
    #: <name>+<hex key ID> and the Ed25519 signature of the review's statement, base64.
    seal_key: str = Field(default="", max_length=300)
    seal_signature: str = Field(default="", max_length=200)


class CorrectionReview(Body):
    """A review act on a drafted correction (unsealed: a seal signs a disclosure's own
    versions)."""

    stage: str
    outcome: Literal["approved", "rejected"]
    opinion: MultiLine = Field(max_length=2_000)


class SealKeyRegistration(Body):
    """A committee member's seal key, registered by the chair."""

    member: str = Field(max_length=100, description="the member's account")
    vkey: str = Field(max_length=500, description="<name>+<hex key ID>+<base64(0x04||key)>")


class Publication(Body):
    channel: str
    period_from: str
    period_until: str


class Reason(Body):
    reason: MultiLine = Field(min_length=1, max_length=2_000)


class Objection(Body):
    disclosure_version: StrictInt = Field(ge=1)
    objector: SingleLine = Field(max_length=100)
    form: str
    content: MultiLine = Field(min_length=1, max_length=5_000)


class OpinionBody(Body):
    """A resident's opinion on a posted item; the name it is signed with is the
    account's own."""

    text: MultiLine = Field(min_length=1, max_length=5_000)
    text_public: StrictBool = Field(
        description="show the text to the public with the item (the answer always is)"
    )


class Answer(Body):
    answer: MultiLine = Field(min_length=1, max_length=5_000)


class Finding(Body):
    finding: MultiLine = Field(min_length=1, max_length=5_000)


class CorrectionContent(Body):
    title: SingleLine = Field(max_length=200)
    body: MultiLine = Field(max_length=20_000)
    explanation: MultiLine = Field(min_length=1, max_length=5_000)
    attachments: list[str] = Field(default_factory=list, max_length=50)


class Entry(Body):
    kind: Literal["income", "expense"]
    amount_fen: Fen
    account: SingleLine
    counterparty: SingleLine = Field(max_length=200)
    voucher_sha256: str
    period: Period
    memo: SingleLine = Field(default="", max_length=2_000)


class Reversal(Body):
    period: Period
    voucher_sha256: str
    # Single-line: it becomes the reversing entry's memo (摘要).
    reason: SingleLine = Field(min_length=1, max_length=2_000)
