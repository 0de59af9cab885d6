"""The declarative PII policy: an action per field path, applied to each row before a resource yields it.

Why here: whatever a resource yields is written by dlt to its working directory, then to the
lakehouse, and may show up in logs or Dagster storage. Protecting values before the yield means
plaintext PII exists only in the memory of the extracting process.

Actions (one per field path):
- `keep`: the value is not personal (a country code, a purchase-order number).
- `hash[:normaliser]`: a keyed hash of the normalised value (see `crypto`), for joins and de-duplication.
- `encrypt`: envelope encryption bound to the field path and seller id (see `crypto`).
- `drop`: removed (data minimisation).

The policy is an allow-list where it matters: under an `allow_only` path (e.g. `buyer`, `recipient`,
or the flat-file pattern `ship-*`) every field without a rule is dropped, so a PII field Amazon adds
tomorrow is dropped, not leaked. Lists are transparent: a rule on `a.b` applies to every element of a
list found at `a` or `a.b`. Values are always protected, even when they already look protected (a
buyer could type "e1:..." as their name).
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dlt_sources.spapi.pii.crypto import NORMALISERS, Protector

logger = logging.getLogger(__name__)


class Action(StrEnum):
    KEEP = "keep"
    HASH = "hash"
    ENCRYPT = "encrypt"
    DROP = "drop"


@dataclass(frozen=True)
class Rule:
    """What to do with one field; `normalise` names the normaliser used before hashing."""

    action: Action
    normalise: str = "text"

    def __post_init__(self) -> None:
        if self.normalise not in NORMALISERS:
            raise ValueError(f"unknown normaliser {self.normalise!r}; one of {sorted(NORMALISERS)}")

    @classmethod
    def parse(cls, spec: Rule | str) -> Rule:
        """'keep', 'drop', 'encrypt', 'hash' or 'hash:<normaliser>'."""
        if isinstance(spec, Rule):
            return spec
        action, _, normalise = spec.partition(":")
        if normalise and action != Action.HASH:
            raise ValueError(f"only hash takes a normaliser: {spec!r}")
        return cls(Action(action), normalise or "text")


# --- the policy --------------------------------------------------------------------------------------------

_DROP = object()


@dataclass
class _Node:
    path: str
    rule: Rule | None = None
    children: dict[str, _Node] = field(default_factory=dict)
    allow_only: bool = False
    globs: tuple[str, ...] = ()  # child names matching one of these are allow-only too

    def child(self, name: str) -> _Node:
        if name not in self.children:
            self.children[name] = _Node(f"{self.path}.{name}" if self.path else name)
        return self.children[name]

    def closed(self, name: str) -> bool:
        """Whether an unknown child `name` must be dropped."""
        if self.allow_only:
            return True
        key = column_key(name)
        return any(fnmatch.fnmatchcase(name, glob) or fnmatch.fnmatchcase(key, glob) for glob in self.globs)


@lru_cache(maxsize=4096)
def column_key(name: str) -> str:
    """How top-level names match: "Ship City", "ship-city" and "ship_city" are one column (flat files
    reach the policy under their header or under a snake_case name)."""
    return re.sub(r"[\s_\-]+", "-", name.strip().lower())


def _close(node: _Node) -> None:
    node.allow_only = True
    for child in node.children.values():
        _close(child)


class PiiPolicy:
    """Field path -> action for one resource, with allow-only subtrees. Immutable once built.

    `rules` maps dotted paths (Amazon's own field names, e.g. `recipient.deliveryAddress.city`, or a
    flat-file column such as `ship-city`) to a Rule or its spelling ('encrypt', 'hash:email', ...).
    Top-level names also match ignoring case, spaces, '-' and '_' (`ship_city` is `ship-city`); the
    associated data of an encrypted value always uses the path as written in the rule.
    `allow_only` lists paths (the last segment may be a glob, e.g. `ship-*`) under which every field
    without a rule is dropped.
    """

    def __init__(self, name: str, rules: Mapping[str, Rule | str], allow_only: Iterable[str] = ()) -> None:
        self.name = name
        self.rules = {path: Rule.parse(spec) for path, spec in rules.items()}
        self.allow_only = tuple(allow_only)
        self._root = _Node("")
        self._warned: set[str] = set()
        for path, rule in self.rules.items():
            node = self._root
            for part in path.split("."):
                if node.rule is not None:
                    raise ValueError(f"policy {name}: rule {path!r} lies under the rule on {node.path!r}")
                node = node.child(part)
            if node.children:
                raise ValueError(f"policy {name}: rule {path!r} has rules beneath it")
            node.rule = rule
        for pattern in self.allow_only:
            *parents, last = pattern.split(".")
            node = self._root
            for part in parents:
                node = node.child(part)
            if any(ch in last for ch in "*?["):
                node.globs += (last,)
                for name_, child in node.children.items():
                    if fnmatch.fnmatchcase(name_, last):
                        _close(child)
            else:
                _close(node.child(last))
        self._top = {column_key(name): child for name, child in self._root.children.items()}

    def __repr__(self) -> str:
        return f"PiiPolicy({self.name!r}, {len(self.rules)} rules, allow_only={list(self.allow_only)})"

    def paths(self, action: Action) -> list[str]:
        """The field paths with `action`, e.g. the encrypted ones a purge must shred."""
        return [path for path, rule in self.rules.items() if rule.action == action]

    def columns(self, action: Action | None = None) -> dict[str, str]:
        """dlt column name -> field path (nested dicts flatten to `a__b`; paths through a list name a
        column of dlt's child table, e.g. `order_items` rows for `orderItems.…`).

        For the lead's purge and decrypt tools: the lakehouse column `recipient__delivery_address__city`
        holds values encrypted for the field path `recipient.deliveryAddress.city`.
        """
        from dlt.common.normalizers.naming.snake_case import NamingConvention

        naming = NamingConvention()
        return {naming.make_path(*(naming.normalize_identifier(part) for part in path.split("."))): path
                for path, rule in self.rules.items() if action is None or rule.action == action}

    # rows ------------------------------------------------------------------------------------------------

    def apply(self, row: Mapping[str, Any], protector: Protector,
              seller_id: str | None = None) -> dict[str, Any]:
        """A new row with every ruled field protected and every unknown field under allow-only dropped."""
        return self._mapping(row, self._root, protector, seller_id)

    def _mapping(self, mapping: Mapping[str, Any], node: _Node, protector: Protector,
                 seller_id: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in mapping.items():
            child = node.children.get(name)
            if child is None and node is self._root:
                child = self._top.get(column_key(name))
            if child is None:
                if node.closed(name):
                    self._dropped(f"{node.path}.{name}" if node.path else name)
                else:
                    out[name] = value
                continue
            result = (self._ruled(value, child, protector, seller_id) if child.rule is not None
                      else self._walk(value, child, protector, seller_id))
            if result is not _DROP:
                out[name] = result
        return out

    def _walk(self, value: Any, node: _Node, protector: Protector, seller_id: str | None) -> Any:
        if isinstance(value, Mapping):
            return self._mapping(value, node, protector, seller_id)
        if isinstance(value, list):
            return [item for item in (self._walk(v, node, protector, seller_id) for v in value)
                    if item is not _DROP]
        if value is None:
            return None
        # A scalar where the policy expects fields: its shape is unknown, so it may be anything.
        self._dropped(node.path)
        return _DROP

    def _ruled(self, value: Any, node: _Node, protector: Protector, seller_id: str | None) -> Any:
        rule = node.rule
        assert rule is not None
        if rule.action == Action.KEEP:
            return value
        if rule.action == Action.DROP:
            return _DROP
        if isinstance(value, list):
            return [self._ruled(item, node, protector, seller_id) for item in value]
        if value is None or value == "":
            return value
        if rule.action == Action.HASH:
            return protector.hash(value, rule.normalise)
        return protector.encrypt(value, node.path, seller_id)

    def _dropped(self, path: str) -> None:
        # Field names only, once per path: enough to notice that Amazon added a field.
        if path not in self._warned:
            self._warned.add(path)
            logger.info("PII policy %s dropped field %s, which has no rule", self.name, path)

    # arrow tables ----------------------------------------------------------------------------------------

    def apply_table(self, table: pa.Table, protector: Protector, seller_id: str | None = None) -> pa.Table:
        """Column-wise for flat files: hashes once per distinct value, encrypts per value."""
        names: list[str] = []
        columns: list[pa.ChunkedArray | pa.Array] = []
        for name, column in zip(table.column_names, table.columns, strict=True):
            node = self._root.children.get(name) or self._top.get(column_key(name))
            if node is None:
                if self._root.closed(name):
                    self._dropped(name)
                    continue
                result: Any = column
            elif node.rule is None:
                result = self._nested_column(column, node, protector, seller_id)
            else:
                result = self._ruled_column(column, node, protector, seller_id)
            if result is not _DROP:
                names.append(name)
                columns.append(result)
        return pa.Table.from_arrays(columns, names=names)

    def _ruled_column(self, column: pa.ChunkedArray, node: _Node, protector: Protector,
                      seller_id: str | None) -> Any:
        rule = node.rule
        assert rule is not None
        if rule.action == Action.KEEP:
            return column
        if rule.action == Action.DROP:
            return _DROP
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            values = [self._ruled(v, node, protector, seller_id) for v in column.to_pylist()]
            return pa.array(values)
        if rule.action == Action.HASH:
            return _hash_column(column, protector, rule.normalise)
        return pa.array([v if v is None or v == "" else protector.encrypt(v, node.path, seller_id)
                         for v in column.to_pylist()], type=pa.string())

    def _nested_column(self, column: pa.ChunkedArray, node: _Node, protector: Protector,
                       seller_id: str | None) -> Any:
        values = [self._walk(v, node, protector, seller_id) for v in column.to_pylist()]
        return pa.array([None if v is _DROP else v for v in values])


def _hash_column(column: pa.ChunkedArray, protector: Protector, normalise: str) -> pa.Array:
    """Hash each distinct value once (a city column has a few hundred), then expand by index."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    hashed = pa.array([None if v is None else protector.hash(v, normalise)
                       for v in encoded.dictionary.to_pylist()], type=pa.string())
    return hashed.take(encoded.indices)
