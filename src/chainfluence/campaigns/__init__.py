"""Campaigns: an advertiser's brief, its public list, and matching it to channels."""
