"""Pieces every package shares: the settings object and the small data types."""
