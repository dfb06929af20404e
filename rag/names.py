"""File names as text that is safe to store, compare and print.

A POSIX file name is bytes: it may not be valid UTF-8 (Python then carries the bad bytes as
lone surrogates, which no UTF-8 file can hold) and it may hold newlines, terminal escapes or
bidirectional overrides that garble or spoof what a user reads. Every name the project shows
goes through :func:`printable` first; every name it stores as a record (a document's source
and id) through :func:`stored_name`, which also keeps two different names apart.
"""

from __future__ import annotations

import unicodedata

# Control, format (bidi overrides, zero-width), separator, surrogate, private, unassigned
_UNSAFE = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))


def printable(name: str) -> str:
    """``name`` with undecodable bytes as ``\\xNN`` and unsafe characters as ``\\xNN`` (below
    128), ``\\uNNNN`` or ``\\UNNNNNNNN``, as Python writes them.

    Ordinary names, Dutch and other letters included, are returned unchanged; the result is
    always valid UTF-8 on one line, and showing it again changes nothing. Backslashes are
    kept as they are, so the form is for people: records use `stored_name`.
    """
    if name.isprintable():
        return name
    out = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif unicodedata.category(char) in _UNSAFE:
            # \x only below 128, where no undecodable byte lies; \U past \uFFFF, so that
            # "\ue0001" cannot be read as U+E000 followed by "1"
            out.append(f"\\x{code:02x}" if code < 0x80 else
                       f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def stored_name(name: str) -> str:
    """`printable` with the backslash itself escaped (``\\\\``): one-to-one, so two files
    never share a record name (a name holding the byte 0xff is ``bad\\xffname``, a name
    holding a backslash, an x and two f's is ``bad\\\\xffname``).

    Only names with a backslash or an unsafe character differ from the name itself; the
    result is `printable`, so showing it shows it as stored.
    """
    return printable(name.replace("\\", "\\\\"))
