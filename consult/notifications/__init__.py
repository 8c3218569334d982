"""Notifications: an email to each author when an answer to their contributions is published."""
