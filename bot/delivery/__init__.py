"""Delivery: every message to many people goes through the durable outbox (outbox.py), drained
per platform by senders within the platform's limits (senders.py, limits.py) by the engine (engine.py)."""
