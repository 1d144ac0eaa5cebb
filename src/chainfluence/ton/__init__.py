"""TON: the escrow contract artifact and addresses, the chain client and watcher, the platform wallet."""
