"""Bot update handlers, one module per domain; each stays thin and calls the domain's service."""
