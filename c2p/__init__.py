"""C2P platform plumbing shared by every service: configuration, database,
reliable events (outbox, idempotent consumers, retries and parking), entrypoints."""
