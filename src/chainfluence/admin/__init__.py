"""Operators' tools: disputes to decide, and an overview of deals and money in flight."""
