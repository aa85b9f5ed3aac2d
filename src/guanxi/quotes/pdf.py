"""The quote as a printable PDF (A4), in the active language, with Chinese rendered by the CID font
STSong-Light: built into every PDF reader's Adobe-GB1 support, so no font file ships and the text stays
text (searchable, extractable).

The quote passed in must come from `Quote.objects.for_document(...)` (customer, contact, lines loaded):
building the document runs no query. Prices are tax-inclusive and the document says so.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from guanxi.catalog.money import money_text, quantity_text
from guanxi.quotes.models import Quote

# STSong-Light maps the GB character set: no U+2212 minus or U+00B7 middle dot, so plain "-" and spaces.
FONT = "STSong-Light"
INK = colors.HexColor("#1f2937")
MUTED = colors.HexColor("#6b7280")
ACCENT = colors.HexColor("#b91c1c")
RULE = colors.HexColor("#d1d5db")
SHADE = colors.HexColor("#f3f4f6")
MARGIN = 16 * mm

_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def company_name() -> str:
    return str(getattr(settings, "GUANXI_COMPANY_NAME", "") or _("Guanxi"))


def company_details() -> str:
    """One line under the company's name: address, phone, website (GUANXI_COMPANY_DETAILS)."""
    return str(getattr(settings, "GUANXI_COMPANY_DETAILS", "") or "")


def filename(quote: Quote) -> str:
    return f"{quote.number}-v{quote.version}.pdf"


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, textColor=INK, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=MUTED),
        "company": ParagraphStyle("company", parent=base, fontSize=15, leading=19),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=20, leading=24, alignment=TA_RIGHT, textColor=ACCENT
        ),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "cellr": ParagraphStyle("cellr", parent=base, fontSize=9, leading=12, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontSize=8.5, leading=11, textColor=colors.white),
        "headr": ParagraphStyle(
            "headr", parent=base, fontSize=8.5, leading=11, textColor=colors.white, alignment=TA_RIGHT
        ),
        "h2": ParagraphStyle("h2", parent=base, fontSize=10.5, leading=15, spaceBefore=6, textColor=ACCENT),
    }


# Characters outside the GB character set that STSong-Light would draw as an empty box.
PLAIN = str.maketrans({"²": "2", "³": "3", "−": "-", "·": "-", "•": "-", "™": "TM", "®": "(R)", "€": "EUR"})


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text).translate(PLAIN)).replace("\n", "<br/>"), style)


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")


def amount_in_words(amount: Decimal) -> str:
    """The amount in Chinese capital numerals, as cheques and invoices write it: 壹仟零伍元贰角整."""
    cents = int((abs(amount) * 100).to_integral_value())
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    words = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        need_zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                need_zero = bool(words)
                continue
            text = ""
            zero = need_zero or (bool(words) and group < 1000)
            for position in range(3, -1, -1):
                digit = group // 10**position % 10
                if digit:
                    if zero and (text or words):
                        text += "零"
                    text += DIGITS[digit] + UNITS[position]
                    zero = False
                elif text:
                    zero = True
            words += text + GROUPS[index]
            need_zero = group % 10 == 0
        words += "元"
    if not jiao and not fen:
        return ("负" if amount < 0 else "") + (words or "零元") + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += DIGITS[fen] + "分"
    return ("负" if amount < 0 else "") + words


class _PagedCanvas(Canvas):
    """Draws "page x of y" and the quote's reference at the foot of every page, once all are known."""

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._footer = footer

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.setFillColor(MUTED)
            self.setStrokeColor(RULE)
            self.line(MARGIN, 12 * mm, A4[0] - MARGIN, 12 * mm)
            self.drawString(MARGIN, 8 * mm, self._footer)
            page = _("Page %(page)d of %(pages)d") % {"page": self._pageNumber, "pages": total}
            self.drawRightString(A4[0] - MARGIN, 8 * mm, page)
            super().showPage()
        super().save()


def _contact_lines(quote: Quote) -> list[str]:
    customer = quote.customer
    lines = []
    contact = quote.contact
    if contact is not None:
        person = contact.name + (f"（{contact.title}）" if contact.title else "")
        lines.append(_("Attn: %(name)s") % {"name": person})
        phone, email = contact.display_phone, contact.display_email
    else:
        phones = list(customer.phones.all())
        emails = list(customer.emails.all())
        phone = phones[0].display if phones else ""
        email = emails[0].display if emails else ""
    if phone:
        lines.append(_("Phone: %(phone)s") % {"phone": phone})
    if email:
        lines.append(_("Email: %(email)s") % {"email": email})
    if customer.address:
        lines.append(customer.address)
    return lines


def _header(quote: Quote, s: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    company = [_p(company_name(), s["company"])]
    if company_details():
        company.append(_p(company_details(), s["small"]))
    top = Table(
        [[company, _p(_("Quotation"), s["title"])]],
        colWidths=[width * 0.6, width * 0.4],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    issued = timezone.localtime(quote.sent_at or quote.created_at).date()
    facts = [
        (_("Quote number"), quote.number),
        (_("Version"), str(quote.version)),
        (_("Date"), issued.isoformat()),
        (_("Valid until"), quote.valid_until.isoformat()),
    ]
    if quote.owner is not None:
        facts.append((_("Prepared by"), quote.owner.display_name))
    right = Table(
        [[_p(label, s["small"]), _p(value, s["base"])] for label, value in facts],
        colWidths=[24 * mm, width * 0.4 - 24 * mm],
        style=TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        ),
    )
    left = [_p(pgettext("addressee of a letter", "To"), s["small"]), _p(quote.customer.name, s["company"])]
    left += [_p(line, s["base"]) for line in _contact_lines(quote)]
    parties = Table(
        [[left, right]],
        colWidths=[width * 0.6, width * 0.4],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
            ]
        ),
    )
    flow: list[Flowable] = [top, parties, Spacer(1, 4 * mm)]
    if quote.title:
        flow += [_p(_("Subject: %(title)s") % {"title": quote.title}, s["base"]), Spacer(1, 2 * mm)]
    return flow


def _lines(quote: Quote, s: dict[str, ParagraphStyle], width: float) -> Table:
    head = [
        _p("#", s["head"]),
        _p(_("Product"), s["head"]),
        _p(_("SKU"), s["head"]),
        _p(_("Quantity"), s["headr"]),
        _p(_("Unit price"), s["headr"]),
        _p(_("Discount"), s["headr"]),
        _p(_("VAT rate"), s["headr"]),
        _p(_("Line total"), s["headr"]),
    ]
    rows: list[list[Any]] = [head]
    for number, line in enumerate(quote.lines.all(), start=1):
        quantity = quantity_text(line.quantity) + (f" {line.unit}" if line.unit else "")
        discount = (
            f"{_percent(line.discount_percent)}\n-{money_text(line.discount_amount)}"
            if line.discount_percent
            else "—"
        )
        rows.append(
            [
                _p(number, s["cell"]),
                _p(line.name, s["cell"]),
                _p(line.sku, s["cell"]),
                _p(quantity, s["cellr"]),
                _p(money_text(line.unit_price), s["cellr"]),
                _p(discount, s["cellr"]),
                _p(_percent(line.tax_rate), s["cellr"]),
                _p(money_text(line.total), s["cellr"]),
            ]
        )
    fractions = (0.05, 0.26, 0.14, 0.11, 0.12, 0.11, 0.08, 0.13)
    table = Table(rows, colWidths=[width * f for f in fractions], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), INK),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, SHADE]),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _totals(quote: Quote, s: dict[str, ParagraphStyle], width: float) -> Flowable:
    rows = [(_("Subtotal"), money_text(quote.subtotal))]
    if quote.discount_total:
        rows.append((_("Discount"), "-" + money_text(quote.discount_total)))
    rows.append((_("Total (VAT included)"), money_text(quote.grand_total)))
    rows.append((_("of which VAT"), money_text(quote.tax_total)))
    rows.append((_("Total excluding VAT"), money_text(quote.net_total)))
    data = [[_p(label, s["right"]), _p(value, s["right"])] for label, value in rows]
    grand = next(i for i, (label, _v) in enumerate(rows) if label == _("Total (VAT included)"))
    big = ParagraphStyle("big", parent=s["right"], fontSize=12, leading=16, textColor=ACCENT)
    data[grand] = [_p(rows[grand][0], big), _p(rows[grand][1], big)]
    table = Table(data, colWidths=[width * 0.25, width * 0.18], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, grand), (-1, grand), 0.8, INK),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    flow: list[Flowable] = [Spacer(1, 3 * mm), table]
    if (get_language() or "").lower().startswith("zh"):
        flow.append(_p(f"人民币大写：{amount_in_words(quote.grand_total)}", s["right"]))
    flow.append(Spacer(1, 2 * mm))
    flow.append(_p(_("All prices are in Chinese yuan (CNY) and include VAT."), s["small"]))
    return KeepTogether(flow)


def quote_pdf(quote: Quote) -> bytes:
    """The quote as PDF bytes, labels in the active language."""
    s = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=18 * mm,
        title=f"{_('Quotation')} {quote.reference}",
        author=company_name(),
        subject=quote.customer.name,
        creator="Guanxi",
    )
    width = A4[0] - 2 * MARGIN
    story: list[Flowable] = [*_header(quote, s, width), _lines(quote, s, width), _totals(quote, s, width)]
    if quote.notes:
        story += [_p(_("Notes"), s["h2"]), _p(quote.notes, s["base"])]
    if quote.terms:
        story += [_p(_("Terms"), s["h2"]), _p(quote.terms, s["base"])]
    footer = f"{company_name()}    {_('Quotation')} {quote.reference}"

    def make_canvas(*args: Any, **kwargs: Any) -> _PagedCanvas:
        return _PagedCanvas(*args, footer=footer, **kwargs)

    doc.build(story, canvasmaker=make_canvas)
    return buffer.getvalue()
