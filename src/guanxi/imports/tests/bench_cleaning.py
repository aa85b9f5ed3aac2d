"""How many rows a second the customers import cleans (not a test: run it by hand).

    .venv/bin/python -m guanxi.imports.tests.bench_cleaning [rows]

Rows are generated as a messy POS export writes them: phones in several spellings, dates in several
forms, tags with mixed separators, one bad value in fifty.
"""

from __future__ import annotations

import os
import random
import sys
import time

PREFIXES = [
    *map(str, range(130, 140)),
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "177",
    *map(str, range(180, 190)),
    "199",
]


# The columns of the generated rows, as a shop's export names them.
HEADER = ["姓名", "手机", "邮箱", "性别", "生日", "城市", "地址", "标签", "来源", "阶段", "备注", "车牌号"]


def generate(count: int, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    surnames, given = (
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林欧阳",
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚",
    )
    cities = ["广州", "深圳", "佛山", "东莞", "上海", "北京"]
    rows = []
    for i in range(count):
        mobile = f"{rng.choice(PREFIXES)}{rng.randrange(10**8):08d}"
        phone = rng.choice(
            [
                mobile,
                f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                f"+86 {mobile}",
                f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
            ]
        )
        if i % 10 == 0:
            phone += f"/{rng.choice(PREFIXES)}{rng.randrange(10**8):08d}"
        y, m, d = rng.randrange(1950, 2005), rng.randrange(1, 13), rng.randrange(1, 29)
        birthday = rng.choice(
            [f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{y}{m:02d}{d:02d}"]
        )
        if i % 50 == 0:
            birthday = f"{y}-02-30"
        rows.append(
            [
                rng.choice(surnames) + "".join(rng.choice(given) for _ in range(rng.randrange(1, 3))),
                phone,
                f"user{i}@example.com" if i % 3 == 0 else "",
                rng.choice(["男", "女", "先生", "女士", ""]),
                birthday,
                rng.choice(cities),
                f"天河路{rng.randrange(1, 999)}号",
                rng.choice(["VIP，老客户", "新客", "洗车;保养", ""]),
                rng.choice(["转介绍", "到店", "微信", ""]),
                rng.choice(["意向客户", "成交客户", "复购客户", ""]),
                rng.choice(["", "喜欢周末来", "只加95号"]),
                f"粤B{rng.randrange(10**5):05d}" if i % 2 else "",
            ]
        )
    return rows


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.config.settings")
    import django

    django.setup()
    from guanxi.imports.cleaning import RowCleaner
    from guanxi.imports.mapping import CUSTOMERS, mapping_guess

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    header = HEADER
    rows = generate(count)
    cleaner = RowCleaner(CUSTOMERS, header, mapping_guess(header, CUSTOMERS).mapping)
    clean = cleaner.clean
    started = time.perf_counter()
    rejected = 0
    for number, cells in enumerate(rows, 2):
        _values, errors = clean(number, cells)
        rejected += bool(errors)
    seconds = time.perf_counter() - started
    print(f"{count} rows cleaned in {seconds:.2f} s: {count / seconds:,.0f} rows/s ({rejected} rejected)")


if __name__ == "__main__":
    main()
