"""The Telegram bot's application: the update dispatcher, its unit-of-work middleware, the
handlers (each calls a domain's service) and the webhook route.

It sits above the domains (it acts on them) and below the wiring, which builds the dispatcher
with the ports it needs; `chainfluence.telegram` stays an integration that knows no domain.
"""
