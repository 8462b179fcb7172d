"""Letter specifications: ``A-J``, ``A-Z,0-9``, ``A,C,E``, ``U+00C4``, any Unicode characters.

The class index of a letter is its position in the specification, so ``--letters J-A`` reverses labels.
A letter is also a folder name (``<split>/<LETTER>/<key>.png``, the notMNIST layout); characters that
are unsafe or ambiguous as folder names get a ``U+XXXX`` folder instead.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import UsageError

DEFAULT_LETTERS = "A-J"

_CODEPOINT = re.compile(r"^[Uu]\+([0-9A-Fa-f]{4,6})$")


def _parse_char(token: str, spec: str) -> str:
    match = _CODEPOINT.match(token)
    if match:
        value = int(match.group(1), 16)
        if value > 0x10FFFF:
            raise UsageError(f"--letters {spec!r}: {token} is beyond Unicode's last code point U+10FFFF")
        return chr(value)
    if len(token) != 1:
        raise UsageError(
            f"--letters {spec!r}: {token!r} is not one character, a range like A-J, or a code point (U+0041)"
        )
    return token


def parse_letters(spec: str) -> tuple[str, ...]:
    """Parse a comma-separated list of characters and ranges into an ordered tuple of characters."""
    if not spec or not spec.strip():
        raise UsageError("--letters is empty; give characters or ranges such as A-J or A,C,E")
    letters: list[str] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            raise UsageError(f"--letters {spec!r}: empty item between commas")
        if len(item) > 1 and "-" in item[1:] and not _CODEPOINT.match(item):
            start_token, _, end_token = item.rpartition("-") if item.startswith("-") else item.partition("-")
            start, end = _parse_char(start_token, spec), _parse_char(end_token, spec)
            step = 1 if ord(end) >= ord(start) else -1
            letters.extend(chr(c) for c in range(ord(start), ord(end) + step, step))
        else:
            letters.append(_parse_char(item, spec))
    duplicates = sorted({c for c in letters if letters.count(c) > 1})
    if duplicates:
        raise UsageError(f"--letters {spec!r}: {', '.join(duplicates)} given more than once")
    invisible = [c for c in letters if unicodedata.category(c)[0] in "CZ"]
    if invisible:
        names = ", ".join(f"U+{ord(c):04X}" for c in invisible)
        raise UsageError(
            f"--letters {spec!r}: {names} is a control or space character, which has no glyph to learn"
        )
    return tuple(letters)


def letter_dirname(letter: str) -> str:
    """Folder name for a letter: the letter itself when it is a safe folder name, else ``U+XXXX``."""
    if letter.isalnum() and letter.isascii():
        return letter
    if letter.isalnum() and unicodedata.category(letter)[0] == "L":
        return letter
    return f"U+{ord(letter):04X}"


def letter_from_dirname(name: str) -> str:
    """Inverse of :func:`letter_dirname`."""
    match = _CODEPOINT.match(name)
    return chr(int(match.group(1), 16)) if match else name
