"""The domain model: aggregates and their explicit, past-tense events. No I/O here."""
