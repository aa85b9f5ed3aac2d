"""Recommendations: products bought together, and for each customer the products to offer next.

Pairs: two products on the same purchase order (completed or partially refunded, lines of any kind). For
the pair a → b: support = orders with both / orders with lines; confidence = orders with both / orders
with a; lift = confidence / (orders with b / orders with lines). A pair is kept when it meets the minimum
support setting and at least two orders hold it (one order is a coincidence).

A customer's recommendations are the active products they never bought, scored by the pairs of what they
did buy: the sum over their products q of confidence(q → p), for pairs with lift above 1 (bought
together more often than by chance), best first; the product q with the strongest pair is the reason.
Places left over go to the most bought products of the customer's RFM segment (the share of its
customers who bought each).

The work is bounded by products², not customers: the database counts the pairs, customers' product sets
come as arrays, and customers who bought the same set of products in the same segment share one list,
worked out once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from django.db import connection
from numpy.typing import NDArray

from guanxi.analytics.models import ProductRecommendation
from guanxi.analytics.purchases import BATCH, PURCHASE_STATUSES, window_end
from guanxi.sales.models import Order, OrderLine

MIN_ORDERS_TOGETHER = 2
NEIGHBOURS = 20  # the strongest pairs kept per product when scoring


@dataclass(frozen=True)
class Pair:
    a: int
    b: int
    together: int
    support: float
    confidence: float
    lift: float


LINES, ORDERS = OrderLine._meta.db_table, Order._meta.db_table


def _purchases(until: date) -> tuple[str, list[Any]]:
    """The WHERE condition on the orders `o` that are purchases up to `until`, with its parameters."""
    end = connection.ops.adapt_datetimefield_value(window_end(until))
    return "o.status IN (%s, %s) AND o.ordered_at < %s", [*PURCHASE_STATUSES, end]


def product_pairs(*, until: date, min_support: float) -> tuple[list[Pair], dict[int, int], int]:
    """The pairs (both directions), each product's order count, and the number of orders with lines."""
    purchase, params = _purchases(until)
    lines = f"{LINES} l JOIN {ORDERS} o ON o.id = l.order_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.product_id, COUNT(DISTINCT l.order_id) FROM {lines} WHERE {purchase} "
            "GROUP BY l.product_id",
            params,
        )
        product_orders = {int(p): int(n) for p, n in cursor.fetchall()}
        cursor.execute(f"SELECT COUNT(DISTINCT l.order_id) FROM {lines} WHERE {purchase}", params)
        total = int(cursor.fetchone()[0])
        if not total:
            return [], product_orders, 0
        minimum = max(MIN_ORDERS_TOGETHER, int(np.ceil(min_support * total)))
        cursor.execute(
            f"""SELECT l.product_id, m.product_id, COUNT(DISTINCT l.order_id)
                FROM {lines} JOIN {LINES} m ON m.order_id = l.order_id AND m.product_id > l.product_id
                WHERE {purchase}
                GROUP BY l.product_id, m.product_id
                HAVING COUNT(DISTINCT l.order_id) >= %s""",
            [*params, minimum],
        )
        counted = cursor.fetchall()
    pairs = []
    for a, b, together in counted:
        a, b, together = int(a), int(b), int(together)
        support = together / total
        for x, y in ((a, b), (b, a)):
            confidence = together / product_orders[x]
            pairs.append(Pair(x, y, together, support, confidence, confidence * total / product_orders[y]))
    pairs.sort(key=lambda p: (p.a, -p.confidence, p.b))
    return pairs, product_orders, total


def customer_products(*, until: date) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(customer id, product id) of every product each customer bought, sorted by customer."""
    purchase, params = _purchases(until)
    chunks = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT o.customer_id, l.product_id "
            f"FROM {LINES} l JOIN {ORDERS} o ON o.id = l.order_id WHERE {purchase}",
            params,
        )
        while rows := cursor.fetchmany(BATCH):
            chunks.append(np.array(rows, dtype=np.int64).reshape(len(rows), 2))
    table = np.concatenate(chunks) if chunks else np.zeros((0, 2), dtype=np.int64)
    table = table[np.lexsort((table[:, 1], table[:, 0]))]
    return np.ascontiguousarray(table[:, 0]), np.ascontiguousarray(table[:, 1])


@dataclass
class Recommendations:
    """For each customer of the base (by index), rows of (product, rank, score, reason, because_of)."""

    customer_index: NDArray[np.int64]
    product: NDArray[np.int64]
    rank: NDArray[np.int64]
    score: NDArray[np.float64]
    together: NDArray[np.bool_]
    because_of: NDArray[np.int64]  # 0: none

    def __len__(self) -> int:
        return len(self.customer_index)


def _basket_keys(
    customers: NDArray[np.int64], bought_customer: NDArray[np.int64], bought_product: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.uint64]]:
    """Each bought row's customer index, and for each customer a key of the set of products bought.

    The key is the XOR of a random 64-bit number per product: equal sets give equal keys, and two
    different sets collide with a chance of about 2⁻⁶⁴ a pair.
    """
    index = np.searchsorted(customers, bought_customer)
    index = np.minimum(index, len(customers) - 1)
    known = customers[index] == bought_customer
    rng = np.random.default_rng(20050101)
    products = np.unique(bought_product)
    codes = rng.integers(1, 2**63, size=len(products), dtype=np.int64).astype(np.uint64)
    row_codes = codes[np.searchsorted(products, bought_product)]
    keys = np.zeros(len(customers), dtype=np.uint64)
    np.bitwise_xor.at(keys, index[known], row_codes[known])
    return np.where(known, index, -1), keys


def recommend(
    *,
    customers: NDArray[np.int64],
    segments: NDArray[np.int8],
    bought_customer: NDArray[np.int64],
    bought_product: NDArray[np.int64],
    pairs: list[Pair],
    active_products: set[int],
    per_customer: int,
) -> Recommendations:
    """The recommendations of every customer in `customers` (sorted ids, with their segment indexes)."""
    empty = Recommendations(
        *(np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.int64, np.float64, bool, np.int64))
    )
    if per_customer <= 0 or not len(customers) or not active_products:
        return empty
    row_index, keys = _basket_keys(customers, bought_customer, bought_product)
    known = row_index >= 0
    row_index, row_product = row_index[known], bought_product[known]

    neighbours: dict[int, list[Pair]] = defaultdict(list)
    for pair in pairs:
        if pair.lift > 1 and pair.b in active_products and len(neighbours[pair.a]) < NEIGHBOURS:
            neighbours[pair.a].append(pair)

    # The most bought products of each segment: customers who bought each, as a share of the segment.
    product_ids = np.array(sorted(active_products), dtype=np.int64)
    active_rows = np.isin(row_product, product_ids)
    column = np.searchsorted(product_ids, row_product[active_rows])
    counts = np.zeros((8, len(product_ids)), dtype=np.int64)
    np.add.at(counts, (segments[row_index[active_rows]].astype(np.int64), column), 1)
    sizes = np.bincount(segments.astype(np.int64), minlength=8)
    popular: list[list[tuple[int, float]]] = []
    for segment in range(8):
        order = np.lexsort((product_ids, -counts[segment]))
        popular.append(
            [
                (int(product_ids[i]), float(counts[segment, i] / sizes[segment]))
                for i in order[: per_customer + 50]
                if counts[segment, i] > 0
            ]
        )

    # One list per (product set, segment): customers sharing both share it.
    combined = keys ^ (segments.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    groups, first, group_of = np.unique(combined, return_index=True, return_inverse=True)
    starts = np.searchsorted(row_index, first)
    ends = np.searchsorted(row_index, first, side="right")
    lists: list[list[tuple[int, float, bool, int]]] = []
    for g in range(len(groups)):
        bought = set(row_product[starts[g] : ends[g]].tolist())
        lists.append(_for_set(bought, neighbours, popular[int(segments[first[g]])], per_customer))

    lengths = np.array([len(items) for items in lists], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    flat_product = np.array([p for items in lists for p, _s, _t, _b in items], dtype=np.int64)
    flat_score = np.array([s for items in lists for _p, s, _t, _b in items], dtype=np.float64)
    flat_together = np.array([t for items in lists for _p, _s, t, _b in items], dtype=bool)
    flat_because = np.array([b for items in lists for _p, _s, _t, b in items], dtype=np.int64)

    per = lengths[group_of]
    customer_index = np.repeat(np.arange(len(customers), dtype=np.int64), per)
    within = np.arange(int(per.sum()), dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
    source = np.repeat(offsets[:-1][group_of], per) + within
    return Recommendations(
        customer_index=customer_index,
        product=flat_product[source],
        rank=within + 1,
        score=flat_score[source],
        together=flat_together[source],
        because_of=flat_because[source],
    )


def _for_set(
    bought: set[int],
    neighbours: dict[int, list[Pair]],
    popular: list[tuple[int, float]],
    per_customer: int,
) -> list[tuple[int, float, bool, int]]:
    """(product, score, bought together?, because of) for one product set, best first."""
    scores: dict[int, float] = defaultdict(float)
    strongest: dict[int, tuple[float, int]] = {}
    for q in sorted(bought):
        for pair in neighbours.get(q, ()):
            if pair.b in bought:
                continue
            scores[pair.b] += pair.confidence
            if pair.b not in strongest or pair.confidence > strongest[pair.b][0]:
                strongest[pair.b] = (pair.confidence, q)
    ranked = sorted(scores, key=lambda p: (-scores[p], p))[:per_customer]
    items = [(p, scores[p], True, strongest[p][1]) for p in ranked]
    chosen = set(ranked)
    for product, share in popular:
        if len(items) >= per_customer:
            break
        if product not in bought and product not in chosen:
            items.append((product, share, False, 0))
    return items


def recommendation_rows(
    recommendations: Recommendations, customers: NDArray[np.int64], run_id: int, size: int = 50_000
) -> Iterator[list[tuple[object, ...]]]:
    """The rows to write, in chunks: (customer_id, product_id, rank, score, reason, because_of_id, run_id)."""
    together, popular = (
        ProductRecommendation.Reason.BOUGHT_TOGETHER.value,
        ProductRecommendation.Reason.POPULAR.value,
    )
    for start in range(0, len(recommendations), size):
        stop = start + size
        yield [
            (c, p, r, s, together if t else popular, b or None, run_id)
            for c, p, r, s, t, b in zip(
                customers[recommendations.customer_index[start:stop]].tolist(),
                recommendations.product[start:stop].tolist(),
                recommendations.rank[start:stop].tolist(),
                recommendations.score[start:stop].tolist(),
                recommendations.together[start:stop].tolist(),
                recommendations.because_of[start:stop].tolist(),
                strict=True,
            )
        ]


RECOMMENDATION_COLUMNS = ("customer_id", "product_id", "rank", "score", "reason", "because_of_id", "run_id")
