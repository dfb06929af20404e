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
    """A question is empty, too long or otherwise not searchable.

    The message is English, for the command line; ``dutch`` is the same reason for the
    chat, whose users read Dutch (the message itself when none is given).
    """

    def __init__(self, message: str, dutch: str | None = None) -> None:
        super().__init__(message)
        self.dutch = dutch if dutch is not None else message


class FetchError(RagError):
    """The open-data services could not be read, or what they sent is not usable."""
