"""Uploads: images for campaigns and creatives, sniffed from their bytes and stored on disk."""
