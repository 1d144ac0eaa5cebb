"""Live events: the caller's new notifications and changes of their deals and offers, as
Server-Sent Events (`GET /v1/events`), replayable from the `user_events` outbox."""
