"""Settlement files on disk (downloaded from Seller Central): which files a set of paths names, and how each
is opened, identified and decoded.

A path is a settlement file (plain, `.gz` or `.zip`, where every member of the archive is a file) or a
folder, meaning every file in it (hidden files left out, no sub-folders). A file is identified by the
SHA-256 of its content (decompressed), so the same file imported twice, under any name, is one document.

Seller Central downloads declare no charset. Amazon writes UTF-8, Cp1252 (NA, EU) or Shift_JIS (Amazon.co.jp)
(see flatfiles/charset.py): content that is valid UTF-8 is read as UTF-8, else as Shift_JIS for
Amazon.co.jp and windows-1252 for every other marketplace; `charset=` overrides.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dlt_sources.spapi.locales import MARKETPLACE_IDS_BY_CODE

JAPAN = MARKETPLACE_IDS_BY_CODE["JP"]
_CHUNK = 1 << 20


class SettlementFileError(ValueError):
    """A path that names no readable file (missing, an empty folder, a broken archive)."""


@dataclass(frozen=True)
class SettlementFile:
    """One file to import: `name` as the user knows it (`statements.zip:2024-11.txt` for an archive member)."""

    name: str
    open: Callable[[], AbstractContextManager[BinaryIO]]
    path: Path  # the file on disk it is (or is a member of)

    def identify(self) -> tuple[str, int, bool]:
        """(SHA-256 of the content, its size in bytes, whether it is valid UTF-8), in one streaming pass."""
        digest, size = hashlib.sha256(), 0
        utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        valid = True
        with self.open() as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if valid:
                    try:
                        utf8.decode(chunk)
                    except UnicodeDecodeError:
                        valid = False
        if valid:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
        return digest.hexdigest(), size, valid


def charset_for(valid_utf8: bool, marketplace_id: str | None) -> str:
    """The charset of an undeclared download (see the module docstring)."""
    if valid_utf8:
        return "utf-8"
    return "cp932" if marketplace_id == JAPAN else "windows-1252"


def settlement_files(paths: list[Path]) -> list[SettlementFile]:
    """Every file the paths name, in the order given (a folder's files by name); an error for a path that
    names nothing, before anything is imported."""
    files: list[SettlementFile] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not inside:
                raise SettlementFileError(f"{path}: the folder holds no files")
            for file in inside:
                files.extend(_files_of(file))
        elif path.is_file():
            files.extend(_files_of(path))
        else:
            raise SettlementFileError(f"{path}: no such file or folder")
    return files


def _files_of(path: Path) -> list[SettlementFile]:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = [m.filename for m in archive.infolist() if not m.is_dir()]
        except zipfile.BadZipFile as error:
            raise SettlementFileError(f"{path}: not a readable zip archive ({error})") from None
        if not members:
            raise SettlementFileError(f"{path}: the archive holds no files")
        return [SettlementFile(f"{path}:{member}", _zip_member(path, member), path) for member in members]
    if path.suffix.lower() == ".gz":
        return [SettlementFile(str(path), lambda: gzip.open(path, "rb"), path)]
    return [SettlementFile(str(path), lambda: open(path, "rb"), path)]


def _zip_member(path: Path, member: str) -> Callable[[], AbstractContextManager[BinaryIO]]:
    @contextmanager
    def opened() -> Iterator[BinaryIO]:
        with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
            yield stream  # type: ignore[misc]

    return opened
