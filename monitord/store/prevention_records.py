"""Records of the preventive side (inspections, follow-up visits) crossing the store boundary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class InspectionTask:
    """One inspection owed for a site, a device kind and a calendar period (P1).

    `items` is the checklist as it was when the task was made: [{"id", "en", "zh"}, ...].
    `completed_at` is set when every item has a result (failed ones included).
    """

    id: int
    contract: str
    site_id: str
    kind: str
    plan: str
    period: str  # "2026-03" or "2026-Q1"
    period_start: dt.date
    due_at: dt.datetime  # the period's end on the site's clock, UTC
    items: tuple[dict[str, str], ...]
    created_at: dt.datetime
    completed_at: dt.datetime | None = None

    def overdue(self, now: dt.datetime) -> bool:
        return self.completed_at is None and now >= self.due_at


@dataclass(frozen=True, slots=True)
class InspectionResult:
    task_id: int
    item: str
    result: str  # "pass" or "fail"
    by: str
    at: dt.datetime
    note: str = ""
    device_id: str | None = None  # the device the result is about, if one
    ticket_id: int | None = None  # the ticket a failure opened
    id: int = 0  # assigned by the store


@dataclass(frozen=True, slots=True)
class FollowUpVisit:
    """One customer follow-up visit and its survey (用户回访反馈信息表, P4).

    Ratings are 1 (very dissatisfied) to 5 (very satisfied); `score` is the overall
    satisfaction score, 0-100, when the customer gave one.
    """

    contract: str
    site_id: str
    visited_at: dt.datetime
    by: str  # the engineer or service-centre clerk
    contact: str = ""  # who answered for the customer
    attitude: int | None = None  # 服务态度
    responsibility: int | None = None  # 责任心
    effect: int | None = None  # 服务效果
    score: int | None = None  # 满意度评分
    problems: str = ""  # 发现的问题
    suggestions: str = ""  # 意见和建议
    quality_problem: bool = False  # 确属工程质量问题
    ticket_id: int | None = None
    id: int = 0  # assigned by the store
    extra: dict[str, Any] = field(default_factory=dict)
