"""Normalise, de-duplicate, link skills, embed and publish the catalogue."""
