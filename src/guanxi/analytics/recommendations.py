"""Recommendations: products bought together, and for each customer the products to offer next.

Pairs: two products on the same purchase order (completed or partially refunded, lines of any kind). For
the pair a → b: support = orders with both / orders with lines; confidence = orders with both / orders
with a; lift = confidence / (orders with b / orders with lines). A pair is kept when it meets the minimum
support setting and at least two orders hold it (one order is a coincidence).

A customer's recommendations are the active products they never bought, scored by the pairs of what they
did buy: the sum over their products q of confidence(q → p), for pairs with lift above 1 (bought
together more often than by chance), best first; the product q with the strongest pair is the reason.
Places left over go to the most bought products of the customer's RFM segment (the share of its
customers who bought each), then to the whole base's.

The order lines are read once (order, product), kept where the order is a purchase (the base read's
customer of each order id), and counted in numpy: what each customer bought, and the pairs on each order.
The lists' work is bounded by products², not customers: customers who bought the same set of products in
the same segment share one list, worked out once.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from guanxi.analytics.models import ProductRecommendation, Segment
from guanxi.analytics.purchases import distinct_sorted
from guanxi.analytics.streams import int_chunks
from guanxi.catalog.models import Product
from guanxi.customers.services.rows import highest_id
from guanxi.sales.models import OrderLine

SEGMENT_COUNT = tuple(Segment)
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


LINES = OrderLine._meta.db_table


@dataclass
class Bought:
    """What each customer bought: (customer, product) rows sorted by customer, each with the number of
    the customer's purchase orders that hold the product; the purchase orders with lines in all; and the
    product pairs on one order, (a, b) with a < b, with the number of orders that hold both."""

    customer: NDArray[np.int64]
    product: NDArray[np.int64]
    orders: NDArray[np.int64]
    total_orders: int
    pair_a: NDArray[np.int64]
    pair_b: NDArray[np.int64]
    pair_orders: NDArray[np.int64]

    def product_orders(self) -> dict[int, int]:
        """Purchase orders holding each product (an order is one customer's, so the customers' add up)."""
        if not len(self.product):
            return {}
        products, index = np.unique(self.product, return_inverse=True)
        counts = np.bincount(index, weights=self.orders).astype(np.int64)
        return dict(zip(products.tolist(), counts.tolist(), strict=True))


@dataclass
class Lines:
    """Each (order, product) of the order lines once, as order × span + product, sorted."""

    keys: NDArray[np.int64]
    span: int


class LinesReader:
    """Reads every order line's (order, product): `read(part)` for each part (streams.int_chunks),
    possibly from several threads at once, then `lines()`. Which orders are purchases is known after the
    base read, which may run beside this one."""

    def __init__(self) -> None:
        self.span = highest_id(Product._meta.db_table) + 1
        self.keys: list[NDArray[np.int64]] = []  # distinct within each chunk
        self.lock = threading.Lock()

    def read(self, part: tuple[int, int] = (0, 1)) -> None:
        span = self.span
        for chunk in int_chunks(LINES, ["order_id", "product_id"], part=part):
            order, product = chunk[:, 0], chunk[:, 1]
            keys = distinct_sorted(order[product < span] * span + product[product < span])
            with self.lock:
                self.keys.append(keys)

    def lines(self) -> Lines:
        held = np.concatenate(self.keys) if self.keys else np.zeros(0, dtype=np.int64)
        self.keys = []
        return Lines(distinct_sorted(held), self.span)


def bought_count(lines: Lines, order_customer: NDArray[np.int64]) -> Bought:
    """What each customer bought and the pairs on one order, from the lines of purchase orders
    (`order_customer`: the customer of each purchase order by order id, -1 for other orders;
    purchases.base_read's). Orders booked since the base read (ids past its end) wait for the next run."""
    span = lines.span
    order, product = lines.keys // span, lines.keys % span
    purchase = order < len(order_customer)
    purchase[purchase] = order_customer[order[purchase]] >= 0
    order, product = order[purchase], product[purchase]
    starts = np.flatnonzero(np.r_[True, order[1:] != order[:-1]]) if len(order) else np.zeros(0, np.int64)
    rows, counts = _tally(order_customer[order] * span + product)
    pair_a, pair_b, pair_orders = _pairs(product, starts, span)
    return Bought(
        customer=rows // span,
        product=rows % span,
        orders=counts.astype(np.int64),
        total_orders=len(starts),
        pair_a=pair_a,
        pair_b=pair_b,
        pair_orders=pair_orders,
    )


PAIR_BATCH = 4_000_000  # pair keys counted at a time


def _pairs(
    product: NDArray[np.int64], starts: NDArray[np.int64], span: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Each pair of products (a < b) on one order and the orders that hold it; `product` sorted by order,
    then product, each order's rows from its start in `starts`."""
    sizes = np.diff(np.r_[starts, len(product)])
    found: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = []
    for size in np.unique(sizes[sizes >= 2]).tolist():
        first, second = np.triu_indices(size, 1)
        of_size = starts[sizes == size]
        step = max(1, PAIR_BATCH // len(first))
        for begin in range(0, len(of_size), step):
            rows = of_size[begin : begin + step, None] + np.arange(size)
            held = product[rows]
            found.append(_tally((held[:, first] * span + held[:, second]).ravel()))
    keys, counts = _tally(
        np.concatenate([k for k, _c in found] or [np.zeros(0, np.int64)]),
        np.concatenate([c for _k, c in found] or [np.zeros(0, np.int64)]),
    )
    return keys // span, keys % span, counts


def _tally(
    keys: NDArray[np.int64], weights: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct keys (non-negative), sorted, and how often each occurs (or the sum of its weights).
    Where the keys are dense, a count per possible key (bincount) saves the sort: ten million
    (customer, product) keys in 0.1 s instead of about 1 s."""
    if not len(keys):
        return keys, np.zeros(0, dtype=np.int64)
    top = int(keys.max())
    if top < 8 * len(keys) + (1 << 20):
        totals = np.bincount(keys, weights=weights, minlength=top + 1)
        distinct = np.flatnonzero(totals)
        return distinct, totals[distinct].astype(np.int64)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    tallied = np.ones(len(keys), dtype=np.int64) if weights is None else weights[order]
    return keys[starts], np.add.reduceat(tallied, starts).astype(np.int64)


def product_pairs(*, min_support: float, bought: Bought) -> list[Pair]:
    """The pairs bought together at least twice and with the minimum support, in both directions."""
    total = bought.total_orders
    if not total:
        return []
    product_orders = bought.product_orders()
    minimum = max(MIN_ORDERS_TOGETHER, int(np.ceil(min_support * total)))
    kept = bought.pair_orders >= minimum
    pairs = []
    for a, b, together in zip(
        bought.pair_a[kept].tolist(),
        bought.pair_b[kept].tolist(),
        bought.pair_orders[kept].tolist(),
        strict=True,
    ):
        support = together / total
        for x, y in ((a, b), (b, a)):
            confidence = together / product_orders[x]
            pairs.append(Pair(x, y, together, support, confidence, confidence * total / product_orders[y]))
    pairs.sort(key=lambda p: (p.a, -p.confidence, p.b))
    return pairs


@dataclass
class Recommendations:
    """Lists of recommendations, and which list each customer of the base has (-1: none).

    Customers who bought the same products and are in the same RFM segment get the same list, so it is
    stored once (ProductRecommendation.key = the list's number, CustomerMetrics.recommendation_key).
    """

    list_of_customer: NDArray[np.int64]
    lists: list[list[tuple[int, float, bool, int]]]  # (product, score, bought together?, because of)

    def __len__(self) -> int:
        return sum(len(items) for items in self.lists)


def _basket_keys(
    customers: NDArray[np.int64], bought_customer: NDArray[np.int64], bought_product: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.uint64]]:
    """Each bought row's customer index (-1: not in the base), and for each customer a key of the set of
    products they bought.

    The key is the XOR of a random 64-bit number per product: equal sets give equal keys, and two
    different sets collide with a chance of about 2⁻⁶⁴ a pair.
    """
    index = np.minimum(np.searchsorted(customers, bought_customer), len(customers) - 1)
    known = customers[index] == bought_customer
    rng = np.random.default_rng(20050101)
    products = np.unique(bought_product)
    codes = rng.integers(1, 2**63, size=len(products), dtype=np.int64).astype(np.uint64)
    row_codes = codes[np.searchsorted(products, bought_product)]
    keys = np.zeros(len(customers), dtype=np.uint64)
    np.bitwise_xor.at(keys, index[known], row_codes[known])
    return np.where(known, index, -1), keys


def _popular(
    segments: NDArray[np.int8],
    row_index: NDArray[np.int64],
    row_product: NDArray[np.int64],
    active_products: set[int],
    size: int,
) -> list[list[tuple[int, float]]]:
    """Each segment's most bought active products, (product, share of the segment's customers who bought
    it), then the whole base's after them for a segment whose customers bought few of them."""
    product_ids = np.array(sorted(active_products), dtype=np.int64)
    active_rows = np.isin(row_product, product_ids)
    column = np.searchsorted(product_ids, row_product[active_rows])
    counts = np.zeros((len(SEGMENT_COUNT), len(product_ids)), dtype=np.int64)
    np.add.at(counts, (segments[row_index[active_rows]].astype(np.int64), column), 1)
    sizes = np.bincount(segments.astype(np.int64), minlength=len(SEGMENT_COUNT))

    def ranked(bought: NDArray[np.int64], customers: int) -> list[tuple[int, float]]:
        order = np.lexsort((product_ids, -bought))
        return [(int(product_ids[i]), float(bought[i] / customers)) for i in order[:size] if bought[i] > 0]

    everyone = ranked(counts.sum(axis=0), max(1, len(segments)))
    popular = []
    for segment in range(len(SEGMENT_COUNT)):
        own = ranked(counts[segment], max(1, int(sizes[segment])))
        mine = {product for product, _share in own}
        popular.append(own + [(product, share) for product, share in everyone if product not in mine])
    return popular


def recommend(
    *,
    customers: NDArray[np.int64],
    segments: NDArray[np.int8],
    bought: Bought,
    pairs: list[Pair],
    active_products: set[int],
    per_customer: int,
) -> Recommendations:
    """The recommendation lists of the customers in `customers` (sorted ids, with their segment indexes)."""
    if per_customer <= 0 or not len(customers) or not active_products:
        return Recommendations(np.full(len(customers), -1, dtype=np.int64), [])
    row_index, keys = _basket_keys(customers, bought.customer, bought.product)
    known = row_index >= 0
    row_index, row_product = row_index[known], bought.product[known]

    neighbours: dict[int, list[Pair]] = defaultdict(list)
    for pair in pairs:
        if pair.lift > 1 and pair.b in active_products and len(neighbours[pair.a]) < NEIGHBOURS:
            neighbours[pair.a].append(pair)
    popular = _popular(segments, row_index, row_product, active_products, per_customer + 50)

    # One list per (product set, segment), worked out from its first customer's products.
    combined = keys ^ (segments.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    _keys, first, group_of = np.unique(combined, return_index=True, return_inverse=True)
    starts = np.searchsorted(row_index, first)
    ends = np.searchsorted(row_index, first, side="right")
    lists = [
        _for_set(
            set(row_product[start:end].tolist()), neighbours, popular[int(segments[customer])], per_customer
        )
        for customer, start, end in zip(first.tolist(), starts.tolist(), ends.tolist(), strict=True)
    ]
    # Number the lists that hold anything; a customer whose list is empty has none.
    sizes = np.array([len(items) for items in lists], dtype=np.int64)
    numbers = np.where(sizes > 0, np.cumsum(sizes > 0) - 1, -1)
    return Recommendations(
        list_of_customer=numbers[group_of.reshape(-1)], lists=[items for items in lists if items]
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


def recommendation_rows(recommendations: Recommendations, run_id: int) -> list[tuple[object, ...]]:
    """The rows to write: (key, product_id, rank, score, reason, because_of_id, run_id)."""
    together = ProductRecommendation.Reason.BOUGHT_TOGETHER.value
    popular = ProductRecommendation.Reason.POPULAR.value
    return [
        (key, product, rank, score, together if is_pair else popular, because or None, run_id)
        for key, items in enumerate(recommendations.lists)
        for rank, (product, score, is_pair, because) in enumerate(items, start=1)
    ]


RECOMMENDATION_COLUMNS = ("key", "product_id", "rank", "score", "reason", "because_of_id", "run_id")
