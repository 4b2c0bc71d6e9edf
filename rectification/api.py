"""Problems, renovation cases (with their steps) and complaints in the API (issue 19), read through rectification's
scoped selectors for the caller (a key's system account or a signed-in person), so a key sees exactly what its
account's pages show. The writes are rectification/api_writes.py.

Each record keeps its change time (updated_at): ?changed_since= gives what was recorded or changed since, for an
incremental sync (api.views.ApiReadViewSet). A complaint's reporter is masked as on the complaint pages;
only a role that may see reporters reads one complaint's whole, with ?unmask=1&reason=… (logged)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from households.identity import mask_name, mask_phone
from housing_safety.api.personal import MaskedField
from housing_safety.api.resources import register_resource
from housing_safety.api.views import (
    CHANGED_SINCE_PARAMETER,
    PAGE_SIZE_PARAMETER,
    UNMASK_PARAMETERS,
    ApiReadViewSet,
    choice_param,
    id_param,
)
from housing_safety.params import year_param
from inspections.api import DWELLING, HOUSEHOLD, TOWNSHIP, VILLAGE, area_filters

from . import selectors
from .models import CaseStatus, CaseTransition, Complaint, ComplaintStatus, Problem, RenovationCase

register_resource("problems", _("problems"))
register_resource("cases", _("renovation cases"))
register_resource("complaints", _("complaints"))


# Problems --------------------------------------------------------------------------------------------------------


class ProblemSerializer(serializers.ModelSerializer):
    village = serializers.IntegerField(
        source="household.village_id", read_only=True, allow_null=True, help_text="行政村 id（无农户的问题为 null）"
    )

    class Meta:
        model = Problem
        fields = [
            "id", "township", "village", "household", "dwelling", "source", "kind", "plan_item", "revisit",
            "complaint", "helper_report", "description", "measure", "responsible_person", "deadline", "phase",
            "status", "resolution", "resolved_at", "verified_at", "created_at",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="问题清单",
        description="调用者范围内乡镇的整改问题；可用 changed_since 增量同步。",
        parameters=[
            TOWNSHIP,
            VILLAGE,
            HOUSEHOLD,
            OpenApiParameter("status", str, enum=list(Problem.Status.values), description="整改状态"),
            OpenApiParameter("source", str, enum=list(Problem.Source.values), description="问题来源"),
            CHANGED_SINCE_PARAMETER,
            PAGE_SIZE_PARAMETER,
        ],
    ),
    retrieve=extend_schema(summary="一个问题", description="调用者范围内的一个整改问题；范围外为 404。"),
)
class ProblemViewSet(ApiReadViewSet):
    api_resource = "problems"
    api_permission = "rectification.view_problem"
    serializer_class = ProblemSerializer

    def selector(self, user):
        return selectors.problems_for_user(user).select_related(None).select_related("household")

    def filter_list(self, queryset):
        queryset = area_filters(self.request, queryset, township="township_id", village="household__village_id")
        if (household := id_param(self.request, "household")) is not None:
            queryset = queryset.filter(household_id=household)
        if (status := choice_param(self.request, "status", Problem.Status.choices)) is not None:
            queryset = queryset.filter(status=status)
        if (source := choice_param(self.request, "source", Problem.Source.choices)) is not None:
            queryset = queryset.filter(source=source)
        return queryset


# Renovation cases ------------------------------------------------------------------------------------------------


class CaseStepSerializer(serializers.ModelSerializer):
    """One step of the case's procedure: from which step to which, its own date (on), when it was entered (at)."""

    class Meta:
        model = CaseTransition
        fields = ["from_status", "to_status", "on", "at", "note"]


class CaseSerializer(serializers.ModelSerializer):
    village = serializers.IntegerField(source="household.village_id", read_only=True, help_text="行政村 id")
    steps = CaseStepSerializer(source="transitions", many=True, read_only=True, help_text="已走过的步骤，按日期")

    class Meta:
        model = RenovationCase
        fields = [
            "id", "number", "township", "village", "household", "dwelling", "trigger_appraisal", "programme_year",
            "renovation_type", "build_mode", "funding_source", "planned_subsidy", "builder", "status", "status_on",
            "last_activity_on", "closed_from", "village_posting_start", "village_posting_end",
            "township_posting_start", "township_posting_end", "accepted_on", "acceptance_appraisal",
            "resettlement_site", "new_dwelling", "moved_in_on", "old_house_outcome", "created_at", "steps",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="危房改造案件列表",
        description="调用者范围内乡镇的危改案件，带已走过的步骤（从、到、日期、备注）；可用 changed_since 增量同步。",
        parameters=[
            TOWNSHIP,
            VILLAGE,
            HOUSEHOLD,
            DWELLING,
            OpenApiParameter("status", str, enum=list(CaseStatus.values), description="当前步骤"),
            OpenApiParameter("programme_year", int, description="计划年度"),
            CHANGED_SINCE_PARAMETER,
            PAGE_SIZE_PARAMETER,
        ],
    ),
    retrieve=extend_schema(summary="一个危改案件", description="调用者范围内的一个危改案件及其步骤；范围外为 404。"),
)
class CaseViewSet(ApiReadViewSet):
    api_resource = "cases"
    api_permission = "rectification.view_renovationcase"
    serializer_class = CaseSerializer

    def selector(self, user):
        steps = Prefetch("transitions", queryset=CaseTransition.objects.order_by("on", "at", "pk"))
        return selectors.cases_for_user(user).select_related(None).select_related("household").prefetch_related(steps)

    def filter_list(self, queryset):
        queryset = area_filters(self.request, queryset, township="township_id", village="household__village_id")
        if (household := id_param(self.request, "household")) is not None:
            queryset = queryset.filter(household_id=household)
        if (dwelling := id_param(self.request, "dwelling")) is not None:
            queryset = queryset.filter(dwelling_id=dwelling)
        if (status := choice_param(self.request, "status", CaseStatus.choices)) is not None:
            queryset = queryset.filter(status=status)
        if self.request.query_params.get("programme_year") not in (None, ""):
            if (year := year_param(self.request.query_params, "programme_year")) is None:
                raise ValidationError({"programme_year": [gettext("Enter a year such as 2026.")]}, code="invalid")
            queryset = queryset.filter(programme_year=year)
        return queryset


# Complaints ------------------------------------------------------------------------------------------------------


def _masked_name(name: str | None) -> str:
    return mask_name(name) if name else ""


class ComplaintSerializer(serializers.ModelSerializer):
    reporter_name = MaskedField(mask=_masked_name, help_text="举报人姓名（打码；有权角色 unmask=1 时完整；匿名为空）")
    reporter_phone = MaskedField(mask=mask_phone, help_text="举报人电话（打码；有权角色 unmask=1 时完整；匿名为空）")

    class Meta:
        model = Complaint
        fields = [
            "id", "ticket", "external_ticket", "received_at", "channel", "is_anonymous", "reporter_name",
            "reporter_phone", "township", "village", "household", "dwelling", "category", "content", "status",
            "acceptance_due", "handling_due", "replied_on", "reply_method", "reply", "satisfaction", "closed_at",
            "repeat_of", "created_at",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="举报投诉列表",
        description="调用者可见的举报投诉（投诉受理员和住建局为全部，乡镇为本乡镇的和交办给本人的）；举报人姓名、电话打码；"
        "可用 changed_since 增量同步。",
        parameters=[
            TOWNSHIP,
            VILLAGE,
            OpenApiParameter("status", str, enum=list(ComplaintStatus.values), description="办理状态"),
            OpenApiParameter("channel", str, enum=list(Complaint.Channel.values), description="来源渠道"),
            OpenApiParameter("external_ticket", str, description="转来平台的工单号（如 12345 工单号），完全一致"),
            CHANGED_SINCE_PARAMETER,
            PAGE_SIZE_PARAMETER,
        ],
    ),
    retrieve=extend_schema(
        summary="一件举报投诉",
        description="调用者可见的一件举报投诉；范围外为 404。可看举报人的角色加 unmask=1 和 reason 看完整姓名和电话，"
        "记入查看日志。",
        parameters=UNMASK_PARAMETERS,
    ),
)
class ComplaintViewSet(ApiReadViewSet):
    api_resource = "complaints"
    api_permission = "rectification.view_complaint"
    serializer_class = ComplaintSerializer
    unmaskable = True  # disclosure: rectification.view_reporter, through complaints_for_user (rectification/apps.py)

    def selector(self, user):
        return selectors.complaints_for_user(user).select_related(None)

    def filter_list(self, queryset):
        queryset = area_filters(self.request, queryset, township="township_id", village="village_id")
        if (status := choice_param(self.request, "status", ComplaintStatus.choices)) is not None:
            queryset = queryset.filter(status=status)
        if (channel := choice_param(self.request, "channel", Complaint.Channel.choices)) is not None:
            queryset = queryset.filter(channel=channel)
        if external := self.request.query_params.get("external_ticket", "").strip():  # the platform finds its own
            queryset = queryset.filter(external_ticket=external[:40])
        return queryset
