"""Accounts, passwords, access tokens and API keys."""
