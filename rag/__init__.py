"""Vraagbaak: retrieval and verbatim quoting over Dutch parliamentary written questions."""

__version__ = "0.1.0"
