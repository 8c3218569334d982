"""Organisations (ministries) that hold consultations, and the accounts that act for them."""
