"""Channels: listing with Telegram verification, managers, pricing, stats and the catalogue."""
