"""Demo leads: about a hundred people who asked about a car, through the channels a dealer sees.

Made through the lead services (not bulk rows): a web form, assignment rules, captures (some of the same
person again), qualification, disqualification with reasons, and conversions with opportunities, so the
demo shows what a real week looks like and exercises the same rules as real use.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.core.errors import DomainError
from guanxi.leads import services
from guanxi.leads.models import Lead, LeadAssignmentRule, LeadForm
from guanxi.users.models import Team, User

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "文",
    "华",
    "红",
    "玉兰",
    "斌",
    "宇",
    "浩",
    "凯",
    "婷",
    "欣怡",
    "子轩",
    "雨涵",
    "思远",
    "晨",
)
MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "158", "186", "188", "189", "177", "199")
CITIES = ("深圳", "广州", "东莞", "佛山", "上海", "杭州", "苏州", "南京")
COMPANIES = ("鹏程物流", "华南建材", "远航贸易", "恒信装饰", "金桥电子", "东方酒店", "新城物业", "顺达运输")
INTERESTS = (
    "比亚迪汉EV",
    "秦PLUS DM-i",
    "宋PLUS",
    "海豹",
    "元PLUS",
    "唐DM-p",
    "试驾预约",
    "以旧换新",
    "车队采购",
    "分期方案",
    "保养套餐",
)
MESSAGES = (
    "周末想来店里试驾，下午方便。",
    "请发一下最新的优惠政策。",
    "公司想采购几台车做通勤，请报价。",
    "旧车想置换，能上门评估吗？",
    "充电桩怎么安装？小区能装吗？",
    "",
    "",
)
SOURCES = (
    ("web", 30),
    ("referral", 15),
    ("walk_in", 15),
    ("phone", 12),
    ("wechat", 12),
    ("event", 8),
    ("campaign", 8),
)
REASONS = ("no_budget", "no_need", "unreachable", "competitor", "spam")


def _pick(r: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return r.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _setup(actor: User, teams: list[Team]) -> LeadForm:
    """A test-drive form and three rules: referrals and Shanghai-area leads to their teams, the rest in
    turn in the first team."""
    form = LeadForm.objects.filter(slug="test-drive").first() or services.form_create(
        actor=actor,
        slug="test-drive",
        title="预约试驾",
        intro="留下联系方式，我们的顾问会在一个工作日内联系您。",
        fields=["phone", "city", "interest", "message"],
        source="web",
        team=teams[0],
        thank_you="提交成功！顾问会尽快与您联系。",
    )
    if not LeadAssignmentRule.objects.exists():
        services.rule_create(actor=actor, name="转介绍给华南一组", match_source="referral", team=teams[0])
        if len(teams) > 1:
            for city in ("上海", "杭州", "苏州", "南京"):
                services.rule_create(
                    actor=actor, name=f"{city}线索给华东二组", match_city=city, team=teams[1]
                )
        services.rule_create(actor=actor, name="其余线索轮流分配", team=teams[0])
    return form


def demo_leads(*, actor: User, count: int = 110, seed: int = 7, days: int = 30) -> dict[str, int]:
    """About `count` leads over the last `days` days, made through the services as `actor` (an
    administrator or manager: the assignment rules then decide the owners). Returns counts by status
    and how many captures were merged. Safe to run on a database that has leads already."""
    r = random.Random(seed)
    teams = list(Team.objects.order_by("id")[:2])
    if not teams:
        teams = [Team.objects.create(name="销售一组")]
    stats = {"created": 0, "merged": 0, "converted": 0, "qualified": 0, "disqualified": 0, "working": 0}
    with transaction.atomic():
        form = _setup(actor, teams)
        people: list[dict[str, Any]] = []
        # Arrival times, oldest first, so that the newest lead has the highest id as in real use.
        now = timezone.now()
        times = sorted(now - timedelta(days=r.uniform(0, days)) for _ in range(count))
        for i, when in enumerate(times):
            name = r.choice(SURNAMES) + r.choice(GIVEN)
            fields: dict[str, Any] = {
                "name": name,
                "phone": f"+86{r.choice(MOBILE_PREFIXES)}{r.randrange(10**8):08d}",
                "city": r.choice(CITIES),
                "interest": r.choice(INTERESTS),
                "message": r.choice(MESSAGES),
            }
            if r.random() < 0.3:
                fields["email"] = f"lead{seed}x{i}@example.com"
            if r.random() < 0.25:
                fields["company"] = r.choice(COMPANIES)
            if r.random() < 0.1:
                fields["interest"] = ""
            if r.random() < 0.05:  # the same person again, some days later
                fields = (
                    {**r.choice(people)["fields"], "message": "再次咨询：" + r.choice(MESSAGES[:5])}
                    if people
                    else fields
                )
            source = _pick(r, SOURCES)
            try:
                if source == "web":
                    lead = services.lead_capture_web(
                        form=form,
                        fields=fields,
                        extra={"utm_source": r.choice(["baidu", "wechat", "douyin"])},
                    )
                else:
                    lead = services.lead_create(actor=actor, source=source, **fields)
            except DomainError:
                continue
            if lead.merged:
                stats["merged"] += 1
                continue
            Lead.objects.filter(pk=lead.pk).update(created_at=when, last_captured_at=when)
            stats["created"] += 1
            people.append({"lead": lead, "fields": fields})
        for person in people:
            lead = person["lead"]
            roll = r.random()
            try:
                if roll < 0.15:
                    services.lead_qualify(actor=actor, lead=lead, note="需求和预算都明确")
                    opportunity = r.random() < 0.8
                    services.lead_convert(
                        actor=actor,
                        lead=lead,
                        as_company=bool(lead.company) and r.random() < 0.5,
                        opportunity=opportunity,
                        opportunity_name=f"{lead.name} · {lead.interest or '购车'}",
                        amount=Decimal(r.randrange(99, 330)) * 1000 if opportunity else None,
                        expected_close=(timezone.localdate() + timedelta(days=r.randrange(7, 60)))
                        if opportunity
                        else None,
                    )
                    stats["converted"] += 1
                elif roll < 0.30:
                    services.lead_qualify(actor=actor, lead=lead, note="已电话确认需求")
                    stats["qualified"] += 1
                elif roll < 0.45:
                    reason = r.choice(REASONS)
                    services.lead_disqualify(actor=actor, lead=lead, reason=reason, note="")
                    stats["disqualified"] += 1
                elif roll < 0.70:
                    services.lead_update(actor=actor, lead=lead, status=Lead.Status.WORKING)
                    stats["working"] += 1
            except DomainError:
                continue
    return stats
