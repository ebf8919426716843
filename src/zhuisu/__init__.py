"""zhuisu (追溯): traceability platform for important products."""

from zhuisu import _native

__version__ = "0.1.0"

_native.guard()  # compiled modules run only while they match their source (zhuisu._native)
