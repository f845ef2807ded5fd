"""What ``gongkai serve`` runs: the FastAPI application and its wiring (settings, the
ledger and read models opened for the app's lifetime, authentication, problem details),
and the two threads beside it, the projection worker and the sealer."""
