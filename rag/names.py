"""File names as text that is safe to store, compare and print.

A POSIX file name is bytes: it may not be valid UTF-8 (Python then carries the bad bytes as
lone surrogates, which no UTF-8 file can hold) and it may hold newlines, terminal escapes or
bidirectional overrides that garble or spoof what a user reads. Every name the project stores
or shows goes through :func:`printable` first.
"""

from __future__ import annotations

import unicodedata

# Control, format (bidi overrides, zero-width), separator, surrogate, private, unassigned
_UNSAFE = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))


def printable(name: str) -> str:
    """``name`` with undecodable bytes as ``\\xNN`` and unsafe characters as ``\\uNNNN``.

    Ordinary names, Dutch and other letters included, are returned unchanged; the result is
    always valid UTF-8 on one line. Backslashes are kept as they are, so the form is for
    people and records, not for reopening the file (the corpus walk keeps the real path).
    """
    if name.isprintable():
        return name
    out = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif unicodedata.category(char) in _UNSAFE:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
