"""Typed errors of the library; the CLI and the app translate them into one readable message."""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error this package raises on purpose."""


class ParseError(RagError):
    """A file could not be read or holds no usable question/answer structure."""


class ModelError(RagError):
    """The embedding model could not be provisioned or loaded."""


class IndexError_(RagError):
    """The index folder is missing, incomplete, corrupt or built with other settings."""


class QueryError(RagError):
    """A question is empty, too long or otherwise not searchable."""


class FetchError(RagError):
    """The open-data services could not be read, or what they sent is not usable."""
