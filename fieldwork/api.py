"""The field app's reads (docs/field-app.md): who is signed in, the villages a package can be taken for, the package.
Thin: the package is fieldwork.package's (a selector over the apps' selectors). For a person's session only: a key
caller (a system) is a 403, and so is a role without a package (township staff and helpers have one). The answers
are never stored by a cache on the way (Cache-Control: no-store): they are a person's work and households."""

from __future__ import annotations

from django.conf import settings
from django.middleware.csrf import get_token
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers
from rest_framework.response import Response

from housing_safety.access import Role, scope_of
from housing_safety.api.idempotency import ERRORS
from housing_safety.api.views import ApiView, id_param
from housing_safety.models import ApiKey
from housing_safety.people import person_name

from . import package

TAG = "外业 App"
SESSION_ONLY = [{"Session": []}]  # the document says so: a key is refused (FieldPermission)


class FieldPermission(permissions.BasePermission):
    """Signed in through the site's login (a session, not a key), as township staff or a helper."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if isinstance(request.auth, ApiKey):
            raise exceptions.PermissionDenied(
                _("The field app's addresses are for a person signed in, not for an API key."), code="session_only"
            )
        if not package.may_take_package(request.user):
            raise exceptions.PermissionDenied(_("The field app is for township staff and helpers."), code="role")
        return True


class FieldView(ApiView):
    permission_classes = [FieldPermission]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


ME = inline_serializer(
    "FieldMe",
    {
        "user": inline_serializer(
            "FieldUser",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "role": serializers.ChoiceField(choices=Role.choices),
                "role_label": serializers.CharField(),
            },
        ),
        "csrf_token": serializers.CharField(help_text="写操作的 X-CSRFToken 请求头"),
        "package_days": serializers.IntegerField(help_text="离线包的有效天数（FIELD_PACKAGE_DAYS）"),
        "photo": inline_serializer(
            "FieldPhoto",
            {
                "max_side": serializers.IntegerField(help_text="照片在手机上压缩到的最长边（像素）"),
                "quality": serializers.FloatField(help_text="JPEG 质量（0–1）"),
            },
        ),
    },
)


class MeView(FieldView):
    @extend_schema(
        tags=[TAG],
        auth=SESSION_ONLY,
        summary="外业 App：当前登录人员",
        description=(
            "登录人员（乡镇工作人员或帮扶责任人）、写操作用的 CSRF 令牌、离线包有效天数和照片压缩参数。仅限登录会话。"
        ),
        responses={200: ME, 401: ERRORS, 403: ERRORS},
    )
    def get(self, request):
        user = request.user
        role = scope_of(user).role
        return Response(
            {
                "user": {"id": user.pk, "name": person_name(user), "role": role, "role_label": str(Role(role).label)},
                "csrf_token": get_token(request),
                "package_days": settings.FIELD_PACKAGE_DAYS,
                "photo": {"max_side": settings.FIELD_PHOTO_MAX_SIDE, "quality": settings.FIELD_PHOTO_QUALITY},
            }
        )


VILLAGES = inline_serializer(
    "FieldVillages",
    {
        "villages": inline_serializer(
            "FieldVillage",
            {
                "id": serializers.IntegerField(allow_null=True, help_text="行政村 id（帮扶责任人为 null）"),
                "name": serializers.CharField(),
                "township": serializers.CharField(),
                "households": serializers.IntegerField(),
                "items": serializers.IntegerField(help_text="待鉴定房屋 + 待回访 + 未完结问题"),
                "estimated_bytes": serializers.IntegerField(help_text="离线包的估计大小（字节）"),
            },
            many=True,
        )
    },
)


class VillagesView(FieldView):
    @extend_schema(
        tags=[TAG],
        auth=SESSION_ONLY,
        summary="外业 App：可下载离线包的行政村",
        description=(
            "乡镇工作人员：本乡镇的行政村，各带农户数、待办数（待鉴定房屋、待回访、未完结问题）和离线包估计大小；"
            "帮扶责任人：一个“我帮扶的农户”条目（id 为 null）。仅限登录会话。"
        ),
        responses={200: VILLAGES, 401: ERRORS, 403: ERRORS},
    )
    def get(self, request):
        return Response({"villages": package.villages_for(request.user)})


PACKAGE = OpenApiResponse(description="离线工作包（结构见 docs/field-app.md）")


class PackageView(FieldView):
    @extend_schema(
        tags=[TAG],
        auth=SESSION_ONLY,
        summary="外业 App：离线工作包",
        description=(
            "一个行政村的离线工作包（docs/field-app.md）：范围内的农户（身份证号、电话打码）和房屋、待回访、"
            "未完结问题（只含本人可做的状态变更）、表单选项。每条记录带 based_on，离线录入回传时用于冲突检查。"
            "帮扶责任人不带 village：只有其帮扶的农户和帮扶人报告表单。范围外的行政村为 404。仅限登录会话。"
        ),
        parameters=[OpenApiParameter("village", int, description="行政村 id（乡镇工作人员必填，帮扶责任人不填）")],
        responses={200: PACKAGE, 400: ERRORS, 401: ERRORS, 403: ERRORS, 404: ERRORS},
    )
    def get(self, request):
        village = id_param(request, "village")
        if village is None and scope_of(request.user).role != Role.HELPER:
            raise exceptions.ValidationError({"village": [_("Choose a village.")]}, code="required")
        return Response(package.package_for(request.user, village))
