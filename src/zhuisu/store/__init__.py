"""Persistence: the only package that knows SQL (SQLite embedded default, PostgreSQL)."""
