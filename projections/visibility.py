"""Who may read what (公开范围): public items to everyone; internal items to signed-in
members of the community and to the street's disciplinary auditors; leadership items
(班子内部) to the community's leadership roles and the auditors. Anything else (an
unknown scope) to no one but the auditors: a read path fails closed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ledger.domain.vocabulary import Role, Scope

#: The community's leadership (班子): the clerks who prepare its items, the supervision
#: committee's chair and the party branch's reviewer.
LEADERSHIP_ROLES: Final = frozenset({Role.CLERK, Role.COMMITTEE_CHAIR, Role.PARTY_REVIEWER})


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads: nobody signed in (``role`` None), or an account's role and community
    (None for a disciplinary auditor, who reads the whole street)."""

    role: Role | None = None
    community: str | None = None

    @property
    def auditor(self) -> bool:
        return self.role is Role.DISCIPLINARY_AUDITOR

    def member_of(self, community_id: str) -> bool:
        return self.role is not None and self.community == community_id


ANONYMOUS: Final = Reader()


def can_see(reader: Reader, community_id: str, scope: str) -> bool:
    """May ``reader`` see an item of ``scope`` in ``community_id``?"""
    if scope == Scope.PUBLIC:
        return True
    if reader.auditor:
        return True
    if scope == Scope.INTERNAL:
        return reader.member_of(community_id)
    if scope == Scope.LEADERSHIP:
        return reader.member_of(community_id) and reader.role in LEADERSHIP_ROLES
    return False


def sees_public_view(reader: Reader, community_id: str) -> bool:
    """Whether ``reader`` gets the public view of ``community_id`` (personal data
    masked): everyone but its members and the auditors."""
    return not (reader.auditor or reader.member_of(community_id))


def reads_everything(reader: Reader, community_id: str) -> bool:
    """Whether ``reader`` may read every stored entry of ``community_id`` as it is (the
    raw chain): its leadership and the auditors."""
    return reader.auditor or (reader.member_of(community_id) and reader.role in LEADERSHIP_ROLES)
