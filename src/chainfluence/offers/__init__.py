"""Offers: priced proposals for one channel and format, from publishers or advertisers."""
