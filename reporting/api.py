"""Unit reports and the dashboard's figures per area in the API (issue 19), read as the caller (a key's system account
or a signed-in person) through reporting's selectors, so a key sees exactly what its account's pages show.

A unit report keeps its change time (updated_at, moved too by the set-based refresh of its figures and the late
sweep): ?changed_since= gives the reports changed since, for an incremental sync (api.views.ApiReadViewSet). The
figures are the dashboard's own (selectors.township_table and village_table), never recomputed here."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from households.selectors import townships_for_user
from housing_safety.api.resources import register_resource
from housing_safety.api.views import (
    CHANGED_SINCE_PARAMETER,
    PAGE_SIZE_PARAMETER,
    ApiReadViewSet,
    ApiView,
    choice_param,
    id_param,
)
from inspections.api import TOWNSHIP

from . import rollup, selectors
from .models import MonthlyReport, ReportKind, ReportStatus

register_resource("reports", _("unit reports"))
register_resource("figures", _("area figures"))


# Unit reports ----------------------------------------------------------------------------------------------------


class ReportSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True, help_text="报送单位")
    township = serializers.IntegerField(
        source="unit.township_id", read_only=True, allow_null=True, help_text="乡镇 id（部门为 null）"
    )
    figures = serializers.SerializerMethodField(
        help_text="报告的数据：已报送的为报送时冻结的数据；未报送的，列表中为最近一次刷新的数据（见 figures_at），"
        "单个报告中为页面上的实时数据"
    )

    class Meta:
        model = MonthlyReport
        fields = [
            "id", "unit", "unit_name", "township", "kind", "period", "due_on", "status", "submitted_at", "on_time",
            "progress", "problems_handled", "figures", "figures_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.DictField())
    def get_figures(self, obj) -> dict:
        view = self.context.get("view")
        if view is not None and view.action == "retrieve":
            return selectors.report_figures(obj, timezone.localdate())  # what the report's page shows
        return obj.figures


@extend_schema_view(
    list=extend_schema(
        summary="单位报告列表",
        description="调用者可见的单位月度报告和年度工作总结（住建局为全部，单位的人为本单位的）；"
        "可用 changed_since 增量同步。",
        parameters=[
            TOWNSHIP,
            OpenApiParameter("unit", int, description="单位 id"),
            OpenApiParameter("kind", str, enum=list(ReportKind.values), description="月度报告或年度工作总结"),
            OpenApiParameter("status", str, enum=list(ReportStatus.values), description="报送状态"),
            CHANGED_SINCE_PARAMETER,
            PAGE_SIZE_PARAMETER,
        ],
    ),
    retrieve=extend_schema(
        summary="一份单位报告", description="调用者可见的一份单位报告，数据与报告页面相同；范围外为 404。"
    ),
)
class ReportViewSet(ApiReadViewSet):
    api_resource = "reports"
    api_permission = "reporting.view_monthlyreport"
    serializer_class = ReportSerializer

    def selector(self, user):
        return selectors.reports_for_user(user).select_related(None).select_related("unit")

    def filter_list(self, queryset):
        if (township := id_param(self.request, "township")) is not None:
            queryset = queryset.filter(unit__township_id=township)
        if (unit := id_param(self.request, "unit")) is not None:
            queryset = queryset.filter(unit_id=unit)
        if (kind := choice_param(self.request, "kind", ReportKind.choices)) is not None:
            queryset = queryset.filter(kind=kind)
        if (status := choice_param(self.request, "status", ReportStatus.choices)) is not None:
            queryset = queryset.filter(status=status)
        return queryset


# The dashboard's figures -----------------------------------------------------------------------------------------


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="数据项")
    label = serializers.CharField(help_text="名称")
    group = serializers.CharField(help_text="分组")
    kind = serializers.ChoiceField(
        choices=["count", "money", "share"], help_text="count 户数/件数，money 元，share 比例"
    )


class AreaRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="area.pk")
    code = serializers.CharField(source="area.code")
    name = serializers.CharField(source="area.name")
    figures = serializers.DictField(help_text="数据项 -> 数值（键见 columns）")


class FiguresSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="数据日期")
    area = serializers.ChoiceField(choices=["township", "village"], help_text="每行是一个乡镇还是一个行政村")
    township = serializers.IntegerField(allow_null=True, help_text="下钻的乡镇 id（按乡镇时为 null）")
    columns = ColumnSerializer(many=True)
    rows = AreaRowSerializer(many=True)
    totals = serializers.DictField(help_text="合计")
    as_of = serializers.DateTimeField(
        allow_null=True, help_text="数据更新时间：取自定时更新的统计时为其读取记录的时刻；实时统计时为 null"
    )


class FiguresView(ApiView):
    """The dashboard's table: a row per township in the caller's scope, or with ?township= per village of it."""

    api_resource = "figures"
    api_permission = "reporting.view_dashboard"

    @extend_schema(
        summary="各区域数据",
        description="驾驶舱的数据表：调用者范围内每个乡镇一行；加 township 则为该乡镇每个行政村一行（范围外为 404）。"
        "数据与驾驶舱页面相同。",
        parameters=[OpenApiParameter("township", int, description="乡镇 id：按该乡镇的行政村分行")],
        responses=FiguresSerializer,
    )
    def get(self, request):
        day = timezone.localdate()
        township = None
        state = rollup.current(request.user, day)  # the dashboard's maintained figures, as its page reads them
        if (township_id := id_param(request, "township")) is not None:
            township = get_object_or_404(townships_for_user(request.user), pk=township_id)
            rows, totals = selectors.village_table(request.user, township, day, rollup=state is not None)
        else:
            rows, totals = selectors.township_table(request.user, day, rollup=state is not None)
        columns = [
            {"key": c.key, "label": str(c.label), "group": str(c.group), "kind": c.kind} for c in selectors.COLUMNS
        ]
        body = {
            "day": day,
            "area": "township" if township is None else "village",
            "township": township and township.pk,
            "columns": columns,
            "rows": rows,
            "totals": totals,
            "as_of": state.as_of if state is not None else None,
        }
        return Response(FiguresSerializer(body).data)
