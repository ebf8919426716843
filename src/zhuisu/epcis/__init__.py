"""EPCIS 2.0 and CBV 2.0: event form, codecs, validation, event hash, capture and query."""
