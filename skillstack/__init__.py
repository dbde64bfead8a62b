"""skillstack: course-catalogue aggregator and recommender for micro-credentials."""

__version__ = "0.1.0"
