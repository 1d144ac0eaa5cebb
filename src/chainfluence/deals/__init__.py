"""Deals: the agreement, its escrow, its state machine and timeline, creatives, posting, payout."""
