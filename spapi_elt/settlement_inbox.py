"""The settlement inbox: a folder where a finance person drops settlement files downloaded from Seller Central,
one sub-folder per seller account (named as the account in the accounts file, or by its seller id):

    inbox/
      eu-store/                 files waiting (plain, .gz, .zip)
        imported/               files imported (or already in the lakehouse), moved here
        rejected/               files that could not be read, each with <name>.error.txt saying why

The inbox is SPAPI_SETTLEMENT_INBOX, else `inbox/` beside the lakehouse (on a lake, beside its warehouse file:
`<lake>/inbox` for a file:// lake). Dagster's settlement_inbox_sensor watches it and launches the import
(spapi_elt/settlement_import.py) and the marts; the import is idempotent, so a file dropped twice loads once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dlt_sources.spapi.config import AccountsConfig
from spapi_elt.settlement_import import ImportedFile, import_settlements

IMPORTED, REJECTED = "imported", "rejected"


def inbox_path(lakehouse: Path, inbox: str | Path | None = None) -> Path:
    return Path(inbox or os.environ.get("SPAPI_SETTLEMENT_INBOX") or lakehouse.parent / "inbox")


@dataclass
class Waiting:
    """Files waiting in the inbox, by account name; folders naming no configured account, by folder."""

    files: dict[str, list[Path]] = field(default_factory=dict)
    unknown: list[Path] = field(default_factory=list)

    def fingerprint(self) -> str:
        """Changes whenever a waiting file is added, replaced or removed (a sensor's run key)."""
        return "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                        for paths in self.files.values() for p in sorted(paths))


def waiting(inbox: Path, accounts: AccountsConfig) -> Waiting:
    """What lies in the inbox's account folders (files only: imported/ and rejected/ are folders)."""
    by_folder = {a.name: a.name for a in accounts.accounts} | {a.seller_id: a.name for a in accounts.accounts}
    found = Waiting()
    if not inbox.is_dir():
        return found
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            continue
        if folder.name in by_folder:
            found.files.setdefault(by_folder[folder.name], []).extend(files)
        else:
            found.unknown.append(folder)
    return found


def import_inbox(inbox: Path, accounts: AccountsConfig, lakehouse: str | Path) -> list[ImportedFile]:
    """Import every waiting file into the lakehouse, then move it to imported/ or rejected/ (with the reason
    beside it). Waits for the lakehouse's lock (a lake: the account set's, lake_settlements.py): the inbox is
    Dagster's, which waits rather than fails."""
    results: list[ImportedFile] = []
    found = waiting(inbox, accounts)
    for account in accounts.accounts:
        files = found.files.get(account.name, [])
        if not files:
            continue
        imported = import_settlements(files, seller_id=account.seller_id, account=account.name,
                                      lakehouse=lakehouse, wait=True)
        errors: dict[Path, list[str]] = {}  # an archive is rejected for any member (the others are loaded)
        for file in imported.unreadable:
            errors.setdefault(file.path, []).append(f"{file.name}: {file.error}")
        for path in files:
            _move(path, REJECTED if path in errors else IMPORTED, "\n".join(errors.get(path, [])) or None)
        results.extend(imported.files)
    return results


def _move(path: Path, to: str, error: str | None) -> None:
    target = path.parent / to
    target.mkdir(exist_ok=True)
    path.replace(target / path.name)
    if error is not None:
        (target / f"{path.name}.error.txt").write_text(error + "\n", encoding="utf-8")
