"""RFM scores and segments on small cases computed by hand, and the churn bands' rules."""

from __future__ import annotations

import numpy as np

from guanxi.analytics import scoring


def segments_of(index: np.ndarray) -> list[str]:
    return [str(scoring.SEGMENTS[i]) for i in index]


def test_quintile_scores_of_ten_distinct_values_are_two_a_score() -> None:
    # given values 1..10: the bottom fifth (1, 2) scores 1, the top fifth (9, 10) scores 5
    values = np.arange(1, 11)

    # when
    scores = scoring.quintile_scores(values, higher_is_better=True)

    # then
    assert scores.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_recency_scores_reward_few_days_since_the_last_purchase() -> None:
    # given days since the last purchase of five customers
    recency = np.array([2, 10, 30, 60, 100])

    # when
    scores = scoring.quintile_scores(recency, higher_is_better=False)

    # then strictly more days than 4, 3, 2, 1, 0 of the others: 1 + ⌊5 × worse / 5⌋
    assert scores.tolist() == [5, 4, 3, 2, 1]


def test_equal_values_score_alike_where_the_first_of_them_falls() -> None:
    # given 6 of 10 customers bought once, then 2, 2, 3, 7 orders
    orders = np.array([1, 1, 1, 1, 1, 1, 2, 2, 3, 7])

    # when
    scores = scoring.quintile_scores(orders, higher_is_better=True)

    # then 1 order: nobody is below → 1; 2 orders: 6 below → 1 + ⌊30/10⌋ = 4; 3: 8 below → 5; 7: 9 → 5
    assert scores.tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]


def test_the_eight_segments_each_from_r_f_m_against_the_average() -> None:
    # given recency averaging 50 days, 2.5 orders and ¥500: each customer a different high/low mix
    recency = np.array([5, 5, 5, 5, 95, 95, 95, 95])
    orders = np.array([4, 1, 4, 1, 4, 1, 4, 1])
    spend = np.array([900, 900, 100, 100, 900, 900, 100, 100])

    # when
    r, f, m, segment, means = scoring.rfm(recency, orders, spend)

    # then
    assert means == {"recency": 50.0, "frequency": 2.5, "monetary": 500.0}
    assert segments_of(segment) == [
        "important_value",  # R high, F high, M high: 重要价值客户
        "important_develop",  # R high, F low, M high: 重要发展客户
        "general_value",  # R high, F high, M low: 一般价值客户
        "general_develop",  # R high, F low, M low: 一般发展客户
        "important_keep",  # R low, F high, M high: 重要保持客户
        "important_retain",  # R low, F low, M high: 重要挽留客户
        "general_keep",  # R low, F high, M low: 一般保持客户
        "general_retain",  # R low, F low, M low: 一般挽留客户
    ]
    # ties of four: the better four have 4 of 8 worse → 1 + ⌊20/8⌋ = 3, the others 1
    assert r.tolist() == [3, 3, 3, 3, 1, 1, 1, 1]
    assert f.tolist() == [3, 1, 3, 1, 3, 1, 3, 1]
    assert m.tolist() == [3, 3, 1, 1, 3, 3, 1, 1]


def test_a_value_equal_to_the_average_is_low() -> None:
    # given two customers whose orders average 2: one has exactly the average
    recency = np.array([10, 30])
    orders = np.array([2, 2])
    spend = np.array([300, 100])

    # when
    _r, _f, _m, segment, _means = scoring.rfm(recency, orders, spend)

    # then F is low for both (2 is not above 2); R and M split them
    assert segments_of(segment) == ["important_develop", "general_retain"]


def test_customers_without_an_order_in_the_window_score_one_and_leave_the_averages_alone() -> None:
    # given three customers who bought in the window and one whose last order is older
    recency = np.array([3, 20, 40, 500])
    window_orders = np.array([4, 1, 4, 0])
    window_spend = np.array([600, 100, 200, 0])

    # when
    r, f, m, segment, means = scoring.rfm(recency, window_orders, window_spend)

    # then the averages are the window customers' own: recency 21, orders 3, spend 300
    assert means == {"recency": 21.0, "frequency": 3.0, "monetary": 300.0}
    assert (r[3], f[3], m[3]) == (1, 1, 1)
    assert segments_of(segment) == ["important_value", "general_develop", "general_keep", "general_retain"]
    # the window customers' scores among three, 1 + ⌊5 × worse / 3⌋: R 4, 2, 1; F 2, 1, 2; M 4, 1, 2
    assert r[:3].tolist() == [4, 2, 1]
    assert f[:3].tolist() == [2, 1, 2]
    assert m[:3].tolist() == [4, 1, 2]


def test_no_customer_in_the_window_leaves_everyone_general_retain() -> None:
    r, f, m, segment, _means = scoring.rfm(np.array([400, 800]), np.array([0, 0]), np.array([0, 0]))
    assert segments_of(segment) == ["general_retain", "general_retain"]
    assert r.tolist() == f.tolist() == m.tolist() == [1, 1]


def test_bands_by_the_thresholds() -> None:
    # given activity (P(alive) or the one-time buyers' silence probability) around 0.5 and 0.15
    active = np.array([0.9, 0.5, 0.4999, 0.15, 0.1499, 0.0])

    # when
    bands = scoring.bands(active, at_risk_below=0.5, churned_below=0.15)

    # then
    assert [scoring.BANDS[b] for b in bands] == [
        "active",
        "active",
        "at_risk",
        "at_risk",
        "churned",
        "churned",
    ]


def test_one_time_buyers_are_read_by_how_unlikely_their_silence_is() -> None:
    # given r = 1, α = 10: a buyer still active waits on average 10 days; P(no purchase in T) = 10 / (10 + T)
    frequency = np.array([0, 0, 3])
    age = np.array([10, 90, 400])
    p_alive = np.array([1.0, 1.0, 0.8])

    # when
    activity = scoring.activity(frequency, age, p_alive, r=1.0, alpha=10.0)

    # then 10/20 = 0.5 and 10/100 = 0.1 for the one-time buyers; the repeat buyer keeps P(alive)
    assert activity.tolist() == [0.5, 0.1, 0.8]
    # and the wait after which silence falls below 0.5 is α (0.5^(−1/r) − 1) = 10 days
    assert scoring.one_time_wait_days(0.5, 1.0, 10.0) == 10.0
