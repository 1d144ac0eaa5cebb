"""The pay and wallet pages under /app: static HTML around one committed JS bundle."""
