"""Append-only audit log of what officials and administrators do."""
