"""zhuisu (追溯): traceability platform for important products."""

__version__ = "0.1.0"
