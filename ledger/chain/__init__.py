"""The hash chain: how each event is bound to the one before it (:mod:`.hashing`), the
verifier that recomputes every link from the raw rows (:mod:`.verify`), and the
idempotency keys that keep a retried command from storing twice (:mod:`.idempotency`)."""
