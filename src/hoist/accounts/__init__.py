"""Accounts: password hashing, login throttling, API rate limits. Pure or in-memory; no HTTP."""
