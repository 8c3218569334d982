"""Questionnaires: consultations on questions the ministry writes, and the responses to them."""
