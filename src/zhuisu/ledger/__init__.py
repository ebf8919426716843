"""Tamper-evident ledger: RFC 6962/9162 Merkle log with signed checkpoints."""
