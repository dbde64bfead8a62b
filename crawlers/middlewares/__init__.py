"""Downloader middlewares of the skillstack crawlers."""
