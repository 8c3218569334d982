"""Contributions: what citizens write on an article, and their votes."""
