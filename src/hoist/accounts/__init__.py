"""Accounts: password hashing, login throttling, API rate limits, and logging in (shared by every face). No HTTP."""
