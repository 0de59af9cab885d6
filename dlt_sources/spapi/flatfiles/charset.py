"""A document's charset: the codec for the label the download declared, and transcoding to UTF-8.

The charset comes from the caller (the HTTP response), UTF-8 by default, never a hard-coded latin-1.
Labels of latin-1/ASCII are decoded as windows-1252, as browsers do (WHATWG Encoding Standard). Other
charsets are re-encoded to UTF-8 on the fly, so pyarrow only ever reads UTF-8.
"""

from __future__ import annotations

import codecs
import io
from typing import Any, BinaryIO

_WHATWG_LATIN1 = {"latin_1", "iso8859_1", "ascii", "cp1252"}


def _c1_fallback(error: UnicodeError) -> tuple[str, int]:
    """windows-1252 leaves five bytes undefined; WHATWG (and latin-1) map them to U+0080..U+009F."""
    assert isinstance(error, UnicodeDecodeError)
    return "".join(chr(b) for b in error.object[error.start:error.end]), error.end


codecs.register_error("spapi-c1", _c1_fallback)


def codec_for(charset: str | None) -> tuple[str, str]:
    """(Python codec, error handler) for a declared charset; UTF-8 when none is declared."""
    name = codecs.lookup((charset or "utf-8").strip().strip('"')).name.replace("-", "_")
    if name in _WHATWG_LATIN1:
        return "cp1252", "spapi-c1"
    if name in ("utf_8", "utf_8_sig"):
        return "utf_8", "strict"
    return name, "replace"  # U+FFFD marks undecodable bytes; such rows are quarantined


class Utf8Transcoder(io.RawIOBase):
    """A binary stream re-encoded to UTF-8 on the fly, so pyarrow only ever sees UTF-8."""

    def __init__(self, raw: BinaryIO, codec: str, errors: str, chunk: int = 1 << 20) -> None:
        self._raw, self._chunk = raw, chunk
        self._decoder = codecs.getincrementaldecoder(codec)(errors)
        self._buffer, self._eof = b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        view = memoryview(target).cast("B")
        while not self._buffer and not self._eof:
            data = self._raw.read(self._chunk)
            self._eof = not data
            self._buffer = self._decoder.decode(data or b"", final=self._eof).encode("utf-8")
        n = min(len(view), len(self._buffer))
        view[:n], self._buffer = self._buffer[:n], self._buffer[n:]
        return n
