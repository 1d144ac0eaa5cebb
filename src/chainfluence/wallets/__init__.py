"""Wallets: linking a TON wallet to a user with a TON Connect ton_proof, and its history."""
