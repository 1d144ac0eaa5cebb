"""Authentication: Telegram Mini App initData (HMAC or Ed25519 signature) and access tokens."""
