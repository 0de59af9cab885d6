"""The charsets the sandbox labels documents with, and the Python codec that writes each.

Amazon names a document's charset in its download's Content-Type, with Java's names: `UTF-8`, `Cp1252`
(github.com/jrl84/amazon-sp-api/issues/144 and 215). Amazon.co.jp documents come in Shift_JIS, which on Amazon's
side is Microsoft's form (cp932, Java's Windows-31J): JP reports arrive as SHIFT_JIS
(github.com/amzn/selling-partner-api-models/issues/2293, a listings report; 545: GET_MERCHANT_LISTINGS_ALL_DATA),
decoding them takes cp932 (github.com/saleweaver/python-amazon-sp-api/pull/244) and strict shift_jis fails on
them (issue 552). Amazon's docs name no charset; their staff said in 2020 that every SP-API report is UTF-8
(github.com/amzn/selling-partner-api-docs/issues/21), which the reports above contradict.

What the sandbox assumes: the label `Shift_JIS` (not confirmed anywhere), on Amazon.co.jp settlement documents
and the listings report. JP order and FBA shipment reports moved to UTF-8 on 2021-11-01
(sanaikrd.sub.jp/mighty-faq/amazon/), and one JP seller's public code reads its V2 settlements as UTF-8
(apps/warehouse/fetch-amazon-settlements.js): a real JP document may well be UTF-8, which the product reads too.
"""

from __future__ import annotations

UTF8 = "UTF-8"
SHIFT_JIS = "Shift_JIS"
# Python's shift_jis codec is JIS X 0208 only: it cannot write `Ⅱ` or `①`, which Japanese Windows text (and so
# Amazon's) has. What Windows and Amazon call Shift_JIS is cp932.
_CODECS = {SHIFT_JIS: "cp932"}

# Marketplace code -> the charset of its settlement documents and listings reports, where not UTF-8.
MARKETPLACE_CHARSETS = {"JP": SHIFT_JIS}


def codec(charset: str) -> str:
    """The Python codec that writes a document labelled `charset`."""
    return _CODECS.get(charset, charset)


def content_type(charset: str) -> str:
    return f"text/plain; charset={charset}"
