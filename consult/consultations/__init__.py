"""Consultations: a bill put to the public, with its phases and dates."""
