"""The ledger's commands and reads: one eventsourcing application per community
(:class:`CommunityLedger`), and the :class:`Ledger` that opens them on a store."""

from ledger.application.community import CommunityLedger, Ledger

__all__ = ["CommunityLedger", "Ledger"]
