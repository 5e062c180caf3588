"""The languages of the catalogue's interface and names: Finnish, Swedish, English.

A text missing in the chosen language falls back along FALLBACK (every part of ketju that
picks a name in one language uses this order).
"""

from __future__ import annotations

LANGUAGES = ("fi", "sv", "en")
DEFAULT = "fi"
FALLBACK = {"fi": ("fi", "en", "sv"), "sv": ("sv", "fi", "en"), "en": ("en", "fi", "sv")}
