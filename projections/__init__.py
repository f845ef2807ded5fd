"""Read models built from the ledger (the board, history, finance, audit trail)."""
