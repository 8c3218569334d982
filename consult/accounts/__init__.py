"""Accounts: users, roles, passwords and server-side sessions."""
