"""Accounts: login, sessions and tokens, login throttling, councils and their members
(docs/features/accounts.md)."""
