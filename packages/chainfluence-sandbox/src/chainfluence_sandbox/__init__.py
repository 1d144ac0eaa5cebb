"""Local stand-ins for Telegram and TON used by tests, `chainfluence serve` and the demo."""
