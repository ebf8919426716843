"""Identifiers: GS1 keys, Digital Link, EPC URN, Chinese codes, trace-code issuing."""
