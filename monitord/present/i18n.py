"""Every word monitord shows a reader, in English and Simplified Chinese: one catalogue.

One table per face or document (the CLI, the reports, notifications, early warnings,
finding summaries), each `key -> (English, Chinese)`, looked up with `word()`. This module
imports nothing of monitord, so every layer may use it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

CLI: dict[str, tuple[str, str]] = {
    "id": ("ID", "编号"),
    "name": ("NAME", "名称"),
    "kind": ("KIND", "类型"),
    "site": ("SITE", "站点"),
    "address": ("ADDRESS", "地址"),
    "state": ("STATE", "状态"),
    "since": ("SINCE", "起始时间"),
    "reason": ("REASON", "原因"),
    "at": ("TIME", "时间"),
    "change": ("CHANGE", "变化"),
    "pending": ("pending", "待检测"),
    "up": ("up", "正常"),
    "degraded": ("degraded", "性能下降"),
    "down": ("down", "故障"),
    "unreachable": ("unreachable", "不可达"),
    "flapping": ("flapping", "频繁抖动"),
    "camera": ("camera", "摄像机"),
    "nvr": ("NVR", "硬盘录像机"),
    "access_controller": ("access controller", "门禁控制器"),
    "switch": ("switch", "交换机"),
    "other": ("other", "其他"),
    "archive": ("Equipment archive", "设备档案"),
    "reported": ("As the device reports it", "设备自报信息"),
    "record": ("Operation record", "设备运行情况记录"),
    "no_device": ("no such device", "没有该设备"),
    "no_site": ("no such site", "没有该站点"),
    # discovery
    "no_discovery": (
        "the site has no 'discovery' settings (ranges)",
        "该站点未配置发现范围 (discovery.ranges)",
    ),
    "outside_ranges": (
        "outside the site's discovery ranges; refused",
        "超出站点的发现范围, 已拒绝",
    ),
    "not_main_config": (
        "--write must name a new include file, never the main configuration",
        "--write 必须是单独的包含文件, 不能是主配置文件",
    ),
    "change_new": ("NEW", "新设备"),
    "change_address": ("ADDRESS CHANGED", "地址变化"),
    "change_parent": ("PARENT CHANGED", "上级变化"),
    "change_parent_wrong": ("WRONG CONFIGURED PARENT", "配置的上级有误"),
    "change_parent_found": ("PARENT FOUND", "发现上级设备"),
    "change_firmware": ("FIRMWARE CHANGED", "固件变化"),
    "change_moved": ("MOVED", "端口迁移"),
    "change_missing": ("MISSING", "未发现"),
    "change_facts": ("FACTS TO FILL", "补全资料"),
    "reply_refused": ("reply refused", "已拒绝的应答"),
    "no_changes": ("no changes: the configuration matches the network", "无变化: 配置与网络一致"),
    "note_not_activated": (
        "not activated: no admin password set yet",
        "未激活: 尚未设置管理员密码",
    ),
    "note_poe": ("PoE delivered on the port", "端口正在PoE供电"),
    "note_hub": (
        "a hidden unmanaged switch: several cameras on one edge port",
        "隐藏的非网管交换机: 一个接入端口下有多台摄像机",
    ),
    # progress of slow terminal work (cli/progress.py, issue 15)
    "progress_csv": ("reading rows", "读取行"),
    "progress_upgrade": ("applying schema migrations", "应用数据库迁移"),
    "progress_report_read": ("reading the month's records", "读取本月记录"),
    "progress_report_write": ("writing the report", "生成报告"),
    "progress_report_appendix": ("writing the appendix", "生成附录"),
    # discovery: live progress, Ctrl-C, --apply (issue 17 items 4-5)
    "disc_ranges": ("ranges", "范围"),
    "disc_probed": ("probes sent", "已发探测"),
    "disc_found": ("devices found", "发现设备"),
    "disc_walked": ("switches walked", "已读交换机"),
    "disc_stage": ("stage", "阶段"),
    "disc_interrupted": (
        "discovery interrupted: nothing was written",
        "发现已中断: 未写入任何内容",
    ),
    "disc_applied": ("written", "已写入"),
    "disc_added": ("added", "新增"),
    "disc_updated": ("updated", "更新"),
    "disc_elsewhere": (
        "configured in another file, change not written",
        "配置在其他文件中, 变更未写入",
    ),
    "disc_reloaded": (
        "the running daemon was told to reload (SIGHUP)",
        "已通知运行中的守护进程重新加载 (SIGHUP)",
    ),
    "disc_no_daemon": (
        "no running daemon found; it reads the file at its next reload or start",
        "未找到运行中的守护进程; 它将在下次重新加载或启动时读取该文件",
    ),
    "disc_apply_write": ("--apply and --write are exclusive", "--apply 与 --write 不能同时使用"),
    "disc_cli_at_poller": (
        "polled by site poller {poller}: discovery runs there; start it from the web console"
        + " (site page, Discover)",
        "由站点采集器 {poller} 采集：设备发现在该采集器上运行，请在 Web 控制台的站点页面点击“设备发现”",
    ),
    "disc_kept": (
        "run {run} kept: apply it as reviewed with `monitord discover --site {site} --apply "
        + "--run {run}`",
        "本次发现已保存为 {run}：核对后用 `monitord discover --site {site} --apply --run {run}` 应用",
    ),
    "disc_run_apply_only": (
        "--run goes with --apply (and without --ranges): it applies a kept run",
        "--run 须与 --apply 同用（且不带 --ranges）：它应用已保存的发现结果",
    ),
    "disc_run_unknown": ("no such discovery run of this site", "该站点没有此次发现记录"),
    "disc_run_applied": ("this run was applied already", "此次发现已应用过"),
    "disc_run_not_done": (
        "this run did not finish: it proposed nothing",
        "此次发现未完成，没有生成建议",
    ),
    "disc_run_damaged": ("the kept change set is damaged", "保存的变更集已损坏"),
    # end of discovery
    "config_ok": ("configuration OK", "配置正确"),
    "devices": ("devices", "台设备"),
    "sites": ("sites", "个站点"),
    "never_checked": ("never checked", "尚未检测"),
    "removed": ("removed from configuration", "已从配置中移除"),
    "errors": ("error(s)", "处错误"),
    "written": ("written", "已写入"),
    "ok": ("ok", "正常"),
    "warning": ("warning", "警告"),
    "critical": ("critical", "严重"),
    "unknown": ("unknown", "未知"),
    "unavailable": ("unavailable", "不可用"),
    "not_configured": ("not configured", "未配置"),
    "sys_name": ("System name", "系统名称"),
    "sys_descr": ("Description", "系统描述"),
    "sys_object_id": ("Object ID", "对象标识"),
    "uptime": ("Uptime", "运行时长"),
    "reachable": ("Device reachable", "设备可达"),
    "not_reachable": ("Device NOT reachable", "设备不可达"),
    "outbox_empty": ("outbox empty", "没有消息"),
    "no_rotation": ("no on-call rotation", "没有值班表"),
}

ARCHIVE_FIELDS: dict[str, tuple[str, str]] = {
    "site_id": ("site", "站点"),
    "kind": ("kind", "类型"),
    "address": ("address", "地址"),
    "parents": ("parents", "上级设备"),
    "criticality": ("criticality", "重要性"),
    "vendor": ("vendor", "厂商"),
    "model": ("model", "型号"),
    "serial": ("serial", "序列号"),
    "firmware": ("firmware", "固件版本"),
    "install_date": ("install date", "安装日期"),
    "warranty_end": ("warranty end", "保修截止"),
    "location": ("location", "安装位置"),
    "sys_descr": ("system description", "系统描述"),
    "sys_object_id": ("system object ID", "系统对象标识"),
}


# --- `monitord maintenance` (cli/maintenance.py) ---

POLLERS: dict[str, tuple[str, str]] = {
    "code": ("one-time enrolment code", "一次性注册码"),
    "valid_until": ("valid until", "有效期至"),
    "fingerprint": ("centre certificate", "中心证书指纹"),
    "no_tls": (
        "the API has no TLS certificate (api.tls_cert): pollers need HTTPS",
        "API 未配置 TLS 证书（api.tls_cert）：采集器只能通过 HTTPS 连接",
    ),
    "unknown_site": ("no such site", "没有该站点"),
    "revoked": ("poller revoked", "采集器已吊销"),
    "no_poller": ("no such poller", "没有该采集器"),
    "none": ("no pollers", "没有采集器"),
    "enrolled": ("enrolled as poller", "已注册为采集器"),
    "poller": ("POLLER", "采集器"),
    "sites": ("SITES", "站点"),
    "status": ("STATUS", "状态"),
    "last_seen": ("LAST SEEN", "最后心跳"),
    "acked": ("ACKED", "已确认序号"),
    "backlog": ("BACKLOG", "待上报"),
    "clock_offset": ("CLOCK OFFSET", "时钟偏差"),
    "clock_skewed": ("skewed", "偏差过大"),
    "version": ("VERSION", "版本"),
    "waiting": ("waiting for enrolment", "等待注册"),
    "active": ("active", "在线"),
    "silent": ("silent", "失联"),
    "revoked_status": ("revoked", "已吊销"),
    "link_lost_title": (
        "site link lost: poller {poller} silent",
        "站点链路中断：采集器 {poller} 失联",
    ),
    "link_lost_text": (
        "no heartbeat from poller {poller} since {since}; its {n} devices show unknown",
        "采集器 {poller} 自 {since} 起无心跳；其 {n} 台设备状态未知",
    ),
    "link_lost_title_line_down": (
        "site link lost: poller {poller} silent, line down",
        "站点链路中断：采集器 {poller} 失联，线路不通",
    ),
    "link_lost_title_poller_down": (
        "site poller down: poller {poller} silent, line up",
        "站点采集器故障：采集器 {poller} 失联，线路正常",
    ),
    "witness_line_down": (
        "The site's public address {address} does not answer either: the line is down.",
        "站点公网地址 {address} 同样不通：线路中断。",
    ),
    "witness_poller_down": (
        "The site's public address {address} answers: the line is up, the poller box is down.",
        "站点公网地址 {address} 可达：线路正常，采集器主机故障。",
    ),
    "link_back": ("poller {poller} reports again", "采集器 {poller} 已恢复上报"),
    "link_replayed": (
        "the site poller reports again; {n} journal entries replayed from the gap {from_}–{until}",
        "采集器已恢复上报；已补传中断期间（{from_}–{until}）的 {n} 条记录",
    ),
    "gap_subject": (
        "site {site}: {n} devices failed and recovered while the line was down ({from_}–{until})",
        "站点 {site}：链路中断期间（{from_}–{until}）有 {n} 台设备故障后已恢复",
    ),
    "gap_head": (
        (
            "While the line to site {site} was down ({from_}–{until}), {n} devices failed and "
            "recovered (no ticket was opened for them; they count in availability):"
        ),
        "站点 {site} 链路中断期间（{from_}–{until}），{n} 台设备发生故障并已自行恢复（未开工单，已计入可用率）：",
    ),
    "gap_line": (
        "{device} ({name}): {state} {start}–{end}",
        "{device}（{name}）：{state} {start}–{end}",
    ),
}

MAINTENANCE: dict[str, tuple[str, str]] = {
    "started": ("maintenance window started", "维护窗口已开始"),
    "ended": ("maintenance window ended", "维护窗口已结束"),
    "no_window": ("no such maintenance window", "没有该维护窗口"),
    "none": ("no maintenance windows", "没有维护窗口"),
    "configured": ("configured", "配置"),
    "active": ("active", "进行中"),
    "ahead": ("ahead", "未开始"),
    "over": ("over", "已结束"),
    "scope": ("scope", "范围"),
    "reason": ("reason", "原因"),
    "by": ("by", "登记人"),
    "next": ("next", "下次"),
}


# --- `monitord inspections|followups|warranty` (present/prevention.py) ---

PREVENTION: dict[str, tuple[str, str]] = {
    "id": ("ID", "编号"),
    "site": ("SITE", "站点"),
    "kind": ("KIND", "设备类型"),
    "period": ("PERIOD", "周期"),
    "due": ("DUE", "截止"),
    "state": ("STATE", "状态"),
    "items": ("ITEMS", "检查项"),
    "failed": ("FAILED", "不合格"),
    "item": ("ITEM", "检查项"),
    "result": ("RESULT", "结果"),
    "device": ("DEVICE", "设备"),
    "by": ("BY", "记录人"),
    "at": ("TIME", "时间"),
    "note": ("NOTE", "备注"),
    "ticket": ("TICKET", "工单"),
    "done": ("done", "已完成"),
    "open": ("open", "待完成"),
    "overdue": ("OVERDUE", "已逾期"),
    "pass": ("pass", "合格"),
    "fail": ("FAIL", "不合格"),
    "not_yet": ("-", "未检"),
    "accepted": ("ACCEPTED", "验收日期"),
    "window": ("CURRENT WINDOW", "本期回访"),
    "missed": ("MISSED", "漏访"),
    "last_visit": ("LAST VISIT", "最近回访"),
    "score": ("SCORE", "满意度"),
    "due_state": ("due", "待回访"),
    "none": ("-", "无"),
    "name": ("NAME", "名称"),
    "ends": ("WARRANTY ENDS", "保修截止"),
    "source": ("BY", "保修方"),
    "project": ("project (3-year)", "工程质保"),
    "manufacturer": ("manufacturer", "厂商保修"),
    "no_tasks": ("no inspection tasks", "没有巡检任务"),
    "no_sites": ("no site owes follow-up visits", "没有需要回访的站点"),
    "no_expiry": ("no warranty ends within", "以下期限内没有保修到期:"),
}


# --- The reports (reports/words.py) ---

REPORT: dict[str, tuple[str, str]] = {
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
    "worst_devices": ("Devices with the lowest availability", "可用率最低的设备"),
    "in_appendix": (
        "{shown} of {total} devices shown; every device's availability: appendix {file}.",
        "此处列出 {total} 台设备中的 {shown} 台;全部设备的可用率见附件 {file}。",
    ),
    "also_in_appendix": (
        "The same figures for a spreadsheet: appendix {file}.",
        "以上数据另见附件 {file}(可用电子表格打开)。",
    ),
    "lowest_sites": ("the {shown} lowest of {total} sites", "{total} 个站点中最低的 {shown} 个"),
    "more_in_appendix": (
        "{more} more devices: see the appendix file {file}.",
        "另有 {more} 台设备,见附件 {file}。",
    ),
    "appendix_title": ("Appendix: availability per device", "附件:各设备可用率"),
    "apx_site": ("Site", "站点"),
    "apx_device_id": ("Device ID", "设备编号"),
    "apx_device": ("Device", "设备名称"),
    "apx_kind": ("Kind", "类型"),
    "apx_observed_h": ("Observed (h)", "监测时长(小时)"),
    "apx_downtime_h": ("Downtime (h)", "故障时长(小时)"),
    "apx_failures": ("Failures", "故障次数"),
    "apx_tickets": ("Tickets", "工单数"),
    "apx_availability_pct": ("Availability (%)", "可用率(%)"),
    "apx_warranty_end": ("Warranty ends (soon)", "保修截止(临近)"),
}


REPORT_RECORD: dict[str, tuple[str, str]] = {
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
    "signature_drawn": ("Drawn signature", "手写签名"),
    "signature_typed": ("Signature: typed name only", "签名：仅填写姓名"),
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
    # engineer work forms and photos (kept in the state directory, named in the event)
    "photos": ("Photos ({n}, kept with the ticket)", "现场照片（{n} 张，随工单保存）"),
}


# Ticket events as the customer reads them in a record or a log.
REPORT_EVENTS: dict[str, tuple[str, str]] = {
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
    "fault_changed": ("fault changed kind (same episode)", "故障类型变化(同一故障)"),
    "comment": ("comment", "备注"),
    "sla_warning": ("deadline warning", "时限预警"),
    "sla_breach": ("deadline breached", "超出时限"),
    "assigned": ("assigned to an engineer", "派工"),
    "inspection": ("inspection item", "巡检项目"),
    "follow_up": ("follow-up visit", "用户回访"),
}


REPORT_STATUS: dict[str, tuple[str, str]] = {
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


# --- Notifications (notify/messages.py) ---

# (English, Chinese) per message kind: the headline of the subject and the SMS.
MESSAGE_HEADS: dict[str, tuple[str, str]] = {
    "opened": ("opened", "新工单"),
    "hotline": ("hotline call", "热线报修"),
    "reopened": ("reopened", "工单重开"),
    "reclassified": ("reclassified {from_} -> {to}", "级别调整 {from_} -> {to}"),
    "sla_warning": ("{milestone}: {pct} of the time used", "{milestone}: 已用时限 {pct}"),
    "sla_breach": ("{milestone} deadline passed", "{milestone} 已超时"),
    "recovered": ("device answers again", "设备已恢复"),
    "escalated": ("not acknowledged: escalation step {step}", "未确认：升级第{step}级"),
    "assigned": ("assigned to you", "已派给您"),
}


MESSAGE_LABELS: dict[str, tuple[str, str]] = {
    "ticket": ("Ticket", "工单"),
    "class": ("class", "级"),
    "site": ("Site", "站点"),
    "device": ("Device", "设备"),
    "impact": ("Affected devices", "受影响设备"),
    "due": ("Due", "时限"),
    "next": ("Nearest deadline", "最近时限"),
    "link": ("Details", "详情"),
    "delayed": (
        "Told late: the line to site {site} was down {from_}–{until}; the fault began at {at}",
        "延迟通知：站点 {site} 的链路在 {from_}–{until} 中断；故障开始于 {at}",
    ),
    # A silent poller's ticket, by its witness (sites/witness.py):
    "witness_line_down": (
        "Witness: the site's public address {address} does not answer either: the line is down",
        "旁证：站点公网地址 {address} 同样不通：线路中断",
    ),
    "witness_poller_down": (
        "Witness: the site's public address {address} answers: the line is up, the poller box is down",
        "旁证：站点公网地址 {address} 可达：线路正常，采集器主机故障",
    ),
}


# --- Early warnings (prevention/wording.py) ---

WARNING_HEADS: dict[str, tuple[str, str]] = {
    "disk_full": ("disk filling up", "磁盘将满"),
    "loss": ("packet loss rising", "丢包率上升"),
    "rtt": ("latency rising", "时延上升"),
    "interface_errors": ("interface errors growing", "端口错误增长"),
    "temperature": ("temperature rising", "温度上升"),
    "clock_drift": ("clock drift growing", "时钟偏差增大"),
    "reboots": ("repeated reboots", "频繁重启"),
    "drift": ("moved to another switch port", "接入位置变化"),
}


# (English, Chinese, format of a value) per forecast rule.
WARNING_SUBJECTS: dict[str, tuple[str, str, str]] = {
    "disk_full": ("disk {s} used", "磁盘 {s} 已用", "{:.1%}"),
    "loss": ("packet loss", "丢包率", "{:.1f}%"),
    "rtt": ("round-trip time", "往返时延", "{:.0f} ms"),
    "interface_errors": ("port {s} errors", "端口 {s} 错误", "{:.3f}/s"),
    "temperature": ("sensor {s}", "传感器 {s}", "{:.1f} °C"),
    "clock_drift": ("clock drift", "时钟偏差", "{:.1f} s"),
}


WARNING_CLEARED = ("The trend is gone: early warning cleared.", "趋势已消失：预警解除。")

# A drift finding (discovery/drift.py): a device's MAC learned at another switch port.
DRIFT_LINES = (
    (
        "{device}: MAC {mac} moved from {old_switch} port {old_port} (VLAN {old_vlan}, last seen "
        "{since}) to {new_switch} port {new_port} (VLAN {new_vlan})."
    ),
    (
        "{device}：MAC {mac} 的接入位置由 {old_switch} 端口 {old_port}（VLAN {old_vlan}，最后见于 "
        "{since}）变为 {new_switch} 端口 {new_port}（VLAN {new_vlan}）。"
    ),
)


# --- Finding summaries for a Chinese reader (health/finding_text.py): SNMP states ---
FINDING_PORT_ZH: dict[int, str] = {1: "已连通", 2: "断开", 3: "测试中", 4: "状态未知", 5: "休眠",
                                   6: "不存在", 7: "下层链路断开"}  # fmt: skip
FINDING_POE_ZH: dict[int, str] = {1: "未启用", 2: "检测中", 3: "正常供电", 4: "供电故障", 5: "测试",
                                  6: "其他故障"}  # fmt: skip
FINDING_DISK_ZH: dict[int, str] = {1: "状态未知", 2: "运行正常", 3: "告警", 4: "测试中", 5: "故障"}


# --- ONVIF addresses a device returned that monitord did not follow (checks/onvif/evaluate.py):
# {hosts} "media -> 10.9.9.9, stream -> 10.9.9.10"
FINDING_ADDRESSES: dict[str, tuple[str, str]] = {
    "refused": (
        "not following the device to {hosts}: not its own address (see follow_addresses)",
        "未跟随设备指向的地址 {hosts}：不是设备自身地址（见 follow_addresses）",
    ),
    "ok": ("every address the device returned is followed", "设备返回的地址均已采用"),
}


# --- Wording once written inline in its callers (issue 12): one block, table per caller ---

# Finding summaries for a Chinese reader (health/finding_text.py). English mirrors what the
# probes write (checks/*/evaluate.py), which the English reader gets as it is.
FINDING_TEXT: dict[str, tuple[str, str]] = {
    "port_admin_down": ("port {index} is administratively down", "端口{index}已被管理员关闭"),
    "port": ("port {index} {state}", "端口{index}{state}"),
    "poe": ("PoE port {index}: {state}", "PoE端口{index}: {state}"),
    "storage": ("disk {name}: {used:.1f}% used", "磁盘卷{name}: 已用{used:.1f}%"),
    "disk_read_only": ("disk {name}: read-only", "硬盘{name}: 只读(无法写入录像)"),
    "disk": ("disk {name}: {state}", "硬盘{name}: {state}"),
    "temperature": ("sensor {index}: {celsius:.1f} °C", "传感器{index}: {celsius:.1f} °C"),
    "tcp": ("TCP port {index} {state}", "TCP端口{index}{state}"),
    "tcp_open": ("open", "可连接"),
    "tcp_closed": ("closed", "无法连接"),
}

# Subject tags shared by ticket messages (notify/messages.py) and storm groups
# (notify/grouping.py, which tells a Chinese subject by MESSAGE_LABELS "class" in its tag).
MESSAGE_TAGS: dict[str, tuple[str, str]] = {
    "unclassified": ("[unclassified]", "[未定级]"),
    "class": ("[class {cls}]", "[{cls}级]"),
    "storm_subject": ("{tag} site {site}: {n} messages", "{tag} 站点 {site}: {n} 条消息"),
    "storm_more": (
        "… and {more} more (monitord outbox / tickets)",
        "…… 另有 {more} 条 (monitord outbox / tickets)",
    ),
    "test_message": ("monitord test message", "测试消息"),
    "delayed": ("[delayed]", "[延迟]"),
}

# The daily digest (notify/digest.py); in English a status is its value as it is.
DIGEST: dict[str, tuple[str, str]] = {
    "subject": (
        "[digest] {contract}: {n} open class {which} tickets ({day})",
        "[日报] {contract}: 未关闭 {which} 级工单 {n} 张 ({day})",
    ),
    "more": ("… and {more} more", "…… 另有 {more} 张"),
}

DIGEST_STATUS: dict[str, tuple[str, str]] = {
    "open": ("open", "待响应"),
    "acknowledged": ("acknowledged", "已响应"),
    "on_site": ("on_site", "已到场"),
    "diagnosed": ("diagnosed", "已诊断"),
    "planned": ("planned", "已定方案"),
    "in_progress": ("in_progress", "处理中"),
    "resolved": ("resolved", "已修复"),
    "verified": ("verified", "已验证"),
}

# The lines of an early warning (prevention/wording.py); {what} is a WARNING_SUBJECTS entry.
WARNING_LINES: dict[str, tuple[str, str]] = {
    "now": ("{what}: {value} now, {slope} a day", "{what}：当前 {value}，每天变化 {slope}"),
    "never": ("{now}; not heading for {limit}", "{now}；不会达到 {limit}"),
    "reaches": (
        "{now}; reaches {limit} in about {days:.1f} days ({when} {zone})",
        "{now}；预计约 {days:.1f} 天后（{when} {zone}）达到 {limit}",
    ),
    "reboots": (
        "{count} reboots in the last {hours} h (warning at {limit})",
        "最近 {hours} 小时内重启 {count} 次（预警阈值 {limit} 次）",
    ),
}

# Titles of prevention tickets, shown in both languages at once ("Chinese / English: ...").
PREVENTION_TITLES: dict[str, tuple[str, str]] = {
    "inspection_failed": ("inspection failed", "巡检不合格"),
    "warranty_ending": ("warranty ending within {days} days", "保修即将到期"),
    "followup_quality": ("follow-up: quality problem", "回访反馈质量问题"),
}


def both_title(key: str, **values: object) -> str:
    """A PREVENTION_TITLES entry as "Chinese / English", both formatted with `values`."""
    en, zh = PREVENTION_TITLES[key]
    return f"{zh.format(**values)} / {en.format(**values)}"


# `monitord oncall` (cli/oncall.py): who is on call now.
ONCALL: dict[str, tuple[str, str]] = {
    "person": ("{name} ({id})", "{name}（{id}）"),
    "head": (
        "rotation {id} ({zone}): on call {person}",
        "值班表 {id}（{zone}）：当前值班 {person}",
    ),
    "phone": (", phone {phone}", "，电话 {phone}"),
    "covering": (", covering for {person}", "，代替 {person}"),
    "shift": (
        "{head}\n  since {start}; next hand-over {end} -> {next}",
        "{head}\n  自 {start} 起；下次交接 {end} → {next}",
    ),
    "nobody": ("-", "—"),
}

# `monitord ticket show` (cli/tickets.py): repair terms, shown in both languages at once.
REPAIR: dict[str, tuple[str, str]] = {
    "repair": ("repair", "维修"),
    "free": ("free", "免费"),
    "at_cost": ("at cost", "有偿"),
    "warranty_end": ("warranty end", "保修截止"),
}

# The web console (monitord/console/): every word its pages and `monitord users` show.
CONSOLE: dict[str, tuple[str, str]] = {
    "app": ("monitord console", "monitord 运维控制台"),
    "sign_in": ("Sign in", "登录"),
    "name": ("Name", "用户名"),
    "password": ("Password", "密码"),
    "sign_out": ("Sign out", "退出登录"),
    "sign_out_everywhere": ("Sign out everywhere", "在所有设备上退出"),
    "bad_login": ("Wrong name or password.", "用户名或密码错误。"),
    "locked": ("Too many wrong passwords: try again later.", "密码错误次数过多，请稍后再试。"),
    "slow_down": ("Too many attempts: wait a minute.", "尝试过于频繁，请一分钟后再试。"),
    "expired": ("The form has expired: please try again.", "表单已过期，请重试。"),
    "mine": ("My tickets", "我的工单"),
    "tickets": ("Tickets", "工单"),
    "wallboard": ("Wallboard", "监控大屏"),
    "no_tickets": ("No open tickets.", "没有未完成的工单。"),
    "prev_page": ("Previous", "上一页"),
    "next_page": ("Next", "下一页"),
    "ticket": ("Ticket", "工单"),
    "site": ("Site", "站点"),
    "device": ("Device", "设备"),
    "class": ("Class", "等级"),
    "status": ("Status", "状态"),
    "opened": ("Opened", "创建时间"),
    "next_deadline": ("Next deadline", "最近时限"),
    "clocks": ("SLA clocks", "服务时限"),
    "due": ("due", "到期"),
    "met": ("met", "已达成"),
    "breached": ("BREACHED", "已超时"),
    "paused": ("paused", "已暂停"),
    "left": ("left", "剩余"),
    "overdue": ("overdue", "超时"),
    "log": ("Log", "处理记录"),
    "note": ("Note (optional)", "备注（可选）"),
    "act_ack": ("Acknowledge", "接单"),
    "act_onway": ("On my way", "已出发"),
    "act_onsite": ("On site", "已到场"),
    "act_resolve": ("Resolved", "已修复"),
    "done": ("Recorded.", "已记录。"),
    "not_now": ("Not possible now", "当前状态不可操作"),
    "signoff": ("Sign off the repair", "维修验收"),
    "approve": ("Approve", "验收通过"),
    "reject": ("Reject", "验收不通过"),
    "your_name": ("Your name", "您的姓名"),
    "comment": ("Comment", "意见"),
    "reject_needs_comment": ("A rejection needs a comment.", "不通过时必须填写意见。"),
    "approve_needs_name": ("An approval needs your name.", "验收通过需要填写姓名。"),
    "awaiting_signoff": ("Awaiting your sign-off", "等待您验收"),
    "approved": ("Approved: thank you.", "已验收，谢谢。"),
    "rejected": ("Rejected: the ticket is open again.", "未通过验收：工单已重新打开。"),
    "as_of": ("data as of", "数据时间"),
    "connection_lost": ("connection lost", "连接已断开"),
    "sites": ("Sites", "站点"),
    "open_tickets": ("open tickets", "未完成工单"),
    "language": ("中文", "English"),
    "not_found": ("Not found.", "未找到。"),
    "forbidden": ("You may not do this.", "您无权进行此操作。"),
    "user_added": ("user added", "已添加用户"),
    "password_set": ("password set", "已设置密码"),
    "user_disabled": ("user disabled", "已停用用户"),
    "display_name": ("display name", "显示名称"),
    "role": ("role", "角色"),
    "contract": ("contract", "合同"),
    "state": ("state", "状态"),
    "st_open": ("open", "待接单"),
    "st_acknowledged": ("acknowledged", "已接单"),
    "st_on_site": ("on site", "已到场"),
    "st_diagnosed": ("diagnosed", "已诊断"),
    "st_planned": ("planned", "已制定方案"),
    "st_in_progress": ("in progress", "维修中"),
    "st_resolved": ("resolved", "已修复"),
    "st_verified": ("verified", "已验收"),
    "st_closed": ("closed", "已关闭"),
    "ms_on_site": ("on site", "到场"),
    "ms_plan": ("plan", "维修方案"),
    "ms_respond": ("respond", "响应"),
    "ms_first_reply": ("first reply", "首次答复"),
    "ms_closed": ("closed", "完成"),
    "ms_dispatch": ("dispatch", "派工"),
    "ms_fixed": ("fixed", "修复"),
    "ms_solution": ("solution", "解决方案"),
    "ev_opened": ("opened", "创建"),
    "ev_acknowledged": ("acknowledged", "接单"),
    "ev_on_site": ("on site", "到场"),
    "ev_resolved": ("resolved", "修复"),
    "ev_verified": ("signed off", "验收通过"),
    "ev_reopened": ("reopened", "重新打开"),
    "ev_comment": ("comment", "备注"),
    "ev_assigned": ("assigned", "派工"),
    "ev_paused": ("paused", "暂停"),
    "ev_resumed": ("resumed", "恢复计时"),
    "ev_recovered": ("device answers again", "设备恢复"),
    "ev_sla_warning": ("deadline warning", "时限预警"),
    "ev_sla_breach": ("deadline breached", "已超时"),
    "ev_escalated": ("escalated", "升级通知"),
    "ev_reclassified": ("reclassified", "级别调整"),
    "ev_impact": ("more devices affected", "影响扩大"),
    "ev_fault_changed": ("fault changed", "故障类型变化"),
    "ev_diagnosis": ("diagnosis", "诊断报告"),
    "ev_plan": ("plan", "维修方案"),
    "ev_stage": ("stage report", "阶段报告"),
    "ev_closed": ("closed", "关闭"),
    "assign": ("Assign to", "派工给"),
    "assign_send": ("Assign", "派工"),
    "assigned_to": ("Assigned to", "负责工程师"),
    "assigned": ("Assigned.", "已派工。"),
    "unassigned": ("nobody yet", "未派工"),
    "filter": ("Filter", "筛选"),
    "any": ("any", "全部"),
    "en_route": ("on the way", "已出发"),
    "report": ("Report a fault", "报修"),
    "report_site": ("Where", "报修站点"),
    "report_text": ("What is wrong", "故障描述"),
    "report_send": ("Send the report", "提交报修"),
    "report_needs_site": ("Choose the site.", "请选择站点。"),
    "report_needs_text": ("Say what is wrong.", "请填写故障描述。"),
    "reported": (
        "Reported: the engineer on call is paged; the first-reply clock runs.",
        "已报修：已通知值班工程师，首次答复计时开始。",
    ),
    "link_gone": (
        "This link has been used or has expired: sign in instead.",
        "此链接已使用或已过期，请登录。",
    ),
    "link_for": ("A one-time link for", "一次性登录链接，仅限"),
    "link_open": ("Open the ticket", "打开工单"),
    "demo_open": ("Web console: open", "Web 控制台：打开"),
    "demo_accounts": ("Demo accounts (name, password):", "演示账号（用户名、密码）："),
    "demo_engineer": (
        "engineer: acknowledge the outage's ticket (try a phone-sized window)",
        "工程师：接单处理故障工单（可用手机尺寸窗口）",
    ),
    "demo_dispatcher": ("dispatcher: the wallboard", "调度员：监控大屏"),
    "demo_customer": ("customer: sign off the repair", "客户：验收维修"),
    # device page and dispatcher views (console/devices.py, console/ops.py)
    "probe_now": ("Probe now", "立即检测"),
    "probed": ("Probed: the result is below.", "检测完成，结果见下方。"),
    "probe_busy": ("A probe of this device is running.", "该设备正在检测中。"),
    "probe_too_soon": ("Probed a moment ago: wait a few seconds.", "刚刚检测过，请稍候几秒。"),
    "probe_remote": (
        "Probe runs at the site poller — not available yet.",
        "该站点由现场采集器检测——暂不支持立即检测。",
    ),
    "probe_at_poller": ("Runs at the site poller", "由现场采集器执行检测"),
    "probe_ran_local": ("Probed by the centre", "由中心执行检测"),
    "probe_ran_at": ("Probed by the site poller", "由现场采集器执行检测"),
    # the command channel to site pollers (sites/commands.py)
    "cmd_unknown_poller": ("The site's poller is not enrolled.", "该站点的现场采集器尚未注册。"),
    "cmd_revoked": ("The site's poller is revoked.", "该站点的现场采集器已被吊销。"),
    "cmd_silent": (
        "The site's poller is silent (no heartbeat): it cannot take commands now.",
        "该站点的现场采集器失联（无心跳），暂时无法执行命令。",
    ),
    "cmd_not_connected": (
        "The site's poller is not connected to this centre.",
        "该站点的现场采集器未连接到本中心。",
    ),
    "cmd_too_old": (
        "The site's poller is too old to take commands: upgrade it.",
        "该站点的现场采集器版本过旧，不支持命令，请升级。",
    ),
    "cmd_busy": ("The site's poller has too many commands waiting.", "现场采集器待执行命令过多。"),
    "cmd_not_delivered": (
        "The site's poller did not take the command in time.",
        "现场采集器未及时接收命令。",
    ),
    "cmd_timeout": ("The site's poller did not answer in time.", "现场采集器未在时限内回复。"),
    "cmd_failed": ("The command failed at the site's poller.", "命令在现场采集器上执行失败。"),
    "cmd_no_device": (
        "The site's poller does not know this device yet.",
        "现场采集器尚未收到该设备的配置。",
    ),
    "cmd_discovering": (
        "A discovery is already running at this site.",
        "该站点已有一次设备发现正在进行。",
    ),
    "cmd_unknown_command": ("No such command.", "没有该命令。"),
    "cmd_bad_answer": (
        "The site's poller sent an answer that is not a change set.",
        "现场采集器返回的结果不是有效的变更集。",
    ),
    "probe_reachable": ("Reachable", "设备可达"),
    "probe_unreachable": ("NOT reachable", "设备不可达"),
    "probe_timeout": ("The probe did not finish in time.", "检测超时未完成。"),
    "probe_loss": ("loss", "丢包"),
    "history": ("History (hourly)", "历史曲线（每小时）"),
    "no_history": ("No history recorded yet.", "暂无历史数据。"),
    "chart_hourly": ("hourly mean", "小时均值"),
    "chart_forecast": ("forecast", "趋势预测"),
    "chart_limit": ("limit", "阈值"),
    "chart_time": ("time", "时间"),
    "chart_loss": ("Packet loss", "丢包率"),
    "chart_rtt": ("Round-trip time", "往返时延"),
    "chart_disk_full": ("Disk used", "磁盘使用率"),
    "chart_temperature": ("Temperature", "温度"),
    "device_tickets": ("Tickets of this device", "该设备的工单"),
    "operation_record": ("Operation record", "运行记录"),
    "no_record": ("Nothing recorded yet.", "暂无记录。"),
    "ops": ("Dispatch", "调度"),
    "oncall": ("On call", "值班"),
    "oncall_now": ("Now", "当前值班"),
    "oncall_next": ("Next", "下一班"),
    "oncall_nobody": ("no rotation", "未排班"),
    "owed": ("Inspections and follow-ups owed", "待完成的巡检与回访"),
    "owed_none": ("Nothing owed.", "没有待完成的巡检或回访。"),
    "inspection": ("Inspection", "巡检"),
    "followup": ("Follow-up visit", "回访"),
    "duty_open": ("owed", "待完成"),
    "duty_due": ("owed", "待完成"),
    "duty_overdue": ("OVERDUE", "已逾期"),
    "duty_done": ("done", "已完成"),
    "missed": ("missed", "漏做"),
    "windows": ("Maintenance windows", "维护窗口"),
    "windows_none": ("No maintenance windows.", "没有维护窗口。"),
    "win_active": ("running", "进行中"),
    "win_ahead": ("ahead", "未开始"),
    "win_over": ("over", "已结束"),
    "window_device": ("Device (optional)", "设备（可选）"),
    "window_length": ("For how long (30m, 2h)", "时长（如 30m、2h）"),
    "window_reason": ("Reason", "原因"),
    "window_start": ("Start a window now", "立即开始维护窗口"),
    "window_end": ("End now", "立即结束"),
    "window_started": (
        "Window started: no tickets for what it covers.",
        "维护窗口已开始：期间不生成工单。",
    ),
    "window_ended": ("Window ended.", "维护窗口已结束。"),
    "window_bad": (
        "Not started: name a site or device, a length up to 31 days and a reason.",
        "未开始：请选择站点或设备，时长不超过 31 天，并填写原因。",
    ),
    "window_none": ("No such window.", "没有该维护窗口。"),
    "monthly": ("Monthly report", "月度报告"),
    "month": ("Month", "月份"),
    "monthly_open": ("Open", "查看"),
    # customer sign-off and survey
    "sign_here": ("Sign here", "请在此处签名"),
    "sign_clear": ("Clear", "清除"),
    "sign_typed_only": (
        "Without a drawn signature, your typed name is recorded.",
        "未手写签名时，记录您填写的姓名。",
    ),
    "signature_bad": (
        "The signature could not be read: draw it again.",
        "无法读取签名，请重新签名。",
    ),
    "signature_too_big": (
        "The signature is too large: clear it and sign again.",
        "签名图片过大，请清除后重新签名。",
    ),
    "signature_size": ("The signature pad's size is not accepted.", "签名板尺寸不符合要求。"),
    "signature_blank": (
        "The signature is empty: sign on the pad, or clear it.",
        "签名为空：请在签名板上签名，或清除签名。",
    ),
    "signature": ("Signature", "签名"),
    "typed_name_only": ("typed name only", "仅填写姓名"),
    "doubt": (
        "Your comment says “{phrase}”: approve anyway, or reject?",
        "您的意见中写有“{phrase}”：仍然验收通过，还是不通过？",
    ),
    "approve_anyway": ("Approve anyway", "仍然验收通过"),
    "signoff_link_for": ("Sign-off of the repair, ticket", "维修验收 · 工单"),
    "signoff_gone": (
        "This sign-off link has been used or has expired. Ask the service centre for a new one.",
        "此验收链接已使用或已过期，请联系服务中心重新发送。",
    ),
    "signoff_staff": (
        "A staff session cannot sign as the customer: the customer signs on their own device.",
        "工作人员的登录会话不能代替客户签字，请由客户在自己的设备上签字。",
    ),
    "signoff_thanks": ("Thank you: your sign-off is recorded.", "谢谢，您的验收已记录。"),
    "reject_thanks": (
        "Thank you: the ticket is open again and the engineer is told.",
        "谢谢，工单已重新打开并通知工程师。",
    ),
    "survey": ("Follow-up survey", "用户回访反馈"),
    "survey_attitude": ("Service attitude", "服务态度"),
    "survey_responsibility": ("Sense of responsibility", "责任心"),
    "survey_effect": ("Result of the service", "服务效果"),
    "survey_score": ("Overall satisfaction (0-100)", "满意度评分（0-100）"),
    "survey_problems": ("Problems you found", "发现的问题"),
    "survey_suggestions": ("Suggestions", "意见和建议"),
    "survey_send": ("Send the survey", "提交反馈"),
    "survey_bad": ("Ratings are 1-5 and the score 0-100.", "评价为 1-5 分，满意度评分为 0-100。"),
    "survey_thanks": ("Thank you for your feedback.", "感谢您的反馈。"),
    "survey_gone": (
        "This survey link has been used or has expired.",
        "此回访链接已使用或已过期。",
    ),
    "rating_1": ("1 very dissatisfied", "1 很不满意"),
    "rating_2": ("2 dissatisfied", "2 不满意"),
    "rating_3": ("3 acceptable", "3 一般"),
    "rating_4": ("4 satisfied", "4 满意"),
    "rating_5": ("5 very satisfied", "5 很满意"),
    "monthly_month": ("Month", "月份"),
    "monthly_contract": ("Contract", "合同"),
    "monthly_get": ("Download", "下载"),
    "msg_signoff_subject": (
        "Ticket #{id} is repaired: please sign off",
        "工单 #{id} 已修复，请验收",
    ),
    "msg_signoff_body": (
        "{title}\nOpen the link to approve the repair (with your signature) or reject it. It works once, for 72 hours.",
        "{title}\n请打开链接验收（手写签名）或提出不通过意见。链接仅可使用一次，72 小时内有效。",
    ),
    "msg_survey_subject": ("Ticket #{id}: how was our service?", "工单 #{id}：请评价我们的服务"),
    "msg_survey_body": (
        "{title}\nThe follow-up survey takes a minute. The link works once, for 72 hours.",
        "{title}\n用户回访反馈只需一分钟。链接仅可使用一次，72 小时内有效。",
    ),
    "monthly_bad": ("Choose a month (YYYY-MM) that has begun.", "请选择已开始的月份（YYYY-MM）。"),
    # engineer work forms and photos
    "act_diagnose": ("Diagnosis report", "故障诊断报告"),
    "act_plan": ("Repair plan", "维修方案"),
    "act_stage": ("Stage report", "阶段报告"),
    "act_pause": ("Pause the clock", "暂停计时"),
    "act_resume": ("Resume the clock", "恢复计时"),
    "text_diagnose": (
        "What you found, the class, what was done at once",
        "现场情况、故障等级、应急处理",
    ),
    "text_plan": ("How it will be repaired and when", "维修与恢复方案及时间"),
    "text_stage": ("Where the repair stands", "维修进展"),
    "text_resolve": ("Work report: what was repaired", "维修工作报告：维修内容"),
    "photos": ("Photos", "照片"),
    "photo": ("photo", "照片"),
    "location": ("location", "位置"),
    "pause_reason": (
        "Why pause (waiting for the customer, for parts...)",
        "暂停原因（等待客户、等待备件……）",
    ),
    "resume_reason": ("Why resume", "恢复原因"),
    "pause_needs_reason": ("A pause or resume needs a reason.", "暂停或恢复计时必须填写原因。"),
    "work_needs_text": ("A report needs its text.", "报告内容不能为空。"),
    "work_refused": ("Not recorded", "未记录"),
    "back_to_ticket": ("Back to the ticket", "返回工单"),
    "photo_too_large": ("A photo is larger than {mb} MB.", "照片超过 {mb} MB。"),
    "photo_too_many": ("At most {n} photos at once.", "每次最多 {n} 张照片。"),
    "photo_not_image": ("Only JPEG, PNG or WebP photos.", "只接受 JPEG、PNG 或 WebP 照片。"),
    "photo_ticket_full": ("This ticket has no room for more photos.", "该工单的照片已达上限。"),
    # sign-in from the WeCom / DingTalk / Feishu in-app browser (console/oauth.py)
    "provider_wecom": ("WeCom", "企业微信"),
    "provider_dingtalk": ("DingTalk", "钉钉"),
    "provider_feishu": ("Feishu / Lark", "飞书"),
    "oauth_with": ("Sign in with {provider}", "使用{provider}登录"),
    "oauth_failed": ("Sign-in with {provider} did not work", "{provider}登录未成功"),
    "oauth_state": (
        "This sign-in has expired or was opened in another browser: please start again.",
        "本次登录已过期，或是在另一个浏览器中打开的，请重新开始。",
    ),
    "oauth_cancelled": ("The sign-in was cancelled in {provider}.", "已在{provider}中取消登录。"),
    "oauth_provider": (
        "{provider} did not answer as expected. Try again in a minute, or sign in with your name and password.",
        "{provider}未能正常响应。请稍后重试，或使用用户名和密码登录。",
    ),
    "oauth_unlinked": (
        "Your {provider} account ({id}) is not linked to a console account. Ask the administrator to link it.",
        "您的{provider}账号（{id}）尚未关联控制台账号，请联系管理员关联。",
    ),
    "oauth_disabled": ("This console account is disabled.", "该控制台账号已停用。"),
    "oauth_again": ("Start again", "重新登录"),
    "oauth_password": ("Sign in with name and password", "使用用户名和密码登录"),
    "oauth_signed_in": ("Signed in", "登录成功"),
    "oauth_continue": ("Continue", "继续"),
    "identities": ("linked", "关联账号"),
    "identity_linked": ("Linked", "已关联"),
    "identity_unlinked": ("Unlinked", "已取消关联"),
    # a site's discovery page (console/discovery.py)
    "disc_title": ("Discover", "设备发现"),
    "disc_start": ("Start discovery", "开始发现"),
    "disc_again": ("Run discovery again", "重新发现"),
    "disc_cancel": ("Cancel the run", "取消本次发现"),
    "disc_running_by": ("Running, started by", "正在运行，发起人"),
    "disc_ranges": ("ranges", "范围"),
    "disc_stage": ("stage", "阶段"),
    "disc_addresses": ("addresses in the ranges", "范围内地址"),
    "disc_probed": ("probes sent", "已发探测"),
    "disc_found": ("devices found", "发现设备"),
    "disc_walked": ("switches walked", "已读交换机"),
    "disc_stage_wsd": ("WS-Discovery probe", "WS-Discovery 探测"),
    "disc_stage_sadp": ("Hikvision SADP", "海康 SADP 探测"),
    "disc_stage_sweep": ("ONVIF sweep", "ONVIF 扫描"),
    "disc_stage_identify": ("reading identities", "读取设备身份"),
    "disc_stage_snmp": ("reading switch tables", "读取交换机表"),
    "disc_stage_topology": ("working out the topology", "推断拓扑"),
    "disc_stage_done": ("proposing changes", "生成变更建议"),
    "disc_proposal": ("Proposed changes", "变更建议"),
    "disc_no_changes": (
        "No changes: the configuration matches the network.",
        "无变化：配置与网络一致。",
    ),
    "disc_apply": ("Apply selected", "应用所选变更"),
    "disc_finding": ("a finding, nothing to write", "仅供核实，不写入配置"),
    "dchange_new": ("New", "新设备"),
    "dchange_address": ("Address changed", "地址变化"),
    "dchange_firmware": ("Firmware changed", "固件变化"),
    "dchange_moved": ("Moved", "端口迁移"),
    "dchange_parent": ("Parent changed", "上级已变化"),
    "dchange_parent_found": ("Parent found", "发现上级设备"),
    "dchange_parent_wrong": ("Wrong configured parent", "配置的上级有误"),
    "dchange_missing": ("Missing", "未发现"),
    "dchange_facts": ("Facts to fill", "补全资料"),
    "disc_applied_to": ("Written to", "已写入"),
    "disc_added": ("added", "新增"),
    "disc_updated": ("updated", "更新"),
    "disc_reloaded_yes": ("the daemon runs on it now", "守护进程已重新加载配置"),
    "disc_reload_failed": (
        "the daemon refused the new configuration; the old one runs",
        "守护进程拒绝了新配置，仍在使用旧配置",
    ),
    "disc_nothing_written": ("nothing to write", "无需写入"),
    "disc_elsewhere": (
        "configured in another file, change not written",
        "配置在其他文件中，变更未写入",
    ),
    "ev_no_identity": ("answers ONVIF, no identity: {error}", "响应 ONVIF 但无法读取身份：{error}"),
    "ev_new_camera": ("{what}", "{what}"),
    "ev_new_camera_at": ("{what} on {parent} port {port}", "{what}，位于 {parent} 端口 {port}"),
    "ev_facts": ("the record lacks: {fields}", "记录缺少：{fields}"),
    "ev_address": ("was {old}", "原地址 {old}"),
    "ev_firmware": ("{old} -> {new}", "{old} -> {new}"),
    "ev_moved": (
        "{old_switch} port {old_port} -> {switch} port {port}",
        "{old_switch} 端口 {old_port} -> {switch} 端口 {port}",
    ),
    "ev_parent_port": (
        "configured under {configured}, but its MAC is on {parent} port {port}",
        "配置的上级为 {configured}，但其 MAC 出现在 {parent} 端口 {port}",
    ),
    "ev_parent_changed": (
        "was on {old} port {old_port} at the last table read; its MAC is now on {parent} port {port}",
        "上次读取转发表时位于 {old} 端口 {old_port}；其 MAC 现在出现在 {parent} 端口 {port}",
    ),
    "ev_parent_found_port": (
        "its MAC is on {parent} port {port}",
        "其 MAC 出现在 {parent} 端口 {port}",
    ),
    "ev_parent_found_lldp": ("LLDP puts it below {parent}", "LLDP 显示其位于 {parent} 之下"),
    "ev_parent_lldp": (
        "configured under {configured}, but LLDP puts it below {parent}",
        "配置的上级为 {configured}，但 LLDP 显示其位于 {parent} 之下",
    ),
    "ev_new_switch": ("{descr}", "{descr}"),
    "ev_hub": (
        "{count} camera MACs on {switch} port {port}, no LLDP neighbour",
        "{switch} 端口 {port} 下有 {count} 个摄像机 MAC，且无 LLDP 邻居",
    ),
    "ev_missing": ("configured, in the ranges, not seen", "已配置、在发现范围内，但未发现"),
    "disc_history": ("Applied before", "应用记录"),
    "disc_back": ("Back to the site", "返回站点"),
    "disc_state_failed": ("The run failed; nothing was proposed", "本次发现失败，没有生成建议"),
    "disc_state_cancelled": (
        "The run was cancelled; nothing was proposed",
        "本次发现已取消，没有生成建议",
    ),
    "disc_not_configured": (
        "This site has no discovery ranges configured (sites[].discovery.ranges).",
        "该站点未配置发现范围（sites[].discovery.ranges）。",
    ),
    "disc_at_poller": (
        "Discovery of this site runs at the site's poller, and this console has no link to "
        + "the site pollers.",
        "该站点的设备发现在站点采集器上运行，但本控制台没有到站点采集器的连接。",
    ),
    "disc_poller": ("Site poller:", "站点采集器："),
    "disc_runs_at": (
        "Runs at the site's poller (it probes; the proposal is applied here):",
        "在站点采集器上运行（由采集器探测，建议在中心应用）：",
    ),
    "disc_no_daemon": (
        "Discovery runs only in the running daemon's console.",
        "设备发现只能在运行中的守护进程控制台中进行。",
    ),
    "disc_notice_started": ("Discovery started.", "设备发现已开始。"),
    "disc_notice_running": (
        "A run of this site is already under way: here it is.",
        "该站点已有一次发现正在运行，显示如下。",
    ),
    "disc_notice_cancelled": ("Cancelled.", "已取消。"),
    "disc_notice_disc_stale": (
        "That proposal is no longer current; review this one.",
        "该建议已过期，请查看当前建议。",
    ),
    "disc_notice_disc_pick_none": ("Pick at least one change to apply.", "请至少选择一项变更。"),
    "disc_notice_apply_failed": (
        "Not applied: the result would not be a valid configuration.",
        "未应用：结果不是有效的配置。",
    ),
    "disc_notice_unavailable": (
        "Discovery is not available for this site.",
        "该站点无法进行设备发现。",
    ),
    # offline queue (console/static/offline.js, console/actions.py)
    "queue_waiting": ("actions waiting to send (no signal)", "个操作等待发送（无信号）"),
    "queue_waiting_one": ("action waiting to send (no signal)", "个操作等待发送（无信号）"),
    "queue_refused": (
        "queued actions were refused by the server (the ticket had moved on)",
        "个排队操作被服务器拒绝（工单状态已变化）",
    ),
}

# Phrases that make an approval's comment read like a rejection (GLPI #24519): the console
# asks again before it records such an approval. Lower case; matched as substrings.
SIGNOFF_DOUBTS: tuple[str, ...] = (
    "未解决", "没解决", "没有解决", "部分解决", "还是不行", "仍不行", "没修好", "未修好", "仍然",
    "依然", "还是坏", "还没好", "不能用", "无法使用", "不正常", "有问题", "不满意",
    "not fixed", "unfixed", "not resolved", "unresolved", "partially", "partly", "still broken",
    "still not", "still down", "still dark", "doesn't work", "does not work", "not working",
    "isn't working", "is not working", "broken", "not ok", "reject",
)  # fmt: skip


def detect(explicit: str | None = None) -> str:
    """'zh' or 'en': an explicit choice, else MONITORD_LANG, else the locale."""
    choice = explicit or os.environ.get("MONITORD_LANG") or os.environ.get("LANG", "")
    return "zh" if choice.lower().startswith("zh") else "en"


# `monitord check`'s warnings about unsafe settings (config/weak.py), with their values.
WEAK: dict[str, tuple[str, str]] = {
    "short_token": (
        "api token {name!r} is {length} characters long; use at least {minimum}",
        "API 令牌 {name!r} 只有 {length} 个字符;至少应有 {minimum} 个",
    ),
    "plain_http": (
        "{what} listens on {listen}, beyond loopback, in plain HTTP; put TLS in front and "
        + "set {what}.behind_tls: true",
        "{what} 在回环地址之外({listen})以明文 HTTP 监听;请在前面加 TLS 并设置 "
        + "{what}.behind_tls: true",
    ),
    "inline_header": (
        "sms channel {channel!r}: header {header!r} holds a secret in plain text; use "
        + "{{env: ...}} or {{file: ...}}",
        "短信通道 {channel!r}:请求头 {header!r} 以明文保存密钥;请改用 {{env: ...}} 或 "
        + "{{file: ...}}",
    ),
    "warning_prefix": ("warning", "警告"),
}


def word(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    """`key` of `table` in the reader's language; an unknown key is shown as it is."""
    en, zh = table.get(key, (key, key))
    return zh if lang == "zh" else en


def t(key: str, lang: str) -> str:
    return word(CLI, key, lang)


def field(key: str, lang: str) -> str:
    return word(ARCHIVE_FIELDS, key, lang)
