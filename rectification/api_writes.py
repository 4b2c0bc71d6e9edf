"""Rectification's writes in the API (issue 19): a complaint from the hotline platform (with its external ticket),
a problem's move and a renovation case's step (its documents as multipart). Each calls the same service as the
page with the same arguments, for the caller (a key's system account or a signed-in person): every rule, permission,
scope and history row is the service's. The serializers only parse the request; every POST takes an
Idempotency-Key (housing_safety.api.idempotency)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from households.models import Township, Village
from housing_safety.api import conflicts
from housing_safety.api.idempotency import ERRORS, IDEMPOTENCY_PARAMETER, ApiWriteView
from housing_safety.api.resources import register_resource

from . import selectors, services
from .models import CaseStatus, Complaint, DocumentKind, Problem, RenovationCase

register_resource("complaints", _("complaints"), read=False, write=True)
register_resource("problems", _("problems"), read=False, write=True)
register_resource("cases", _("renovation cases"), read=False, write=True)


class ComplaintIntakeSerializer(serializers.ModelSerializer):
    """The page's intake form (rectification.forms.ComplaintForm) as JSON or multipart."""

    received_at = serializers.DateTimeField(required=False, help_text="受理时间（不填为现在）")
    township = serializers.PrimaryKeyRelatedField(queryset=Township.objects.all(), required=False, allow_null=True)
    village = serializers.PrimaryKeyRelatedField(queryset=Village.objects.all(), required=False, allow_null=True)
    files = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="照片或扫描件（multipart，可多个）"
    )

    class Meta:
        model = Complaint
        fields = [
            "channel", "external_ticket", "received_at", "is_anonymous", "reporter_name", "reporter_phone",
            "township", "village", "category", "content", "files",
        ]  # fmt: skip
        validators = []  # the rules (the external ticket once per channel too) are the service's


class ComplaintLoggedSerializer(serializers.ModelSerializer):
    query_code = serializers.CharField(
        allow_null=True, help_text="给投诉人的查询码：只在第一次的回答中给出（只存其哈希），重放时为 null"
    )

    class Meta:
        model = Complaint
        fields = [
            "id", "ticket", "external_ticket", "channel", "status", "township", "village", "received_at",
            "acceptance_due", "handling_due", "repeat_of", "query_code",
        ]  # fmt: skip


class ComplaintIntakeView(ApiWriteView):
    """Log a complaint: services.log_complaint, as the clerk's intake page."""

    api_resource = "complaints"
    api_write_permission = "rectification.add_complaint"  # the intake page's
    idempotency_redact = ("query_code",)

    @extend_schema(
        summary="登记投诉（热线平台转办）",
        description=(
            "与投诉登记页面相同的规则（同一服务）：外部工单号（如 12345 工单号）同一渠道只能登记一次。"
            "返回系统受理号和给投诉人的查询码（查询码只在第一次的回答中给出）。"
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"application/json": ComplaintIntakeSerializer, "multipart/form-data": ComplaintIntakeSerializer},
        responses={201: ComplaintLoggedSerializer, 400: ERRORS, 403: ERRORS, 422: ERRORS},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def write(self, request, *args, **kwargs):
        serializer = ComplaintIntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        files = data.pop("files", [])
        complaint, code = services.log_complaint(actor=request.user, complaint=Complaint(**data), files=files)
        body = ComplaintLoggedSerializer(complaint).data | {"query_code": code}
        return Response(body, status=status.HTTP_201_CREATED)


class ProblemMoveSerializer(serializers.Serializer):
    to = serializers.CharField(help_text="目标状态（如 in_progress、resolved、verified）")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    resolution = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="整改情况（resolved 必填）"
    )
    evidence = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="佐证照片或材料（multipart）"
    )
    based_on = conflicts.based_on_field("离线包中该问题的状态（如 open）。状态已变时 409；不填不检查。")


class ProblemMoveView(ApiWriteView):
    """Move a problem: services.move_problem, as the problem page's buttons."""

    api_resource = "problems"
    api_write_permission = "rectification.view_problem"  # the move's own permission is the service's (PROBLEM_MOVES)

    @extend_schema(
        summary="问题状态变更",
        description=(
            "与问题页面的按钮相同（同一服务）：哪些变更、谁可以做、整改情况和佐证都按页面的规则。"
            "离线外业 App 带上 based_on（离线包中的状态）：状态已变时返回 409（current 为现状），"
            "外业人员仍要变更时以 current.based_on 重发，由状态表决定能否变更。"
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"application/json": ProblemMoveSerializer, "multipart/form-data": ProblemMoveSerializer},
        responses={
            200: inline_serializer("ProblemMoved", {"id": serializers.IntegerField(), "status": serializers.CharField()}
            ),
            400: ERRORS, 403: ERRORS, 404: ERRORS, 409: conflicts.CONFLICT, 422: ERRORS,
        },
    )  # fmt: skip
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def write(self, request, pk):
        problem = get_object_or_404(selectors.problems_for_user(request.user).select_for_update(of=("self",)), pk=pk)
        conflicts.check(
            request,
            version=problem.status,
            current=lambda: _problem_now(problem),
            message=gettext("This problem has moved on since your package was taken: nothing was recorded."),
        )
        serializer = ProblemMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("based_on", None)
        moved = services.move_problem(actor=request.user, problem=problem, **data)
        return Response({"id": moved.pk, "status": moved.status})


def _problem_now(problem: Problem) -> dict:
    label = str(problem.get_status_display())
    return {
        "summary": gettext("The problem is now “%(status)s”.") % {"status": label},
        "status": problem.status,
        "status_label": label,
    }


class CaseStepSerializer(serializers.Serializer):
    """The page's step form (rectification.forms.CaseMoveForm): the fields a step needs, the others left out."""

    to = serializers.ChoiceField(choices=CaseStatus.choices, help_text="目标步骤")
    on = serializers.DateField(help_text="本步骤日期")
    note = serializers.CharField(required=False, allow_blank=True, help_text="备注（退回、撤销时为理由，必填）")
    posting_start = serializers.DateField(required=False, help_text="公示开始（村评议、乡镇审核）")
    posting_end = serializers.DateField(required=False, help_text="公示结束")
    acceptors = serializers.CharField(required=False, max_length=200, help_text="验收组成员（竣工验收）")
    moved_in_on = serializers.DateField(required=False, help_text="搬入日期（异地建房的验收）")
    old_house_outcome = serializers.ChoiceField(
        choices=RenovationCase.OldHouse.choices, required=False, help_text="旧房处置（异地建房的验收）"
    )
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, help_text="拨付金额（元）")
    voucher_number = serializers.CharField(required=False, max_length=50, help_text="拨付凭证号")
    override_reason = serializers.CharField(required=False, allow_blank=True, help_text="局管理员越过规则的理由")


DOCUMENT_PREFIX = "doc_"


def step_documents(request, to: str) -> list:
    """The step's files, sent as multipart fields named doc_<document kind code> (several files each), as the page's
    form names them; a field naming no document of this step is a 400 (never silently dropped)."""
    kinds = {kind.code: kind for kind in DocumentKind.objects.filter(step=to)}
    documents, unknown = [], []
    for name in request.FILES:
        if not name.startswith(DOCUMENT_PREFIX) or name.removeprefix(DOCUMENT_PREFIX) not in kinds:
            unknown.append(name)
            continue
        documents += [(kinds[name.removeprefix(DOCUMENT_PREFIX)], f) for f in request.FILES.getlist(name)]
    if unknown:
        raise ValidationError(
            {
                name: [gettext("Not a document of this step: send doc_<code> with one of: %(codes)s.")
                       % {"codes": ", ".join(sorted(kinds)) or "-"}]
                for name in unknown
            },
            code="unknown_document",
        )  # fmt: skip
    return documents


class CaseStepView(ApiWriteView):
    """Move a renovation case one step: services.move_case, as the case page's step forms."""

    api_resource = "cases"
    api_write_permission = "rectification.view_renovationcase"  # as the page; the step's permission is the service's

    @extend_schema(
        summary="改造案件推进一步",
        description=(
            "与案件页面的步骤表单相同（同一服务）：日期、公示期、该步骤的必备材料、验收和拨付的规则都相同。"
            "材料用 multipart 上传，字段名为 doc_<材料类型代码>（每个字段可多个文件）。"
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"multipart/form-data": CaseStepSerializer, "application/json": CaseStepSerializer},
        responses={
            200: inline_serializer(
                "CaseMoved",
                {
                    "id": serializers.IntegerField(), "status": serializers.CharField(),
                    "status_on": serializers.DateField(),
                },
            ),
            400: ERRORS, 403: ERRORS, 404: ERRORS, 422: ERRORS,
        },
    )  # fmt: skip
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def write(self, request, pk):
        case = get_object_or_404(selectors.cases_for_user(request.user), pk=pk)
        serializer = CaseStepSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        step = dict(serializer.validated_data)
        to = step.pop("to")
        documents = step_documents(request, to)
        moved = services.move_case(actor=request.user, case=case, to=to, documents=documents, **step)
        return Response({"id": moved.pk, "status": moved.status, "status_on": moved.status_on})
