"""Amazon's older "Flat File" settlement layout, loaded as the V2 lines it holds.

A row of the older layout (specs.LEGACY_SETTLEMENT) holds its amounts in one column per kind; V2 writes one
line per amount with amount-type, amount-description and amount. Each non-empty amount of a row becomes the
line V2 would have written for it, so both layouts load into the same settlement_lines table and marts:

    legacy column              amount-type / amount-description
    price-amount               ItemPrice / price-type (a MarketplaceFacilitator* type: ItemWithheldTax)
    item-related-fee-amount    ItemFees / item-related-fee-type (a MarketplaceFacilitator* type: ItemWithheldTax)
    promotion-amount           Promotion / promotion-type
    shipment-fee-amount        ShipmentFees / shipment-fee-type
    order-fee-amount           ItemFees / order-fee-type
    direct-payment-amount      DirectPayment / direct-payment-type
    misc-fee-amount            other-transaction / MiscFee
    other-fee-amount           other-transaction / other-fee-reason-description (none: OtherFee)
    other-amount               other-transaction / the row's transaction-type (some kinds: OTHER_AMOUNT_KINDS)

Every line keeps its row's transaction-type, except other-amount lines: account-level rows (reserves,
subscription, storage, reimbursements) name their kind in transaction-type, which V2 writes as an
other-transaction line described by that kind.

Sourced: the columns (specs.LEGACY_SETTLEMENT); V2's amount-types ItemPrice, ItemFees, Promotion, ItemWithheldTax
(MarketplaceFacilitatorTax-*) and ShipmentFees (the V2 amount-type list at https://www.iamyourfather.cn/53); the
shipment and order fee lists and DirectPayment types of SP-API financesV0 (ShipmentEvent, DirectPayment); kinds
such as `Subscription Fee` and `REVERSAL_REIMBURSEMENT` in transaction-type with their amount in other-amount,
and MarketplaceFacilitatorTax-* written in either price or fee columns (third-party importers written against
real files; not attributable to a repository we could name). Assumed (no file we could read shows them): the
labels DirectPayment, MiscFee and OtherFee, order fees as ItemFees, and how the older layout writes
advertising (OTHER_AMOUNT_KINDS).

Keys: a legacy row's lines are numbered `file line * 10 + k`, k the amount column's place in
specs.LEGACY_AMOUNTS (0-8): stable across reruns of the same document, unique per settlement, in file order.

Quantities: V2 writes an item's quantity-purchased on its principal line. The older layout writes it on the
row of the amount or on a row of its own with no amount, just before the item's first amount row (a real
Amazon.com file, fluxxu/mws-rs src/tdff.rs). A row's quantity goes to its first line; a quantity row's to the
first line of the row on the next file line, if that row is of the same order item (order-id, sku). A
quantity with no such row, and a row with neither an amount nor a quantity, are quarantined with the reason:
nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dlt_sources.spapi.flatfiles.parse import Converter, reassembled_line
from dlt_sources.spapi.flatfiles.reader import RawBatch
from dlt_sources.spapi.flatfiles.specs import LEGACY_AMOUNTS, LEGACY_SETTLEMENT, SETTLEMENT, snake_case

LINES_PER_ROW = 10  # line_number = file line * 10 + the amount column's place (nine amount columns)

# amount column -> (V2 amount-type, amount-description when the layout has no type column for it)
_LABELS: dict[str, tuple[str, str | None]] = {
    "price-amount": ("ItemPrice", None), "item-related-fee-amount": ("ItemFees", None),
    "promotion-amount": ("Promotion", None), "shipment-fee-amount": ("ShipmentFees", None),
    "order-fee-amount": ("ItemFees", None), "direct-payment-amount": ("DirectPayment", None),
    "misc-fee-amount": ("other-transaction", "MiscFee"), "other-fee-amount": ("other-transaction", "OtherFee"),
    "other-amount": ("other-transaction", None),
}
# Marketplace-facilitator tax is withheld tax in V2 (ItemWithheldTax/MarketplaceFacilitatorTax-Principal), in
# whichever of these columns the older layout wrote it.
_WITHHELD_PREFIX = "MarketplaceFacilitator"
_WITHHELD_IN = ("price-amount", "item-related-fee-amount")

# other-amount rows whose kind (transaction-type) V2 gives an amount-type of its own:
# kind -> (V2 transaction-type, amount-type, amount-description). Any other kind is
# (other-transaction, other-transaction, kind). The reimbursement reasons are those V2 files show under
# FBA Inventory Reimbursement; REVERSAL_REIMBURSEMENT is seen as a transaction-type in the older layout.
OTHER_AMOUNT_KINDS: dict[str, tuple[str, str, str]] = {
    "Cost of Advertising": ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount"),
    **{reason: ("other-transaction", "FBA Inventory Reimbursement", reason)
       for reason in ("WAREHOUSE_LOST", "WAREHOUSE_DAMAGE", "REVERSAL_REIMBURSEMENT")},
}

NO_AMOUNT = "no amount in any amount column"
UNPLACED_QUANTITY = "quantity-purchased on a row without an amount, not followed by a line of its order item"


def _v2_schema() -> list[pa.Field]:
    """The fields of a V2 settlement_lines table (parse.Converter._assemble), before any extra columns."""
    required = {"seller_id", "line_number", *(c.name for c in SETTLEMENT.columns if c.required)}
    fields = [("seller_id", pa.string()), ("marketplace_id", pa.string()), ("line_number", pa.int64()),
              *((c.name, c.arrow_type) for c in SETTLEMENT.columns if not c.summary), ("currency", pa.string())]
    return [pa.field(name, kind, nullable=name not in required) for name, kind in fields]


V2_FIELDS = _v2_schema()
_WIDE = {"seller_id", "marketplace_id", "line_number", "currency", *(c.name for c in LEGACY_SETTLEMENT.columns)}
_AMOUNTS = [(snake_case(amount), snake_case(kind) if kind else None, amount) for amount, kind in LEGACY_AMOUNTS]


@dataclass
class _Pending:
    """A quantity row at the end of a batch, waiting for the next batch's first row."""

    line: int
    raw: str
    quantity: int
    order_id: str | None
    sku: str | None


class LegacyLines:
    """A parse.Reshape: the older layout's good rows (typed, one per file row) to V2 lines."""

    def __init__(self) -> None:
        self.pending: _Pending | None = None

    def __call__(self, table: pa.Table, batch: RawBatch, converter: Converter) -> pa.Table:
        present = np.zeros((table.num_rows, len(_AMOUNTS)), bool)  # row x amount column: has an amount
        for k, (amount, _, _) in enumerate(_AMOUNTS):
            present[:, k] = _numpy(_column(table, amount).is_valid())
        has_amount = present.any(axis=1)
        quantity = self._placed_quantities(table, has_amount, batch, converter)
        first = np.where(has_amount, present.argmax(axis=1), -1)  # a row's quantity goes to its first line
        posted_date = _written_date(_column(table, "posted_date_text"), _column(table, "posted_at"))
        extras = [name for name in table.column_names if name not in _WIDE]
        pieces = []
        for k, (amount, kind, header) in enumerate(_AMOUNTS):
            rows = np.flatnonzero(present[:, k])
            if len(rows):
                pieces.append(self._lines(table.take(rows), k, amount, kind, header, quantity.take(rows),
                                          pa.array(first[rows] == k), posted_date.take(rows), extras))
        if not pieces:
            return pa.schema(V2_FIELDS + [pa.field(name, pa.string()) for name in extras]).empty_table()
        lines = pa.concat_tables(pieces)
        return lines.take(pc.sort_indices(lines["line_number"]))

    def _lines(self, rows: pa.Table, k: int, amount: str, kind: str | None, header: str, quantity: pa.Array,
               gets_quantity: pa.Array, posted_date: pa.Array, extras: list[str]) -> pa.Table:
        """One line per row of `rows` (the rows with an amount in column `amount`)."""
        amount_type, fallback = _LABELS[header]
        n = rows.num_rows
        rows = rows.combine_chunks()
        types = pa.repeat(pa.scalar(amount_type), n)
        descriptions = rows[kind] if kind else pa.repeat(pa.scalar(fallback, pa.string()), n)
        if fallback is not None and kind:
            descriptions = pc.fill_null(descriptions, fallback)
        transaction_types = rows["transaction_type"]
        if header in _WITHHELD_IN:
            withheld = pc.fill_null(pc.starts_with(descriptions, _WITHHELD_PREFIX), False)
            types = pc.if_else(withheld, pa.scalar("ItemWithheldTax"), types)
        if header == "other-amount":
            transaction_types, types, descriptions = _other_amount_labels(transaction_types)
        columns = {
            "seller_id": rows["seller_id"], "marketplace_id": rows["marketplace_id"],
            "line_number": pc.add(pc.multiply(rows["line_number"], LINES_PER_ROW), k),
            "settlement_id": rows["settlement_id"], "transaction_type": transaction_types,
            **{name: rows[name] for name in ("order_id", "merchant_order_id", "adjustment_id", "shipment_id",
                                              "marketplace_name")},
            "amount_type": types, "amount_description": descriptions, "amount": rows[amount],
            "fulfillment_id": rows["fulfillment_id"], "posted_date": posted_date, "posted_at": rows["posted_at"],
            **{name: rows[name] for name in ("order_item_code", "merchant_order_item_id",
                                              "merchant_adjustment_item_id", "sku")},
            "quantity_purchased": pc.if_else(gets_quantity, quantity, pa.scalar(None, pa.int64())),
            "promotion_id": rows["promotion_id"], "currency": rows["currency"],
        }
        fields = V2_FIELDS + [pa.field(name, pa.string()) for name in extras]
        arrays = [columns[f.name] if f.name in columns else rows[f.name] for f in fields]
        return pa.Table.from_arrays([_array(a).cast(f.type) for a, f in zip(arrays, fields, strict=True)],
                                    schema=pa.schema(fields))

    def _placed_quantities(self, table: pa.Table, has_amount: np.ndarray, batch: RawBatch,
                           converter: Converter) -> pa.Array:
        """Each row's quantity after quantity rows gave theirs to the next row; quarantines what has no place."""
        n = table.num_rows
        quantity = _column(table, "quantity_purchased")
        has_quantity = _numpy(quantity.is_valid())
        values = _numpy(pc.fill_null(quantity, 0)).copy()
        quantity_only = has_quantity & ~has_amount
        order_ids, skus = _column(table, "order_id"), _column(table, "sku")
        lines = _numpy(_column(table, "line_number"))
        receives = np.zeros(n, bool)  # the row takes the quantity of the quantity row on the line before it
        if n > 1:
            next_item = (np.diff(lines) == 1) & _equal(order_ids) & _equal(skus)
            receives[1:] = has_amount[1:] & ~has_quantity[1:] & quantity_only[:-1] & next_item
            values[1:] = np.where(receives[1:], values[:-1], values[1:])
        if self.pending is not None and n:
            p, self.pending = self.pending, None
            item = (int(lines[0]), order_ids[0].as_py(), skus[0].as_py())
            if has_amount[0] and not has_quantity[0] and item == (p.line + 1, p.order_id, p.sku):
                receives[0], values[0] = True, p.quantity
            else:  # the document went on without its item: the quantity has no line to go to
                converter.add(p.line, UNPLACED_QUANTITY, p.raw)

        def raw(row: int) -> str:
            return reassembled_line(batch, int(np.searchsorted(batch.lines, lines[row])), False)

        for row in np.flatnonzero(~has_amount & ~has_quantity):
            converter.add(int(lines[row]), NO_AMOUNT, raw(row))
        unplaced = quantity_only.copy()
        unplaced[:-1] &= ~receives[1:]
        if n and quantity_only[-1]:  # its item's row may open the next batch
            unplaced[-1] = False
            self.pending = _Pending(int(lines[-1]), raw(n - 1), int(values[-1]), order_ids[-1].as_py(),
                                    skus[-1].as_py())
        for row in np.flatnonzero(unplaced):
            converter.add(int(lines[row]), UNPLACED_QUANTITY, raw(row))
        return pa.array(values, pa.int64(), mask=~(has_amount & (has_quantity | receives)))

    def finish(self, converter: Converter) -> None:
        if self.pending is not None:
            converter.add(self.pending.line, UNPLACED_QUANTITY, self.pending.raw)
            self.pending = None


def _equal(values: pa.Array) -> np.ndarray:
    """Row i+1 equals row i (two empty values are equal): n-1 booleans."""
    after, before = values.slice(1), values.slice(0, len(values) - 1)
    equal = pc.fill_null(pc.equal(after, before), False)
    both_empty = pc.and_(after.is_null(), before.is_null())
    return _numpy(pc.or_(equal, both_empty))


def _written_date(text: pa.Array, instant: pa.Array) -> pa.Array:
    """V2's posted-date: the date as the value writes it (`2025-06-05` of `2025-06-05T22:07:18-07:00`), else
    the instant's UTC date."""
    written = pc.struct_field(pc.extract_regex(text, r"^\s*(?P<date>\d{4}-\d{2}-\d{2})"), "date")
    dates = pc.strptime(written, format="%Y-%m-%d", unit="s", error_is_null=True)
    return pc.coalesce(dates.cast(pa.date32()), instant.cast(pa.date32()))


def _column(table: pa.Table, name: str) -> pa.Array:
    return table[name].combine_chunks()


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _numpy(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)


def _other_amount_labels(kinds: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(transaction-type, amount-type, amount-description) of other-amount lines, from the rows' kinds."""
    known = pa.array(list(OTHER_AMOUNT_KINDS))
    found = pc.index_in(kinds, value_set=known)

    def label(i: int) -> pa.Array:
        return pc.take(pa.array([v[i] for v in OTHER_AMOUNT_KINDS.values()]), found)

    other = pa.scalar("other-transaction")
    return (pc.coalesce(label(0), other), pc.coalesce(label(1), other), pc.coalesce(label(2), kinds))
