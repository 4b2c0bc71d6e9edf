"""Demo unit reports: last month's grid with on-time, late and missing reports and its consolidated report; this
month's reports opened, one with a draft."""

from __future__ import annotations

import datetime
import io

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from households.models import Unit

from . import services
from .models import MonthlyReport, ReportKind


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def stamped_scan(unit: str) -> bytes:
    """A stand-in for a scanned page: the unit's name and a red seal, as a PNG."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("RGB", (620, 877), "white")
    draw = ImageDraw.Draw(page)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 26)
    except OSError:
        font = ImageFont.load_default()
    draw.text((60, 80), f"{unit}（演示盖章件）", fill="black", font=font)
    for line in range(12):
        draw.line((60, 160 + line * 40, 560, 160 + line * 40), fill="#999999", width=2)
    draw.ellipse((380, 640, 540, 800), outline="#c8102e", width=6)
    draw.text((405, 705), unit[:5], fill="#c8102e", font=font)
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    return buffer.getvalue()


def seed_reports(admin) -> None:
    if MonthlyReport.objects.exists():
        return
    User = get_user_model()
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    services.open_reports(kind=ReportKind.MONTHLY, day=last_month)
    services.open_reports(kind=ReportKind.MONTHLY, day=today)
    xinqiao, shuangyang = User.objects.get(username="xinqiao"), User.objects.get(username="shuangyang")
    units = {
        unit.township.code: unit for unit in Unit.objects.filter(kind=Unit.Kind.TOWNSHIP).select_related("township")
    }
    filed = [
        (xinqiao, units["350881100"], 15, "完成新一轮入户排查（演示）", "发现2户漏报鉴定，已督促补鉴定（演示）"),
        (shuangyang, units["350881101"], 25, "推进危房改造开工（演示）", "无（演示）"),
    ]
    for user, unit, day, progress, problems in filed:
        report = MonthlyReport.objects.get(unit=unit, kind=ReportKind.MONTHLY, period=last_month)
        services.save_report(
            actor=user,
            report=report,
            progress=progress,
            problems_handled=problems,
            submit=True,
            now=_at(last_month.replace(day=day), 10),
        )
        if unit.township.code == "350881100":  # 新桥镇 uploads the scan of its signed and stamped report
            services.receive_stamped_copy(
                actor=user, report=report, uploaded_file=SimpleUploadedFile("盖章件.png", stamped_scan(unit.name))
            )
    services.mark_late_reports(day=last_month.replace(day=settings.REPORT_DUE_DAY))
    services.build_consolidated_report(day=last_month.replace(day=settings.REPORT_DUE_DAY))
    current = MonthlyReport.objects.get(unit=units["350881100"], kind=ReportKind.MONTHLY, period=today.replace(day=1))
    services.save_report(
        actor=xinqiao, report=current, progress="本月完成3户危房改造竣工验收（演示）", problems_handled="", submit=False
    )
    if timezone.now() > services.deadline(current):
        services.mark_late_reports(day=today)


def seed_plan_followups(admin) -> None:
    """Last year's data sent to Longyan and passed, the year before returned, sent again and passed (this year's not
    yet: the home and dashboard say so); the demo official guides three townships this year (包片) and has drawn a
    spot check in them."""
    from inspections import services as inspection_services
    from inspections.models import GuidanceAssignment, SpotCheck

    from . import submissions
    from .models import DataSubmission

    User = get_user_model()
    today = timezone.localdate()
    last_year = today.year - 1
    if not DataSubmission.objects.filter(year=last_year).exists():
        sent = submissions.record_submission(
            actor=admin,
            year=last_year,
            sent_on=datetime.date(last_year, 5, 20),
            recipient=submissions.DEFAULT_RECIPIENT,
            method="省级系统报送，公文交换报送函（演示）",
            attach_exports=True,
        )
        submissions.record_review(
            actor=admin,
            submission=sent,
            review=DataSubmission.Review.PASSED,
            remarks="数据完整，审核通过（演示）",
            reviewed_on=datetime.date(last_year, 6, 12),
        )
    before = today.year - 2  # returned by Longyan, corrected and sent again, then passed
    if not DataSubmission.objects.filter(year=before).exists():
        first = submissions.record_submission(
            actor=admin, year=before, sent_on=datetime.date(before, 5, 15), recipient=submissions.DEFAULT_RECIPIENT,
            method="省级系统报送（演示）", attach_exports=True,
        )  # fmt: skip
        submissions.record_review(
            actor=admin, submission=first, review=DataSubmission.Review.RETURNED,
            remarks="部分危房缺少鉴定表，请补齐后重新报送（演示）", reviewed_on=datetime.date(before, 5, 26),
        )  # fmt: skip
        again = submissions.record_submission(
            actor=admin, year=before, sent_on=datetime.date(before, 5, 30), recipient=submissions.DEFAULT_RECIPIENT,
            method="省级系统报送，补齐鉴定表（演示）", attach_exports=True,
        )  # fmt: skip
        submissions.record_review(
            actor=admin, submission=again, review=DataSubmission.Review.PASSED, reviewed_on=datetime.date(before, 6, 9)
        )
    official = User.objects.filter(username="official").first()
    if official is None or GuidanceAssignment.objects.filter(official=official).exists():
        return
    from households.models import Township

    townships = list(Township.objects.filter(code__in=["350881100", "350881101", "350881102"]).order_by("code"))
    for township in townships:
        inspection_services.assign_guidance(
            actor=admin, official=official, township=township, year=today.year, note="第一片区（演示）"
        )
    check = SpotCheck.objects.create(name=f"{today.year}年包片抽查核实（演示）", per_township=3, seed="demo-guidance")
    inspection_services.draw_spot_check(actor=official, spot_check=check)
