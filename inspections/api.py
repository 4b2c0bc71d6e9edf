"""Appraisals and revisits in the API (issue 19), read through inspections' scoped selectors for the caller (a key's
system account or a signed-in person), so a key sees exactly what its account's pages show.

A revisit keeps its change time (updated_at): ?changed_since= gives the revisits recorded or changed since, for an
incremental sync. An appraisal is a record that never changes: its list pages by id (a sync keeps its last cursor),
and ?changed_since= is refused with a 400 rather than ignored (housing_safety.api.views.ApiReadViewSet)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from housing_safety.api.resources import register_resource
from housing_safety.api.views import (
    CHANGED_SINCE_PARAMETER,
    PAGE_SIZE_PARAMETER,
    ApiReadViewSet,
    choice_param,
    id_param,
)

from . import selectors
from .models import Appraisal, ComponentGrade, FindingKind, Grade, Revisit

register_resource("appraisals", _("appraisals"))
register_resource("revisits", _("revisits"))

TOWNSHIP = OpenApiParameter("township", int, description="乡镇 id")
VILLAGE = OpenApiParameter("village", int, description="行政村 id")
HOUSEHOLD = OpenApiParameter("household", int, description="农户 id")
DWELLING = OpenApiParameter("dwelling", int, description="房屋 id")


def area_filters(request, queryset, *, township: str, village: str):
    """?township= and ?village= (record ids) on the given paths; a value that is no id is a 400."""
    if (township_id := id_param(request, "township")) is not None:
        queryset = queryset.filter(**{township: township_id})
    if (village_id := id_param(request, "village")) is not None:
        queryset = queryset.filter(**{village: village_id})
    return queryset


# Appraisals ------------------------------------------------------------------------------------------------------


class ComponentGradesSerializer(serializers.Serializer):
    """The six graded components of the national form (a–d, n: not present)."""

    foundation = serializers.ChoiceField(choices=ComponentGrade.choices, read_only=True, help_text="地基基础")
    load_bearing_walls = serializers.ChoiceField(choices=ComponentGrade.choices, read_only=True, help_text="承重墙")
    timber_frame = serializers.ChoiceField(choices=ComponentGrade.choices, read_only=True, help_text="木柱/梁/檩")
    roof_truss = serializers.ChoiceField(choices=ComponentGrade.choices, read_only=True, help_text="木屋架")
    concrete_frame = serializers.ChoiceField(choices=ComponentGrade.choices, read_only=True, help_text="混凝土柱/梁")
    floor_roof_slab = serializers.ChoiceField(choices=ComponentGrade.choices, read_only=True, help_text="楼屋盖")


class AppraisalSerializer(serializers.ModelSerializer):
    household = serializers.IntegerField(source="dwelling.household_id", read_only=True, help_text="农户 id")
    village = serializers.IntegerField(source="dwelling.household.village_id", read_only=True, help_text="行政村 id")
    township = serializers.IntegerField(
        source="dwelling.household.village.township_id", read_only=True, help_text="乡镇 id"
    )
    components = ComponentGradesSerializer(source="*", read_only=True, help_text="各构件等级")

    class Meta:
        model = Appraisal
        fields = [
            "id", "dwelling", "household", "village", "township", "kind", "appraised_on", "organisation",
            "appraisers", "components", "site_hazard", "is_leaking", "grade", "recommendation", "notes",
            "recorded_at",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="鉴定列表",
        description="调用者范围内房屋的鉴定（评定）记录，带各构件等级、房屋等级和处理建议；"
        "按 id 分页（鉴定记录录入后不再改动，不支持 changed_since，同步时保存上次的游标即可）。",
        parameters=[
            TOWNSHIP,
            VILLAGE,
            HOUSEHOLD,
            DWELLING,
            OpenApiParameter("grade", str, enum=list(Grade.values), description="房屋等级"),
            OpenApiParameter("kind", str, enum=list(Appraisal.Kind.values), description="评定或鉴定"),
            PAGE_SIZE_PARAMETER,
        ],
    ),
    retrieve=extend_schema(summary="一次鉴定", description="调用者范围内的一次鉴定；范围外为 404。"),
)
class AppraisalViewSet(ApiReadViewSet):
    api_resource = "appraisals"
    api_permission = "inspections.view_appraisal"
    serializer_class = AppraisalSerializer

    def selector(self, user):
        return selectors.appraisals_for_user(user).select_related(None).select_related("dwelling__household__village")

    def filter_list(self, queryset):
        queryset = area_filters(
            self.request,
            queryset,
            township="dwelling__household__village__township_id",
            village="dwelling__household__village_id",
        )
        if (household := id_param(self.request, "household")) is not None:
            queryset = queryset.filter(dwelling__household_id=household)
        if (dwelling := id_param(self.request, "dwelling")) is not None:
            queryset = queryset.filter(dwelling_id=dwelling)
        if (grade := choice_param(self.request, "grade", Grade.choices)) is not None:
            queryset = queryset.filter(grade=grade)
        if (kind := choice_param(self.request, "kind", Appraisal.Kind.choices)) is not None:
            queryset = queryset.filter(kind=kind)
        return queryset


# Revisits --------------------------------------------------------------------------------------------------------


class RevisitSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True, help_text="排查活动名称")
    household = serializers.IntegerField(source="dwelling.household_id", read_only=True, help_text="农户 id")
    village = serializers.IntegerField(source="dwelling.household.village_id", read_only=True, help_text="行政村 id")
    township = serializers.IntegerField(
        source="dwelling.household.village.township_id", read_only=True, help_text="乡镇 id"
    )
    findings = serializers.SerializerMethodField(help_text="回访发现的问题")

    class Meta:
        model = Revisit
        fields = [
            "id", "campaign", "campaign_name", "dwelling", "household", "village", "township", "due_on", "status",
            "visited_on", "outcome", "still_lived_in", "assessed_grade", "findings", "notes",
        ]  # fmt: skip

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=FindingKind.choices)))
    def get_findings(self, obj) -> list[str]:
        return obj.found_kinds()


@extend_schema_view(
    list=extend_schema(
        summary="回访列表",
        description="调用者范围内房屋的回访（排查活动中每处房屋一条），带回访结果和发现的问题；"
        "可用 changed_since 增量同步。",
        parameters=[
            TOWNSHIP,
            VILLAGE,
            DWELLING,
            OpenApiParameter("campaign", int, description="排查活动 id"),
            OpenApiParameter("status", str, enum=list(Revisit.Status.values), description="回访状态"),
            CHANGED_SINCE_PARAMETER,
            PAGE_SIZE_PARAMETER,
        ],
    ),
    retrieve=extend_schema(summary="一次回访", description="调用者范围内的一次回访；范围外为 404。"),
)
class RevisitViewSet(ApiReadViewSet):
    api_resource = "revisits"
    api_permission = "inspections.view_revisit"
    serializer_class = RevisitSerializer

    def selector(self, user):
        return (
            selectors.revisits_for_user(user)
            .select_related(None)
            .select_related("campaign", "dwelling__household__village")
        )

    def filter_list(self, queryset):
        queryset = area_filters(
            self.request,
            queryset,
            township="dwelling__household__village__township_id",
            village="dwelling__household__village_id",
        )
        if (dwelling := id_param(self.request, "dwelling")) is not None:
            queryset = queryset.filter(dwelling_id=dwelling)
        if (campaign := id_param(self.request, "campaign")) is not None:
            queryset = queryset.filter(campaign_id=campaign)
        if (status := choice_param(self.request, "status", Revisit.Status.choices)) is not None:
            queryset = queryset.filter(status=status)
        return queryset
