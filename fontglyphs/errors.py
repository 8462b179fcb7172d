"""Exception hierarchy: every user-facing failure is a FontGlyphsError with a one-line message.

The CLI turns these into a one-line error and a non-zero exit code; library callers can catch the
specific subclass. Messages name the file (or option) and the reason, and where possible the fix.
"""


class FontGlyphsError(Exception):
    """Base class of every error fontglyphs raises on purpose."""


class UsageError(FontGlyphsError):
    """A bad option value or combination (the CLI exits with code 2)."""


class FontLoadError(FontGlyphsError):
    """A font file that cannot be opened, parsed or rasterized."""


class MissingGlyphError(FontGlyphsError):
    """A requested character that a font does not cover."""


class DatasetError(FontGlyphsError):
    """A dataset folder, manifest or image that is missing, empty or malformed."""


class ExportFormatError(FontGlyphsError):
    """An export file that is unknown, unreadable or does not match its manifest."""
