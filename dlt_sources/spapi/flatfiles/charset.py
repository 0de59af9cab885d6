"""A document's charset: the codec for the label the download declared, and transcoding to UTF-8.

The charset comes from the caller (the HTTP response), UTF-8 by default, never a hard-coded latin-1.
Amazon sends flat files in UTF-8, Cp1252 (windows-1252) or, for Amazon.co.jp, Shift_JIS, some with a
UTF-8 byte order mark. As browsers do (WHATWG Encoding Standard): labels of latin-1/ASCII are decoded as
windows-1252; Shift_JIS labels as Microsoft's superset (cp932, "Windows-31J"), which Japanese Windows
text, and so Seller Central data, is written in; a UTF-8 BOM wins over the declared label (`sniff_bom`).
Other charsets are re-encoded to UTF-8 on the fly, so pyarrow only ever reads UTF-8.
"""

from __future__ import annotations

import codecs
import io
from typing import Any, BinaryIO

_WHATWG_LATIN1 = {"latin_1", "iso8859_1", "ascii", "cp1252"}
_SHIFT_JIS = {"shift_jis", "cp932", "windows_31j", "x_sjis", "sjis", "ms932", "ms_kanji", "csshiftjis"}
BOM = codecs.BOM_UTF8


def _c1_fallback(error: UnicodeError) -> tuple[str, int]:
    """windows-1252 leaves five bytes undefined; WHATWG (and latin-1) map them to U+0080..U+009F."""
    assert isinstance(error, UnicodeDecodeError)
    return "".join(chr(b) for b in error.object[error.start:error.end]), error.end


codecs.register_error("spapi-c1", _c1_fallback)


def codec_for(charset: str | None) -> tuple[str, str]:
    """(Python codec, error handler) for a declared charset; UTF-8 when none is declared."""
    label = (charset or "utf-8").strip().strip('"')
    if label.lower().replace("-", "_") in _SHIFT_JIS:
        return "cp932", "replace"
    name = codecs.lookup(label).name.replace("-", "_")
    if name in _SHIFT_JIS:
        return "cp932", "replace"
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


def sniff_bom(stream: BinaryIO) -> tuple[BinaryIO, bool]:
    """(the stream after a UTF-8 byte order mark, whether there was one); other bytes stay untouched.
    Peeks where the stream can (buffered and gzip streams), else reads the first bytes and re-chains them."""
    peek = getattr(stream, "peek", None)
    head = peek(len(BOM))[:len(BOM)] if peek is not None else b""
    if len(head) == len(BOM):
        if head == BOM:
            stream.read(len(BOM))
        return stream, head == BOM
    head = stream.read(len(BOM))
    if head == BOM:
        return stream, True
    return io.BufferedReader(_Prefixed(head, stream), 1 << 16), False  # type: ignore[return-value]


class _Prefixed(io.RawIOBase):
    """`prefix` followed by the rest of `raw`."""

    def __init__(self, prefix: bytes, raw: BinaryIO) -> None:
        self._prefix, self._raw = prefix, raw

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        view = memoryview(target).cast("B")
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n], self._prefix = self._prefix[:n], self._prefix[n:]
            return n
        data = self._raw.read(len(view))
        view[:len(data)] = data
        return len(data)
