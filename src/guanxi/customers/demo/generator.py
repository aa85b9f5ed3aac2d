"""Rows of realistic demo customers, made batch by batch with one seeded random generator.

Everything is drawn with `random` directly from fixed lists (Faker's zh_CN lists for names): calling Faker
per row is far too slow for a million customers. Rows are plain tuples in the column order of the tables
(see COLUMNS), with times, dates and JSON already written as text, so the loader can hand them to
SQLite's executemany or PostgreSQL's COPY as they are.
"""

from __future__ import annotations

import json
import random
import time
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from typing import Any

from faker.providers.person.zh_CN import Provider as ZhPerson

from guanxi.core.pinyin import name_pinyin
from guanxi.core.search import SearchParts, search_document
from guanxi.customers.demo.words import (
    BRAND_CHARS,
    CARS,
    CITIES,
    COMMUNITIES,
    EMAIL_DOMAINS,
    MOBILE_PREFIXES,
    ROADS,
    SITE_STAGES,
    STAGES,
    TRADES,
    TRUCKS,
    City,
)
from guanxi.customers.services.rows import CUSTOMER_COLUMNS

Row = tuple[Any, ...]

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers_customer": CUSTOMER_COLUMNS,
    "customers_customerphone": ("customer_id", "number", "label", "position"),
    "customers_customeremail": ("customer_id", "address", "position"),
    "customers_contact": (
        "customer_id",
        "name",
        "title",
        "phone",
        "email",
        "wechat_id",
        "is_primary",
        "notes",
        "created_at",
    ),
    "customers_asset": (
        "customer_id",
        "kind",
        "name",
        "plate",
        "vin",
        "model",
        "mileage_km",
        "address",
        "site_stage",
        "notes",
        "created_at",
    ),
    "customers_customer_tags": ("customer_id", "tag_id"),
    "customers_timelineentry": ("customer_id", "occurred_at", "kind", "actor_id", "data"),
}

YEAR = 365.25 * 24 * 3600
HISTORY_YEARS = 3
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_YEARS = "FGHJKLMNPRS"  # model years 2015–2025
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
WECHAT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
SURNAMES = list(ZhPerson.last_names)
SURNAME_CUM = list(accumulate(ZhPerson.last_names.values()))
GIVEN = {
    "male": list(ZhPerson.first_names_male),
    "female": list(ZhPerson.first_names_female),
}
GIVEN_SINGLE = {gender: [n for n in names if len(n) == 1] for gender, names in GIVEN.items()}
GIVEN_FIRST = {  # the first character of many two-character given names
    "male": list("子梓俊浩宇志建文明家嘉晓永国海天振思云鹏"),
    "female": list("子梓雨欣思佳晓梦诗雅紫婉美丽秀玉春慧静"),
}
MEMBER_SCRAMBLE = 7_919_315_617  # coprime with 10**10: a one-to-one map of serials to member numbers
MEMBER_PREFIX = {"fuel": "6", "building": "7", "auto": "8"}


def _weights(pairs: tuple[tuple[Any, float], ...]) -> tuple[list[Any], list[float]]:
    return [p[0] for p in pairs], list(accumulate(p[1] for p in pairs))


@dataclass
class Batch:
    """The rows of one batch of customers, by table."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: {table: [] for table in COLUMNS})

    def count(self, table: str) -> int:
        return len(self.rows[table])


@dataclass(frozen=True)
class Owner:
    user_id: int
    team_id: int | None
    weight: float


class Generator:
    """Makes the rows of customers with the ids given, of one vertical, reproducibly from `seed`."""

    def __init__(
        self,
        *,
        vertical: str,
        seed: int,
        owners: list[Owner],
        team_ids: list[int],
        tag_ids: list[int],
        now: float,
        total: int,
        postgres: bool,
        serial_base: int,
    ) -> None:
        self.trade = TRADES[vertical]
        self.vertical = vertical
        self.r = random.Random(seed)
        self.owners = owners
        self.owner_cum = list(accumulate(o.weight for o in owners))
        self.team_ids = team_ids
        self.tag_ids = tag_ids
        self.tag_cum = list(accumulate(1.0 / (i + 2) for i in range(len(tag_ids))))  # a few tags are common
        self.now = now
        self.start = now - HISTORY_YEARS * YEAR
        self.total = max(total, 1)
        # Member numbers scramble serial_base + 1, + 2, …: the highest customer id ever handed out before
        # this load, so no two loads give out the same number.
        self.serial_base = serial_base
        self.tz_suffix = "+00" if postgres else ""
        self.city_cum = list(accumulate(c.weight for c in CITIES))
        self.mobile, self.mobile_cum = _weights(MOBILE_PREFIXES)
        self.domains, self.domain_cum = _weights(EMAIL_DOMAINS)
        self.sources, self.source_cum = _weights(self.trade.sources)
        self.stages, self.stage_cum = _weights(STAGES)
        self.site_stages, self.site_stage_cum = _weights(SITE_STAGES)
        self.cars, self.car_cum = _weights(tuple((c, c[1]) for c in CARS))
        self.trucks, self.truck_cum = _weights(tuple((t, t[1]) for t in TRUCKS))
        self.today = date.fromtimestamp(now)

    # -- small pieces ------------------------------------------------------------------------------
    def _time(self, ts: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + self.tz_suffix

    def _pick(self, items: list[Any], cum: list[float]) -> Any:
        return self.r.choices(items, cum_weights=cum)[0]

    def person_name(self) -> tuple[str, str]:
        r = self.r
        gender = "male" if r.random() < 0.5 else "female"
        surname = r.choices(SURNAMES, cum_weights=SURNAME_CUM)[0]
        roll = r.random()
        if roll < 0.45:
            given = r.choice(GIVEN[gender])
        elif roll < 0.8:
            given = r.choice(GIVEN_FIRST[gender]) + r.choice(GIVEN_SINGLE[gender])
        else:
            given = "".join(r.sample(GIVEN_SINGLE[gender], 2))
        return surname + given, gender

    def mobile_number(self) -> str:
        return f"+86{self._pick(self.mobile, self.mobile_cum)}{self.r.randrange(10**8):08d}"

    def landline(self, city: City) -> str:
        rest = city.local_digits - 1
        return f"+86{city.area_code}{self.r.randint(2, 8)}{self.r.randrange(10**rest):0{rest}d}"

    def wechat_id(self, full: str, initials: str, year: int) -> str:
        r = self.r
        roll = r.random()
        if roll < 0.35:
            return f"{full}{r.randint(1, 9999)}"
        if roll < 0.7:
            return "wxid_" + "".join(r.choices(WECHAT_CHARS, k=14))
        return (
            f"{initials or 'wx'}_{year}" if r.random() < 0.5 else f"{initials or 'wx'}{r.randint(100, 99999)}"
        )

    def email(self, full: str, initials: str, year: int) -> str:
        r = self.r
        domain = self._pick(self.domains, self.domain_cum)
        if domain == "qq.com" and r.random() < 0.6:
            return f"{r.randint(10000, 2999999999)}@qq.com"
        local = full if r.random() < 0.6 else f"{initials}{year}"
        if r.random() < 0.5:
            local += str(r.randint(1, 999))
        return f"{local}@{domain}"

    def street(self, company: bool) -> str:
        r = self.r
        base = f"{r.choice(ROADS)}{r.randint(1, 999)}号"
        if company:
            return (
                base
                if r.random() < 0.5
                else f"{base}{r.choice(BRAND_CHARS)}{r.choice(BRAND_CHARS)}大厦{r.randint(2, 30)}楼"
            )
        if r.random() < 0.6:
            return f"{base}{r.choice(COMMUNITIES)}{r.randint(1, 30)}栋{r.randint(1, 33)}{r.randint(1, 4):02d}"
        return base

    def plate(self, city: City, new_energy: str) -> str:
        r = self.r
        prefix = r.choice(city.plates)
        if new_energy:
            return f"{prefix}{new_energy}{r.randrange(10**5):05d}"
        chars = [str(r.randrange(10)) for _ in range(5)]
        letters = 0 if r.random() < 0.5 else (1 if r.random() < 0.7 else 2)
        for position in r.sample(range(5), letters):
            chars[position] = r.choice(PLATE_LETTERS)
        return prefix + "".join(chars)

    def vin(self, wmi: str) -> str:
        r = self.r
        body = wmi + "".join(r.choices(VIN_CHARS, k=5)) + "0" + r.choice(VIN_YEARS) + r.choice(VIN_CHARS)
        body += f"{r.randrange(10**6):06d}"
        check = sum(VIN_VALUES[ch] * w for ch, w in zip(body, VIN_WEIGHTS, strict=True)) % 11
        return body[:8] + ("X" if check == 10 else str(check)) + body[9:]

    # -- one customer ------------------------------------------------------------------------------
    def customer(self, customer_id: int, index: int, batch: Batch) -> None:
        """Rows of the `index`th customer of the load; `customer_id` is its place in the batch."""
        r, trade = self.r, self.trade
        rows = batch.rows
        company = r.random() < trade.company_share
        city: City = r.choices(CITIES, cum_weights=self.city_cum)[0]
        created = self.start + (index + r.random()) / self.total * (self.now - self.start - 3600)
        created_at = self._time(created)
        updated_at = (
            created_at if r.random() < 0.5 else self._time(created + r.random() * (self.now - created))
        )
        if self.owners and r.random() > 0.03:
            owner = self.owners[self._bisect_owner()]
            owner_id, team_id = owner.user_id, owner.team_id
        else:
            owner_id, team_id = (
                None,
                (r.choice(self.team_ids) if self.team_ids and r.random() < 0.5 else None),
            )

        if company:
            brand = "".join(r.sample(BRAND_CHARS, 2))
            name = f"{city.name.removesuffix('市')}{brand}{r.choice(trade.company_suffixes)}"
            gender, birthday = "", None
            full, initials = name_pinyin(brand, person=False)
            year = r.randint(1995, 2022)
        else:
            name, gender = self.person_name()
            if r.random() < 0.05:
                gender = ""
            age_days = r.uniform(18, 75) * 365.25
            birthday = date.fromordinal(self.today.toordinal() - int(age_days))
            full, initials = name_pinyin(name)
            year = birthday.year
        parts = SearchParts(names=[(name, not company)])

        # phones
        phones: list[tuple[str, str]] = []
        roll = r.random()
        if company:
            phones.append((self.landline(city), "座机"))
            if roll < 0.4:
                phones.append((self.mobile_number(), "手机"))
        elif roll < 0.85:
            phones.append((self.mobile_number(), "手机"))
        elif roll < 0.95:
            phones.append((self.mobile_number(), "手机"))
            phones.append(
                (self.mobile_number(), "手机") if r.random() < 0.5 else (self.landline(city), "座机")
            )
        elif roll < 0.98:
            phones.append((self.landline(city), "座机"))
        if len(phones) == 2 and phones[0][0] == phones[1][0]:
            phones.pop()
        for position, (number, label) in enumerate(phones):
            rows["customers_customerphone"].append((customer_id, number, label, position))
            parts.phones.append(number)

        # email, WeChat, member number, codes of other systems
        if r.random() < (0.5 if company else 0.4):
            if company:
                domain = r.choice((".com", ".com.cn", ".cn"))
                address = f"{r.choice(('info', 'sales', 'service', 'office'))}@{full}{domain}"
            else:
                address = self.email(full, initials, year)
            rows["customers_customeremail"].append((customer_id, address, 0))
            parts.emails.append(address)
        wechat = self.wechat_id(full, initials, year) if r.random() < (0.3 if company else 0.5) else ""
        member_no = None
        if r.random() < 0.6:
            serial = self.serial_base + index + 1
            member_no = MEMBER_PREFIX[self.vertical] + f"{serial * MEMBER_SCRAMBLE % 10**10:010d}"
        external: dict[str, str] = {}
        if r.random() < trade.external_share:
            external[trade.external_key] = self._external_code()
        parts.codes = [c for c in (member_no or "", wechat, *external.values()) if c]

        # assets, then contacts (the order customer_search_parts reads them in)
        self._assets(customer_id, city, company, created_at, rows["customers_asset"], parts)
        if company:
            self._contacts(customer_id, full, created_at, rows["customers_contact"], parts)

        district = r.choice(city.districts)
        text, keys = search_document(parts)
        rows["customers_customer"].append(
            (
                customer_id, "company" if company else "person", name, gender,
                birthday.isoformat() if birthday else None, wechat, member_no, json.dumps(external),
                city.province, city.name, district, self.street(company),
                self._pick(self.sources, self.source_cum), self._pick(self.stages, self.stage_cum), "", "{}",
                owner_id, team_id, owner_id, created_at, updated_at, text, keys,
            )
        )  # fmt: skip

        # tags and timeline
        count = r.choices((0, 1, 2, 3), cum_weights=(35, 70, 90, 100))[0] if self.tag_ids else 0
        for tag_id in {r.choices(self.tag_ids, cum_weights=self.tag_cum)[0] for _ in range(count)}:
            rows["customers_customer_tags"].append((customer_id, tag_id))
        timeline = rows["customers_timelineentry"]
        timeline.append((customer_id, created_at, "customer.created", owner_id, "{}"))
        notes = r.choices((0, 1, 2), cum_weights=(55, 90, 100))[0]
        for when in sorted(created + r.random() * (self.now - created) for _ in range(notes)):
            body = json.dumps({"body": r.choice(trade.notes)})
            timeline.append((customer_id, self._time(when), "note", owner_id, body))

    def _bisect_owner(self) -> int:
        return bisect(self.owner_cum, self.r.random() * self.owner_cum[-1])

    def _external_code(self) -> str:
        r = self.r
        if self.vertical == "fuel":
            return f"9100{r.randrange(10**12):012d}"
        if self.vertical == "auto":
            return f"DMS{r.randrange(10**8):08d}"
        return f"KH{r.randrange(10**7):07d}"

    def _assets(
        self, customer_id: int, city: City, company: bool, created_at: str, out: list[Row], parts: SearchParts
    ) -> None:
        r = self.r
        if self.vertical == "building":
            count = r.randint(2, 5) if company else r.choices((0, 1, 2), cum_weights=(5, 90, 100))[0]
            for _ in range(count):
                community = r.choice(COMMUNITIES)
                if company:
                    name = f"{community}{r.randint(1, 5)}期{r.randint(1, 30)}栋公区装饰工程"
                else:
                    name = f"{community}{r.randint(1, 30)}栋{r.randint(1, 33)}{r.randint(1, 4):02d}装修"
                address = (
                    f"{city.province}{city.name}{r.choice(city.districts)}{r.choice(ROADS)}"
                    f"{r.randint(1, 999)}号{community}"
                )
                stage = self._pick(self.site_stages, self.site_stage_cum)
                out.append((customer_id, "site", name, "", "", "", None, address, stage, "", created_at))
                parts.plates.append("")
                parts.codes.append("")
            return
        if company:
            count = r.randint(3, 10) if self.vertical == "fuel" else r.randint(2, 6)
        else:
            count = r.choices((0, 1, 2), cum_weights=(5, 85, 100))[0]
        for _ in range(count):
            truck = self.vertical == "fuel" and (company or r.random() < 0.12)
            model, _share, wmi, new_energy = (
                self._pick(self.trucks, self.truck_cum) if truck else self._pick(self.cars, self.car_cum)
            )
            plate, vin = self.plate(city, new_energy), self.vin(wmi)
            mileage = r.randint(20_000, 900_000) if truck else r.randint(300, 220_000)
            out.append((customer_id, "vehicle", "", plate, vin, model, mileage, "", "", "", created_at))
            parts.plates.append(plate)
            parts.codes.append(vin)

    def _contacts(
        self, customer_id: int, company_pinyin: str, created_at: str, out: list[Row], parts: SearchParts
    ) -> None:
        r = self.r
        for position in range(r.choices((1, 2, 3), cum_weights=(50, 85, 100))[0]):
            name, _gender = self.person_name()
            full, initials = name_pinyin(name)
            phone = self.mobile_number()
            email = f"{full}@{company_pinyin}.com" if r.random() < 0.5 else ""
            wechat = self.wechat_id(full, initials, r.randint(1965, 2000)) if r.random() < 0.5 else ""
            title = r.choice(self.trade.contact_titles)
            out.append((customer_id, name, title, phone, email, wechat, position == 0, "", created_at))
            parts.names.append((name, True))
            parts.phones.append(phone)
            if email:
                parts.emails.append(email)

    # -- one batch ---------------------------------------------------------------------------------
    def batch(self, count: int, first_index: int) -> Batch:
        """Rows of `count` customers; their customer ids are 0…count-1 until the loader maps them."""
        batch = Batch()
        for offset in range(count):
            self.customer(offset, first_index + offset, batch)
        return batch
