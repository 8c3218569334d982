"""The demo consultation: a fictional bill, demo accounts and a schedule around today."""
