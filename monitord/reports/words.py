"""The words of the reports, in English and Simplified Chinese."""

from __future__ import annotations

import datetime as dt

_WORDS: dict[str, tuple[str, str]] = {
    "monthly_title": ("Monthly service report", "月度运维服务报告"),
    "contract": ("Contract", "合同"),
    "period": ("Period", "统计周期"),
    "time_zone": ("Time zone", "时区"),
    "as_of": ("Figures as of", "数据截至"),
    "incomplete": ("the month is not over: figures so far", "本月尚未结束,为截至目前的数据"),
    "generated": ("Generated", "生成时间"),
    "summary": ("Summary", "概要"),
    "tickets": ("Tickets", "工单"),
    "tickets_total": ("Tickets opened", "新开工单数"),
    "tickets_by_class": ("Tickets by class", "工单分类统计"),
    "class": ("Class", "类别"),
    "count": ("Count", "数量"),
    "class_A": ("A: system cannot run", "A类:系统不能正常运转"),
    "class_B": ("B: runs, not correctly", "B类:影响系统正确运行"),
    "class_C": ("C: to be fixed, no effect yet", "C类:暂不影响运行,须修改"),
    "class_D": ("D: improvement by plan", "D类:功能完善,协商计划"),
    "class_-": ("Hotline, unclassified", "热线,未分类"),
    "open_at_end": ("Not yet resolved", "尚未解决"),
    "sla": ("SLA compliance", "服务时限达成情况"),
    "milestone": ("Milestone", "时限节点"),
    "met": ("Met", "按时"),
    "breached": ("Breached", "超时"),
    "pending": ("Pending", "进行中"),
    "share_met": ("Met %", "达成率"),
    "ms_on_site": ("On site", "到达现场"),
    "ms_plan": ("Solution / plan", "解决方案"),
    "ms_respond": ("Response", "响应"),
    "ms_first_reply": ("Hotline first reply", "热线首次回复"),
    "ms_closed": ("Consultation closed", "咨询处理完毕"),
    "ms_solution": ("Solution", "给出解决方案"),
    "ms_dispatch": ("Engineer dispatched", "派员到场"),
    "ms_fixed": ("Fault fixed", "故障排除"),
    "mtta": ("Mean time to acknowledge (MTTA)", "平均响应时间 (MTTA)"),
    "mttr": ("Mean time to repair (MTTR)", "平均修复时间 (MTTR)"),
    "mean": ("Mean", "平均"),
    "median": ("Median", "中位数"),
    "of_tickets": ("tickets", "张工单"),
    "availability": ("Availability", "可用率"),
    "availability_sites": ("Availability per site", "各站点可用率"),
    "availability_devices": ("Availability per device", "各设备可用率"),
    "availability_note": (
        "Down or unreachable time over observed time; agreed maintenance windows excluded.",
        "故障或不可达时长占监测时长之比;已排除约定的维护窗口。",
    ),
    "overall": ("All sites", "全部站点"),
    "site": ("Site", "站点"),
    "device": ("Device", "设备"),
    "kind": ("Kind", "类型"),
    "observed": ("Observed", "监测时长"),
    "downtime": ("Downtime", "故障时长"),
    "failures": ("Failures", "故障次数"),
    "top_failing": ("Top failing devices", "故障最多的设备"),
    "none": ("None.", "无。"),
    "no_data": ("no data", "无数据"),
    "prevention": ("Preventive maintenance", "预防性维护"),
    "inspections": ("Inspections", "巡检"),
    "follow_ups": ("Follow-up visits", "用户回访"),
    "due": ("Due", "应完成"),
    "done": ("Done", "已完成"),
    "overdue": ("Overdue", "逾期"),
    "score": ("Satisfaction score (0–100)", "满意度评分(0–100)"),
    "not_recorded": ("not recorded", "未记录"),
    "warranty": ("Warranty expiring", "即将过保设备"),
    "warranty_within": ("ending within {days} days after the period", "统计期后 {days} 天内到期"),
    "warranty_end": ("Warranty ends", "保修截止"),
    "days_left": ("Days left", "剩余天数"),
    "hours": ("h", "小时"),
    "minutes": ("min", "分钟"),
    "camera": ("camera", "摄像机"),
    "nvr": ("NVR", "硬盘录像机"),
    "access_controller": ("access controller", "门禁控制器"),
    "switch": ("switch", "交换机"),
    "other": ("other", "其他"),
    "page": ("Page", "页"),
}


def w(key: str, lang: str) -> str:
    en, zh = _WORDS.get(key, (key, key))
    return zh if lang == "zh" else en


def milestone(name: str, lang: str) -> str:
    return w(f"ms_{name}", lang) if f"ms_{name}" in _WORDS else name


def duration(value: dt.timedelta | None, lang: str) -> str:
    """A timedelta as hours with one decimal (minutes below an hour); '-' for None."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 3600:
        return f"{seconds / 60:.0f} {w('minutes', lang)}"
    return f"{seconds / 3600:.1f} {w('hours', lang)}"


def percent(value: float | None, lang: str, digits: int = 2) -> str:
    return w("no_data", lang) if value is None else f"{value * 100:.{digits}f} %"


_RECORD_WORDS: dict[str, tuple[str, str]] = {
    "record_title": ("Maintenance record, ticket #{id}", "维护工作记录 · 工单 #{id}"),
    "ticket": ("Ticket", "工单"),
    "title": ("Title", "标题"),
    "status": ("Status", "状态"),
    "rule": ("Rule", "分类规则"),
    "root_device": ("Device", "故障设备"),
    "impacted": ("Affected devices", "受影响设备"),
    "opened": ("Opened", "开单时间"),
    "warranty_state": ("Warranty", "保修"),
    "under_warranty": (
        "under warranty until {date}: repair free of charge",
        "保修期内(至 {date}):免费维修",
    ),
    "out_of_warranty": ("warranty ended {date}: repair at cost", "已过保({date} 到期):有偿维修"),
    "warranty_unknown": ("no warranty date in the archive", "设备档案无保修日期"),
    "milestones": ("Service deadlines", "服务时限"),
    "due_at": ("Due", "截止时间"),
    "met_at": ("Met", "完成时间"),
    "state": ("State", "状态"),
    "running": ("running", "计时中"),
    "paused": ("paused", "暂停"),
    "doc_diagnosis": ("1. Fault diagnosis report", "一、故障诊断报告"),
    "doc_plan": ("2. Maintenance and recovery plan", "二、系统维护与故障恢复实施计划"),
    "doc_stage": ("3. Stage reports", "三、维护工作阶段报告"),
    "doc_resolved": ("4. Maintenance work report", "四、系统维护工作报告"),
    "doc_verified": ("5. Customer acceptance and sign-off", "五、用户验收签字确认"),
    "not_written": ("Not submitted yet.", "尚未提交。"),
    "late": ("filled in after the emergency repair", "紧急处理后补充"),
    "by": ("by", "记录人"),
    "signed_by": ("Signed by", "签字人"),
    "log": ("Complete log", "完整记录"),
    "event": ("Event", "事件"),
    "text": ("Text", "内容"),
    "time": ("Time", "时间"),
    "service_log": ("Service log", "客户服务日志"),
    "operation_log": ("System operation log", "系统运行日志"),
    "log_title": ("Service and operation log", "客户服务日志与系统运行日志"),
    "scope": ("Scope", "范围"),
    "entries": ("entries", "条"),
    "detail": ("Detail", "内容"),
    "log_kind": ("Log", "日志"),
    "actor": ("By", "执行人"),
}
_WORDS.update(_RECORD_WORDS)

# Ticket events as the customer reads them in a record or a log.
_EVENTS: dict[str, tuple[str, str]] = {
    "opened": ("opened", "开单"),
    "acknowledged": ("acknowledged", "已响应"),
    "on_site": ("on site", "到达现场"),
    "diagnosis": ("fault diagnosis report", "故障诊断报告"),
    "plan": ("maintenance and recovery plan", "维护与恢复计划"),
    "stage": ("stage report", "阶段报告"),
    "resolved": ("maintenance work report (resolved)", "维护工作报告(已解决)"),
    "verified": ("customer sign-off", "用户验收签字"),
    "closed": ("closed", "关闭"),
    "reopened": ("reopened", "重新打开"),
    "paused": ("clock paused", "计时暂停"),
    "resumed": ("clock resumed", "计时恢复"),
    "reclassified": ("reclassified", "重新分类"),
    "recovered": ("device answers again", "设备恢复在线"),
    "impact": ("more devices affected", "影响范围扩大"),
    "comment": ("comment", "备注"),
    "sla_warning": ("deadline warning", "时限预警"),
    "sla_breach": ("deadline breached", "超出时限"),
    "inspection": ("inspection item", "巡检项目"),
    "follow_up": ("follow-up visit", "用户回访"),
}


def event(kind: str, lang: str) -> str:
    en, zh = _EVENTS.get(kind, (kind, kind))
    return zh if lang == "zh" else en


_STATUS: dict[str, tuple[str, str]] = {
    "open": ("open", "待处理"),
    "acknowledged": ("acknowledged", "已响应"),
    "on_site": ("on site", "已到现场"),
    "diagnosed": ("diagnosed", "已诊断"),
    "planned": ("planned", "已制定计划"),
    "in_progress": ("in progress", "维护中"),
    "resolved": ("resolved", "已解决"),
    "verified": ("verified by the customer", "用户已验收"),
    "closed": ("closed", "已关闭"),
    "city": ("city", "市区"),
    "county": ("outer county", "其他市县"),
}


def status(value: str, lang: str) -> str:
    """A ticket status or a site's zone in the reader's language."""
    en, zh = _STATUS.get(value, (value, value))
    return zh if lang == "zh" else en
