"""Shared, domain-free building blocks: database, errors, money, time, security, pagination."""
