"""Scrapy project: one spider per source, writing raw items into crawl.duckdb."""
