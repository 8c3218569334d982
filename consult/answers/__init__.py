"""Answers: officials decide what becomes of each contribution, and say why."""
