"""The base views every endpoint builds on, the helpers for their query parameters and routes, and the API's own
pages: its root, its OpenAPI document and its reference pages (Swagger UI from our own static files)."""

from __future__ import annotations

import datetime

from django.urls import NoReverseMatch, path, reverse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import mixins, permissions, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..params import int_param
from .pagination import CHANGED_SINCE
from .personal import UNMASKED, full_numbers
from .resources import RESOURCES


class ApiView(APIView):
    """A single endpoint; declare api_resource, api_permission and, for writes, api_write_permission."""

    api_resource: str | None = None
    api_permission: str | tuple[str, ...] | None = None
    api_write_permission: str | tuple[str, ...] | None = None


class ApiReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A list (cursor-paginated, with ?changed_since=) and one record. Subclasses give `selector(user)` (the app's
    scoped selector), `serializer_class`, `api_resource`, `api_permission`, and narrow the list in `filter_list`.
    A record with personal numbers sets `unmaskable = True`: its detail takes ?unmask=1&reason=… A list of records
    without updated_at pages by id only, and answers ?changed_since= with a 400."""

    api_resource: str | None = None
    api_permission: str | tuple[str, ...] | None = None
    api_write_permission: str | tuple[str, ...] | None = None
    unmaskable = False
    lookup_field = "pk"

    def selector(self, user):
        raise NotImplementedError

    def filter_list(self, queryset):
        """Narrow the list by the view's query parameters (township, village, status...)."""
        return queryset

    def get_queryset(self):
        queryset = self.selector(self.request.user)
        if self.action == "list":
            queryset = self.filter_list(queryset)
            since = changed_since(self.request)
            if since is not None:
                if not has_change_time(queryset.model):  # never ignored silently, nor a database error
                    raise ValidationError(
                        {CHANGED_SINCE: [_("This list keeps no change time: page through it by its cursor instead.")]},
                        code="unsupported",
                    )
                queryset = queryset.filter(updated_at__gte=since)
        return queryset

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        context = self.get_serializer_context()
        context[UNMASKED] = self.unmaskable and full_numbers(request, obj)
        return Response(self.get_serializer_class()(obj, context=context).data)


def has_change_time(model) -> bool:
    """Whether the records keep the time of their last change (updated_at), which ?changed_since= follows."""
    return any(field.name == "updated_at" for field in model._meta.concrete_fields)


# Query parameters: a value that is not one is a 400 naming the parameter, never ignored silently -------------------


def id_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    value = int_param(request.query_params, name)
    if value is None:
        raise ValidationError({name: [_("Enter a record id (a positive whole number).")]}, code="invalid")
    return value


def choice_param(request, name: str, choices) -> str | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if value not in dict(choices):
        raise ValidationError(
            {name: [_("Not one of: %(choices)s.") % {"choices": ", ".join(dict(choices))}]}, code="invalid_choice"
        )
    return value


def changed_since(request) -> datetime.datetime | None:
    raw = request.query_params.get(CHANGED_SINCE)
    if raw in (None, ""):
        return None
    try:
        value = parse_datetime(raw)
        if value is None and (day := parse_date(raw)) is not None:
            value = datetime.datetime.combine(day, datetime.time.min)
    except ValueError:
        value = None
    if value is None or not 1900 <= value.year <= 9998:
        raise ValidationError(
            {CHANGED_SINCE: [_("Enter a date and time such as 2026-05-01T08:00:00+08:00.")]}, code="invalid"
        )
    return make_aware(value) if is_naive(value) else value


CHANGED_SINCE_PARAMETER = OpenApiParameter(
    CHANGED_SINCE,
    datetime.datetime,
    description="只返回此时刻以后有变动的记录（增量同步），按变动时间排序。",
)
PAGE_SIZE_PARAMETER = OpenApiParameter("page_size", int, description="每页条数（最多 API_MAX_PAGE_SIZE 条）。")
UNMASK_PARAMETERS = [
    OpenApiParameter("unmask", str, enum=["1"], description="显示完整身份证号和电话（须角色有权，记入查看日志）。"),
    OpenApiParameter("reason", str, description="查看完整号码的理由（至少 4 个字），与页面上的查看记录相同。"),
]


def resource_urls(prefix: str, viewset, name: str | None = None) -> list:
    """The list and one-record routes of a read viewset: "<prefix>/" and "<prefix>/<id:pk>/", named
    "<name>-list" and "<name>-detail" (name defaults to the prefix) within the "api" namespace."""
    name = name or prefix
    return [
        path(f"{prefix}/", viewset.as_view({"get": "list"}), name=f"{name}-list"),
        path(f"{prefix}/<id:pk>/", viewset.as_view({"get": "retrieve"}), name=f"{name}-detail"),
    ]


# The API's own pages ---------------------------------------------------------------------------------------------


class ApiRoot(APIView):
    """What the API offers: its resources with their lists, the OpenAPI document and the reference pages."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(exclude=True)
    def get(self, request):
        resources = {}
        for name, label in sorted(RESOURCES.items()):
            try:
                url = reverse(f"api:{name}-list")
            except NoReverseMatch:  # a resource without a list (writes only)
                url = None
            resources[name] = {"label": str(label), "url": url and request.build_absolute_uri(url)}
        return Response(
            {
                "resources": resources,
                "schema": request.build_absolute_uri(reverse("api:schema")),
                "docs": request.build_absolute_uri(reverse("api:docs")),
            }
        )


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document, for anyone signed in or holding a key."""

    permission_classes = [permissions.IsAuthenticated]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI, its files from drf-spectacular-sidecar (our static files) and its start script a separate file
    (the content security policy allows no inline script)."""

    permission_classes = [permissions.IsAuthenticated]
    url_name = "api:schema"
    template_name = "api/swagger_ui.html"
