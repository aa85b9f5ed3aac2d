"""The quote PDF: Chinese text extracted back with pypdf, totals, labels in both languages, page breaks."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from pypdf import PdfReader

from guanxi.catalog.models import Product
from guanxi.quotes import pdf, services
from guanxi.quotes.models import Quote
from guanxi.users.models import User


def document(quote: Quote) -> Quote:
    return Quote.objects.for_document(clear=True).get(pk=quote.pk).mark_clear(True)


def text_of(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def keep(name: str, data: bytes) -> None:
    """GUANXI_KEEP_PDF=dir writes the PDFs there, to render and look at them."""
    where = os.environ.get("GUANXI_KEEP_PDF")
    if where:
        Path(where, name).write_bytes(data)


def test_the_chinese_pdf_carries_the_customer_products_and_totals(draft: Quote, settings: Any) -> None:
    settings.GUANXI_COMPANY_NAME = "广州美家建材有限公司"
    quote = document(draft)
    with translation.override("zh-hans"), CaptureQueriesContext(connection) as queries:
        data = pdf.quote_pdf(quote)
    keep("quote-zh.pdf", data)
    assert len(queries) == 0  # everything was loaded before
    assert data.startswith(b"%PDF")
    text, pages = text_of(data)
    assert pages == 1
    for expected in [
        "广州美家建材有限公司",
        "深圳市鹏程装饰工程有限公司",
        "王建国",
        "139 1234 5678",
        "广东省深圳市南山区科技园路1号",
        "抛釉瓷砖 800×800",
        "立邦净味乳胶漆 18L",
        "TILE-800",
        draft.number,
        "¥5,221.20",
        "¥8,209.20",
        "¥944.42",
        "¥7,264.78",
        "人民币大写：捌仟贰佰零玖元贰角",
        "预付30%",
    ]:
        assert expected in text, expected


def test_the_chinese_pdf_is_titled_in_chinese(draft: Quote) -> None:
    with translation.override("zh-hans"):
        text, _pages = text_of(pdf.quote_pdf(document(draft)))
    assert "报价单" in text
    assert "含增值税" in text


def test_the_english_pdf_has_english_labels(draft: Quote) -> None:
    with translation.override("en"):
        text, _pages = text_of(pdf.quote_pdf(document(draft)))
    assert "Quotation" in text and "Valid until" in text and "Total (VAT included)" in text
    assert "include VAT" in text
    assert "深圳市鹏程装饰工程有限公司" in text  # the data stays as entered
    assert "捌仟" not in text  # capitals are a Chinese convention


def test_a_masked_reader_gets_a_masked_pdf(draft: Quote) -> None:
    quote = Quote.objects.for_document(clear=False).get(pk=draft.pk).mark_clear(False)
    text, _pages = text_of(pdf.quote_pdf(quote))
    assert "139 1234 5678" not in text and "139****5678" in text
    assert "科技园路1号" not in text


def test_many_lines_break_across_pages_and_repeat_the_header(
    seller: User, draft: Quote, tile: Product
) -> None:
    for index in range(80):
        services.quote_line_add(actor=seller, quote=draft, product=tile, quantity=str(index + 1))
    with translation.override("en"):
        data = pdf.quote_pdf(document(draft))
    keep("quote-long.pdf", data)
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages == 3
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert "Unit price" in text  # the table's head on every page
        assert f"Page {number} of {pages}" in text
    last = reader.pages[-1].extract_text()
    assert "82" in last and "Total (VAT included)" in last and "¥156,601.20" in last
