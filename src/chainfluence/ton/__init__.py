"""TON: escrow contract and addresses, chain client and watcher, the platform wallet."""
