"""Inspections' writes in the API (issue 19): an appraisal of a dwelling (photos and the scanned form as multipart in
the same request), a revisit's record and a helper's report. Each calls the same service as the page with the same
arguments, for the caller (a key's system account or a signed-in person): every rule, permission, scope and history
row is the service's. The serializers only parse the request; every POST takes an Idempotency-Key
(housing_safety.api.idempotency).

Files travel in the request that records them (multipart), not uploaded first and referenced by id: one request,
one transaction, nothing half-recorded and no orphan uploads to clean up, and a retry under the same
Idempotency-Key is recognised by the files' content."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from households.models import Dwelling
from households.selectors import dwellings_for_user
from housing_safety.api import conflicts
from housing_safety.api.idempotency import ERRORS, IDEMPOTENCY_PARAMETER, ApiWriteView
from housing_safety.api.resources import register_resource
from housing_safety.people import person_name

from . import selectors, services
from .models import Appraisal, Revisit

register_resource("appraisals", _("appraisals"), read=False, write=True)
register_resource("revisits", _("revisits"), read=False, write=True)
register_resource("helper_reports", _("helpers' reports"), read=False, write=True)

RECORDED = inline_serializer("Recorded", {"id": serializers.IntegerField()})


def _files(help_text: str):
    return serializers.ListField(child=serializers.FileField(), required=False, default=list, help_text=help_text)


class AppraisalInputSerializer(serializers.ModelSerializer):
    """The page's appraisal form (inspections.forms.AppraisalForm) as multipart (or JSON without files)."""

    photos = _files("照片（multipart，可多个）")
    scanned_form = serializers.FileField(required=False, allow_null=True, default=None, help_text="鉴定表扫描件")
    based_on = conflicts.based_on_field(
        "离线包中该房屋的鉴定版本（最近登记的鉴定 id，如 a:123；未鉴定为 a:）。已有更新的鉴定时 409；不填不检查。"
    )

    class Meta:
        model = Appraisal
        fields = [
            "kind", "appraised_on", "organisation", "appraisers", *[name for name, _label in Appraisal.COMPONENTS],
            "site_hazard", "is_leaking", "grade", "recommendation", "notes", "photos", "scanned_form", "based_on",
        ]  # fmt: skip
        validators = []  # the rules are the service's (Appraisal.clean through record_appraisal)


class AppraisalCreateView(ApiWriteView):
    """Record an appraisal of a dwelling: services.record_appraisal, as the appraisal page (its confirmation step is
    the caller's: the API records at once)."""

    api_resource = "appraisals"
    api_write_permission = "inspections.add_appraisal"

    @extend_schema(
        summary="登记房屋鉴定",
        description=(
            "与鉴定页面相同的规则（同一服务）：等级不优于最差构件，C/D 级须有处理建议，至少两名鉴定人，日期不在将来。"
            "照片和扫描件与鉴定在同一个 multipart 请求中上传。鉴定一经登记不能修改。"
            "离线外业 App 带上 based_on：下载离线包后该房屋又登记了鉴定时返回 409（current 为最近登记的鉴定），"
            "外业人员决定保留自己的鉴定时以 current.based_on 重发。"
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"multipart/form-data": AppraisalInputSerializer, "application/json": AppraisalInputSerializer},
        responses={201: RECORDED, 400: ERRORS, 403: ERRORS, 404: ERRORS, 409: conflicts.CONFLICT, 422: ERRORS},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def write(self, request, pk):
        dwellings = dwellings_for_user(request.user).select_related("household__village")
        dwelling = get_object_or_404(dwellings.select_for_update(of=("self",)), pk=pk)  # one appraisal at a time
        last = selectors.last_appraisal(dwelling)
        conflicts.check(
            request,
            version=selectors.appraisal_version(last and last.pk),
            current=lambda: _appraisal_now(last),
            message=gettext("This house was appraised again after your package was taken: nothing was recorded."),
        )
        serializer = AppraisalInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("based_on", None)
        photos, scanned_form = data.pop("photos"), data.pop("scanned_form")
        appraisal = services.record_appraisal(
            actor=request.user, appraisal=Appraisal(dwelling=dwelling, **data), photos=photos, scanned_form=scanned_form
        )
        return Response({"id": appraisal.pk}, status=status.HTTP_201_CREATED)


def _appraisal_now(appraisal: Appraisal | None) -> dict:
    """What a conflicting appraisal is: the last recorded one."""
    if appraisal is None:  # a version sent that never was: nothing recorded is what there is
        return {"summary": "", **dict.fromkeys(("appraised_on", "grade", "grade_label", "appraisers", "recorded_by"))}
    recorded_by = person_name(appraisal.recorded_by) if appraisal.recorded_by else ""
    return {
        "summary": gettext("Appraised on %(date)s: %(grade)s, recorded by %(name)s.")
        % {"date": f"{appraisal.appraised_on:%Y-%m-%d}", "grade": appraisal.get_grade_display(), "name": recorded_by},
        "appraised_on": appraisal.appraised_on,
        "grade": appraisal.grade,
        "grade_label": str(appraisal.get_grade_display()),
        "appraisers": appraisal.appraisers,
        "recorded_by": recorded_by,
    }


class RevisitRecordSerializer(serializers.Serializer):
    """The page's revisit form (inspections.forms.RevisitForm)."""

    visited_on = serializers.DateField(help_text="回访日期")
    still_lived_in = serializers.BooleanField(allow_null=True, default=None, help_text="是否仍有人居住（必答）")
    findings = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="发现的问题（无问题为空）"
    )
    outcome = serializers.CharField(help_text="回访结果")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    assessed_grade = serializers.CharField(required=False, allow_blank=True, default="", help_text="基点村排查认定等级")
    photos = _files("照片（multipart，可多个）")
    based_on = conflicts.based_on_field("离线包中该回访的状态（pending）。已被他人登记时 409；不填不检查。")


class RevisitRecordView(ApiWriteView):
    """Record a revisit: services.record_revisit, as the revisit page."""

    api_resource = "revisits"
    api_write_permission = "inspections.change_revisit"

    @extend_schema(
        summary="登记回访",
        description=(
            "与回访页面相同的规则（同一服务）：每项发现生成一个问题，是否仍有人居住会更新房屋和农户状态。"
            "离线外业 App 带上 based_on=pending：该回访已被他人登记时返回 409（current 为已登记的回访），"
            "回访只登记一次，外业人员只能放弃自己的记录。"
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"multipart/form-data": RevisitRecordSerializer, "application/json": RevisitRecordSerializer},
        responses={200: RECORDED, 400: ERRORS, 403: ERRORS, 404: ERRORS, 409: conflicts.CONFLICT, 422: ERRORS},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def write(self, request, pk):
        revisit = get_object_or_404(selectors.revisits_for_user(request.user).select_for_update(of=("self",)), pk=pk)
        conflicts.check(
            request,
            version=revisit.status,
            current=lambda: _revisit_now(revisit),
            message=gettext("This revisit was already recorded by someone else: nothing was recorded."),
        )
        serializer = RevisitRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("based_on", None)
        recorded = services.record_revisit(actor=request.user, revisit=revisit, **data)
        return Response({"id": recorded.pk})


def _revisit_now(revisit: Revisit) -> dict:
    """What was recorded of a revisit already done."""
    visited_by = person_name(revisit.visited_by) if revisit.visited_by else ""
    outcome = str(revisit.get_outcome_display())
    return {
        "summary": gettext("Visited on %(date)s: %(outcome)s, recorded by %(name)s.")
        % {"date": f"{revisit.visited_on:%Y-%m-%d}" if revisit.visited_on else "—", "outcome": outcome,
           "name": visited_by},
        "visited_on": revisit.visited_on,
        "outcome": revisit.outcome,
        "outcome_label": outcome,
        "recorded_by": visited_by,
    }  # fmt: skip


class HelperReportSerializer(serializers.Serializer):
    """The page's report form (inspections.forms.HelperReportForm)."""

    dwelling = serializers.PrimaryKeyRelatedField(
        queryset=Dwelling.objects.none(), required=False, allow_null=True, default=None, help_text="房屋 id（本户的）"
    )
    findings = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    note = serializers.CharField(allow_blank=True, help_text="帮扶人看到的情况")
    photos = _files("照片（multipart，可多个）")

    def __init__(self, *args, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        if household is not None:
            self.fields["dwelling"].queryset = household.dwellings.all()  # another household's dwelling: not found


class HelperReportCreateView(ApiWriteView):
    """A helper's report on a household assigned to them: services.report_observation, as the helper's page."""

    api_resource = "helper_reports"
    api_write_permission = "inspections.add_helperreport"

    @extend_schema(
        summary="帮扶人报告",
        description="与帮扶人页面相同（同一服务）：只能报告分配给自己的农户，乡镇会收到通知。",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"multipart/form-data": HelperReportSerializer, "application/json": HelperReportSerializer},
        responses={201: RECORDED, 400: ERRORS, 403: ERRORS, 404: ERRORS, 422: ERRORS},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def write(self, request, pk):
        household = get_object_or_404(selectors.covered_households_for_user(request.user), pk=pk)
        serializer = HelperReportSerializer(data=request.data, household=household)
        serializer.is_valid(raise_exception=True)
        report = services.report_observation(actor=request.user, household=household, **serializer.validated_data)
        return Response({"id": report.pk}, status=status.HTTP_201_CREATED)
