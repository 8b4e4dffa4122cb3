"""Finding a label row's audio under the user's audio root, whatever container it was saved in.

Users download YouTube audio as webm/m4a/mp3/wav and may convert it; so a file named in a
label file (``<id>.wav``, an ATEPP ``.../11.mp3``) is looked for at that relative path first,
then with the same stem and any supported extension at that place, then by stem anywhere
under the root (people sort files into folders by level).
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".webm", ".aac", ".mp4")


class AudioIndex:
    """One walk of the root; lookups by relative path or by file stem."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.by_stem: dict[str, list[Path]] = {}
        if self.root.is_dir():
            for path in sorted(self.root.rglob("*")):
                if path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file():
                    self.by_stem.setdefault(path.stem, []).append(path)

    def find(self, relative: str | None = None, stem: str | None = None) -> Path | None:
        """The audio for a relative path (any extension accepted) or a bare stem; None if absent."""
        if relative:
            exact = self.root / relative
            if exact.is_file():
                return exact
            for ext in AUDIO_EXTENSIONS:
                other = exact.with_suffix(ext)
                if other.is_file():
                    return other
            stem = stem or Path(relative).stem
            if "/" in relative.replace("\\", "/"):
                return None  # a structured path (ATEPP): its stem ("11") is not unique, never match it elsewhere
        if stem is None:
            return None
        candidates = self.by_stem.get(stem, [])
        if len(candidates) > 1:
            log.warning("several audio files named %s under %s; using %s", stem, self.root, candidates[0])
        return candidates[0] if candidates else None
