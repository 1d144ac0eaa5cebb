"""Users: registration on first login, profile and roles, public profiles, statistics."""
