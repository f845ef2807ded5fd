"""What the portal's pages show, built from the read models with the JSON routes' own
rules and encoders: an item is shown only if :func:`~projections.visibility.can_see`
lets the reader see its scope, and only as :func:`api.routes.board.item_json` and
:func:`api.routes.reads.version_json` give it on the reader's view (masked on the public
one). The templates get nothing else, so a page never shows more than the JSON route
answers the same reader."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Final
from uuid import UUID

from api.routes.board import item_json
from api.routes.reads import version_json
from ledger.domain.vocabulary import (
    CATEGORY_BY_CODE,
    ROLE_NAMES,
    SCOPE_NAMES,
    SECTION_NAMES,
    STAGE_NAMES,
)
from ledger.errors import InvalidInputError
from projections.board import BoardItem
from projections.history import ContentVersion, ObjectionAct, changes
from projections.masking import mask_name, mask_text
from projections.visibility import Reader, can_see

#: China Standard Time: the board's days end at midnight here (no daylight saving).
CHINA: Final = timezone(timedelta(hours=8))
#: A date as the time-travel control sends it; ASCII digits only (\d takes any script's).
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A review line as projections.board writes it (masked or not): "stage 名（role）通过".
_REVIEW: Final = re.compile(r"^(\S*) (.*)（([^（）]*)）(通过|不通过)(，监审印章)?$")
#: The section of items whose category the vocabulary does not know (none today).
OTHER: Final = "其他"
# The vocabulary's names by the codes as stored (text, whether or not a known member).
_STAGE_NAMES: Final[dict[str, str]] = {str(k): v for k, v in STAGE_NAMES.items()}
_ROLE_NAMES: Final[dict[str, str]] = {str(k): v for k, v in ROLE_NAMES.items()}
_SCOPE_NAMES: Final[dict[str, str]] = {str(k): v for k, v in SCOPE_NAMES.items()}


def end_of_day(text: str) -> tuple[date, datetime]:
    """``YYYY-MM-DD`` and the last instant of that day in China time."""
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError("a date is YYYY-MM-DD, e.g. 2026-07-01", field="date") from None
    return day, datetime.combine(day, time.max, tzinfo=CHINA)


@dataclass(frozen=True, slots=True)
class Review:
    """One review act of an item's seal, in parts the page can name in either language;
    ``text`` is the whole line when it cannot be split."""

    stage: str = ""
    who: str = ""
    role: str = ""
    approved: bool = False
    text: str = ""
    sealed: bool = False  # the reviewer's seal (监审印章) is on it


def review_parts(line: str) -> Review:
    """A review line (already masked on the public view) split into its parts, with the
    codes replaced by their Chinese names (the templates' source language)."""
    match = _REVIEW.match(line)
    if match is None:
        return Review(text=line)
    stage, who, role, verdict, sealed = match.groups()
    return Review(
        _STAGE_NAMES.get(stage, stage),
        who,
        _ROLE_NAMES.get(role, role),
        verdict == "通过",
        sealed=bool(sealed),
    )


#: Whose seal a cosigner key is (ledger.seal.community_log.COSIGNER_ROLES), as the board
#: names them.
COSIGNER_ROLE_NAMES: Final = {"committee": "居务监督委员会", "witness": "见证方"}


def cosigner_role(role: str) -> str:
    return COSIGNER_ROLE_NAMES.get(role, role)


def scope_name(scope: str) -> str:
    return _SCOPE_NAMES.get(scope, scope)


def posted_sections(
    items: Sequence[BoardItem], reader: Reader, community_id: str, *, public: bool, day: str
) -> list[tuple[str, list[dict[str, Any]]]]:
    """What is posted on the board on China date ``day`` (published items within their
    posting period, or long-term, that the reader may see), by section in the
    vocabulary's order, each item as the JSON board gives it to the reader."""
    sections: dict[str, list[dict[str, Any]]] = {name: [] for name in SECTION_NAMES.values()}
    for item in items:
        if item.on_board(day) != "posted" or not can_see(reader, community_id, item.scope):
            continue
        category = CATEGORY_BY_CODE.get(item.category)
        name = SECTION_NAMES[category.section] if category else OTHER
        sections.setdefault(name, []).append(item_json(item, public=public))
    return list(sections.items())


def past_items(
    items: Sequence[BoardItem], reader: Reader, community_id: str, *, public: bool, day: str
) -> list[dict[str, Any]]:
    """往期公开: the items the reader may see whose posting had ended by ``day`` (已到期)
    or that were archived (已归档), most recently ended first; each as the JSON board
    gives it, with ``on_board`` saying which."""
    past = [
        (item, where)
        for item in items
        if (where := item.on_board(day)) in ("expired", "archived")
        and can_see(reader, community_id, item.scope)
    ]
    past.sort(key=lambda pair: (pair[0].posted_until, pair[0].last_seq), reverse=True)
    return [{**item_json(item, public=public), "on_board": where} for item, where in past]


@dataclass(frozen=True, slots=True)
class VersionView:
    """One version as the reader may see it, and the diff from the one before."""

    version: dict[str, Any]
    changed: tuple[str, ...] = ()
    title_diff: tuple[str, ...] = ()
    body_diff: tuple[str, ...] = ()


def version_views(
    versions: list[ContentVersion],
    *,
    public: bool,
    community_id: str = "",
    keys: Mapping[str, bytes | None] | None = None,
) -> list[VersionView]:
    """Each version as the history route gives it, with the diff of its title and body
    from the previous one computed from those same (masked, on the public view) texts,
    so that no diff line carries what the version itself does not show. ``keys``: those
    that open the recipients of aid lists (see :func:`api.routes.reads.version_json`)."""
    shown = [
        version_json(v, public=public, community_id=community_id, keys=keys) for v in versions
    ]
    texts = [
        dataclasses.replace(v, title=s["title"], body=s["body"])
        for v, s in zip(versions, shown, strict=True)
    ]
    views = [VersionView(shown[0])] if shown else []
    for (old, new), data in zip(itertools.pairwise(texts), shown[1:], strict=True):
        diff = changes(old, new)
        views.append(VersionView(data, diff.fields, diff.title_diff, diff.body_diff))
    return views


def recorded_text(stamp: str) -> str:
    """A stored UTC time as China time, to the minute."""
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if when.tzinfo is None:
        return stamp
    return when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") + " (UTC+8)"


@dataclass
class Objection:
    """One objection and every act on it."""

    objection_id: UUID
    disclosure_id: UUID
    title: str
    raised: ObjectionAct
    acts: list[ObjectionAct] = field(default_factory=list)

    @property
    def state(self) -> str:
        """ "raised", "verified", "dismissed", "correction_submitted" (its correction
        under review), "correction_rejected" or "corrected", by its acts."""
        kinds = [a.act for a in self.acts]
        for act, state in (
            ("correction-published", "corrected"),
            ("objection-dismissed", "dismissed"),
        ):
            if act in kinds:
                return state
        if "correction-drafted" in kinds:
            last = len(kinds) - 1 - kinds[::-1].index("correction-drafted")
            rejected = any(a.outcome == "rejected" for a in self.acts[last + 1 :])
            return "correction_rejected" if rejected else "correction_submitted"
        return "verified" if "objection-verified" in kinds else "raised"


def grouped(acts: Iterable[ObjectionAct], titles: dict[UUID, str]) -> list[Objection]:
    by_id: dict[UUID, Objection] = {}
    for act in acts:
        if act.act == "objection-raised":
            title = titles.get(act.disclosure_id, "")
            by_id[act.objection_id] = Objection(act.objection_id, act.disclosure_id, title, act)
        elif act.objection_id in by_id:
            by_id[act.objection_id].acts.append(act)
    return sorted(by_id.values(), key=lambda o: o.raised.seq, reverse=True)


def public_act(act: ObjectionAct) -> ObjectionAct:
    """An act on an objection as the public view shows it: the objector's and the
    actor's names and the texts masked, as a version's are."""
    return dataclasses.replace(
        act,
        actor=mask_name(act.actor),
        objector=mask_name(act.objector) if act.objector else "",
        text=mask_text(act.text),
    )


def item_objections(acts: Iterable[ObjectionAct], title: str, *, public: bool) -> list[Objection]:
    """An item's objections, each with its outcome, masked on the public view."""
    shown = [public_act(a) if public else a for a in acts]
    return grouped(shown, {a.disclosure_id: title for a in shown})
