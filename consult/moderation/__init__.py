"""Moderation: reports on contributions, hiding and restoring them, suspended accounts."""
