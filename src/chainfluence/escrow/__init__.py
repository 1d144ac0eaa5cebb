"""Escrow: fixing a deal's escrow terms and asking the advertiser to pay into the contract."""
