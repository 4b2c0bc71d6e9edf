"""The registry's reads in the API (issue 19): townships, villages, households with their housing-security status
and flags, dwellings with their current grade. Each reads through the registry's scoped selector for the caller
(a key's system account or a signed-in person), so a key sees exactly what its account's pages show."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

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

from . import selectors
from .identity import mask_id_number, mask_phone
from .models import Dwelling, Grade, Household, HousingStatus, Township, Village

register_resource("townships", _("townships"))
register_resource("villages", _("villages"))
register_resource("households", _("households"))
register_resource("dwellings", _("dwellings"))

# The housing-security status: 保障安全 (living safely elsewhere) depends on the day and on inspections' records, so
# inspections registers its annotation (`housing_status`) and filter in its AppConfig.ready; without it, the stored
# state of the homes lived in.
HOUSING_STATUS: dict = {"annotate": None, "filter": None}


def register_housing_status(*, annotate, status_filter) -> None:
    HOUSING_STATUS.update(annotate=annotate, filter=status_filter)


def _with_status(households):
    return HOUSING_STATUS["annotate"](households) if HOUSING_STATUS["annotate"] else households


def _status_q(status: str) -> Q:
    return HOUSING_STATUS["filter"](status) if HOUSING_STATUS["filter"] else Q(home_status=status)


TOWNSHIP = OpenApiParameter("township", int, description="乡镇 id")
VILLAGE = OpenApiParameter("village", int, description="行政村 id")


class TownshipSerializer(serializers.ModelSerializer):
    class Meta:
        model = Township
        fields = ["id", "code", "name", "kind"]


@extend_schema_view(
    list=extend_schema(parameters=[PAGE_SIZE_PARAMETER], summary="乡镇列表", description="调用者范围内的乡镇。"),
    retrieve=extend_schema(summary="一个乡镇", description="调用者范围内的一个乡镇；范围外为 404。"),
)
class TownshipViewSet(ApiReadViewSet):
    api_resource = "townships"
    api_permission = "households.view_township"
    serializer_class = TownshipSerializer

    def selector(self, user):
        return selectors.townships_for_user(user)


class VillageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Village
        fields = ["id", "township", "code", "name", "is_revolutionary_base_village"]


@extend_schema_view(
    list=extend_schema(
        parameters=[TOWNSHIP, PAGE_SIZE_PARAMETER], summary="行政村列表", description="调用者范围内的行政村。"
    ),
    retrieve=extend_schema(summary="一个行政村", description="调用者范围内的一个行政村；范围外为 404。"),
)
class VillageViewSet(ApiReadViewSet):
    api_resource = "villages"
    api_permission = "households.view_village"
    serializer_class = VillageSerializer

    def selector(self, user):
        return selectors.villages_for_user(user).select_related(None)

    def filter_list(self, queryset):
        if (township := id_param(self.request, "township")) is not None:
            queryset = queryset.filter(township_id=township)
        return queryset


class FlagsSerializer(serializers.Serializer):
    owns_safe_but_lives_in_danger = serializers.BooleanField(
        source="flag_owns_safe_but_lives_in_danger", help_text="有安全住房但住在危房"
    )
    connected_uncooperative = serializers.BooleanField(
        source="flag_connected_uncooperative", help_text="联体房，相邻户不配合"
    )
    leaking = serializers.BooleanField(source="flag_leaking", help_text="屋面漏雨")


class HouseholdSerializer(serializers.ModelSerializer):
    id_number = MaskedField(mask=mask_id_number, help_text="身份证号（打码，unmask=1 时完整）")
    phone = MaskedField(mask=mask_phone, help_text="电话（打码，unmask=1 时完整）")
    township = serializers.IntegerField(source="village.township_id", read_only=True)
    registry_status = serializers.ChoiceField(source="status", choices=Household.Status.choices, read_only=True)
    housing_status = serializers.SerializerMethodField(help_text="住房安全状态")
    flags = FlagsSerializer(source="*", read_only=True)

    class Meta:
        model = Household
        fields = [
            "id", "head_name", "id_number", "phone", "village", "township", "members_count", "registry_status",
            "housing_status", "flags", "registered_on", "updated_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=HousingStatus.choices))
    def get_housing_status(self, obj) -> str:
        return getattr(obj, "housing_status", None) or obj.home_status


@extend_schema_view(
    list=extend_schema(
        summary="农户列表",
        description="调用者范围内的农户（含已移出名单的），带住房安全状态和三项标记；身份证号、电话打码。",
        parameters=[
            TOWNSHIP,
            VILLAGE,
            OpenApiParameter("status", str, enum=list(HousingStatus.values), description="住房安全状态"),
            CHANGED_SINCE_PARAMETER,
            PAGE_SIZE_PARAMETER,
        ],
    ),
    retrieve=extend_schema(
        summary="一户农户",
        description="调用者范围内的一户；范围外为 404。有权角色加 unmask=1 和 reason 看完整号码，记入查看日志。",
        parameters=UNMASK_PARAMETERS,
    ),
)
class HouseholdViewSet(ApiReadViewSet):
    # Not yet: ?changed_since= follows updated_at, which the stored state's refresh (services.refresh_home_state:
    # home_status and the flags) and a 保障安全 record do not move, so a change of status alone is not in an
    # incremental sync until those writes set updated_at when the state they store changes.
    api_resource = "households"
    api_permission = "households.view_household"
    serializer_class = HouseholdSerializer
    unmaskable = True

    def selector(self, user):
        return _with_status(selectors.households_for_user(user))

    def filter_list(self, queryset):
        if (township := id_param(self.request, "township")) is not None:
            queryset = queryset.filter(village__township_id=township)
        if (village := id_param(self.request, "village")) is not None:
            queryset = queryset.filter(village_id=village)
        if (status := choice_param(self.request, "status", HousingStatus.choices)) is not None:
            queryset = queryset.filter(_status_q(status))
        return queryset


class DwellingSerializer(serializers.ModelSerializer):
    current_grade = serializers.ChoiceField(
        choices=Grade.choices, read_only=True, allow_null=True, help_text="最新鉴定等级（未鉴定为 null）"
    )

    class Meta:
        model = Dwelling
        fields = [
            "id", "household", "address", "structure_type", "storeys", "bays", "floor_area", "year_built",
            "is_occupied", "is_connected", "neighbour_cooperates", "current_grade", "current_leaking", "updated_at",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="房屋列表",
        description="调用者范围内农户的房屋，带最新鉴定等级。",
        parameters=[
            TOWNSHIP,
            VILLAGE,
            OpenApiParameter("household", int, description="农户 id"),
            OpenApiParameter("grade", str, enum=list(Grade.values), description="最新鉴定等级"),
            CHANGED_SINCE_PARAMETER,
            PAGE_SIZE_PARAMETER,
        ],
    ),
    retrieve=extend_schema(summary="一处房屋", description="调用者范围内的一处房屋；范围外为 404。"),
)
class DwellingViewSet(ApiReadViewSet):
    api_resource = "dwellings"
    api_permission = "households.view_dwelling"
    serializer_class = DwellingSerializer

    def selector(self, user):
        return selectors.dwellings_for_user(user).select_related(None)

    def filter_list(self, queryset):
        if (township := id_param(self.request, "township")) is not None:
            queryset = queryset.filter(household__village__township_id=township)
        if (village := id_param(self.request, "village")) is not None:
            queryset = queryset.filter(household__village_id=village)
        if (household := id_param(self.request, "household")) is not None:
            queryset = queryset.filter(household_id=household)
        if (grade := choice_param(self.request, "grade", Grade.choices)) is not None:
            queryset = queryset.filter(current_grade=grade)
        return queryset
