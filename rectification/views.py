"""The problem list (一乡镇一清单): the township's list and Excel export, the bureau's counts, one problem's steps."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from households.selectors import attachments_for_user, townships_for_user
from housing_safety.access import scope_of
from housing_safety.excel import xlsx_response
from housing_safety.pagination import BoundedPaginator
from housing_safety.params import area_lookups, int_param
from housing_safety.pdf import pdf_response
from housing_safety.web import POST, page, run_form

from . import documents, paper, selectors, services
from .forms import ProblemMoveForm
from .models import Problem


def _filtered(request):
    problems = selectors.problems_for_user(request.user)
    status = request.GET.get("status", "")
    if status == "unresolved":
        problems = problems.filter(status__in=Problem.OPEN_STATUSES)
    elif status == "overdue":  # the home's line: still open after its deadline
        problems = problems.filter(selectors.problem_overdue())
    elif status == "unowned":  # the home's line: open without a responsible person
        problems = problems.filter(selectors.problem_unowned())
    elif status in Problem.Status.values:
        problems = problems.filter(status=status)
    problems = problems.filter(**area_lookups(request.GET, township="township_id", village="household__village_id"))
    if request.GET.get("plan") == "none":  # not yet placed under a task or mechanism
        problems = problems.filter(plan_item__isnull=True)
    elif (plan_item := int_param(request.GET, "plan")) is not None:  # the plan's 任务/机制 (the dashboard's lines)
        problems = problems.filter(plan_item_id=plan_item)
    return problems.order_by("township__code", "deadline", "pk"), status


@page(permission="rectification.view_problem")
def problem_list(request):
    problems, status = _filtered(request)
    context = {
        "page": BoundedPaginator(problems, 50).get_page(request.GET.get("page")),
        "status": status,
        "statuses": Problem.Status.choices,
        "plan": request.GET.get("plan", ""),
        # the export lists what the filters show (status, 任务/机制, area), every page of it
        "export_query": urlencode({key: value for key, value in request.GET.items() if value and key != "page"}),
        "plan_items": selectors.problem_plan_items(),
        "today": timezone.localdate(),
        # the table per township counts what the list shows (its status, task and area filters)
        "counts": selectors.problem_counts_by_township(request.user, problems=problems)
        if scope_of(request.user).everything
        else None,
        "print_township": _print_township(request),
    }
    return render(request, "rectification/problem_list.html", context)


@page(permission="rectification.view_problem")
def problem_export(request):
    """The plan's "one township, one list" as Excel: problem, measure, responsible person, deadline, status."""
    problems, _status = _filtered(request)
    today = timezone.localdate()
    content = documents.problem_list_workbook(problems.iterator(chunk_size=2000), today)
    return xlsx_response(content, f"problems-{today:%Y%m%d}.xlsx")


def _print_township(request) -> int | None:
    """The township whose list prints: the one picked in the filter, else the staff member's own (a scope of one
    township); None for the bureau before it picks one."""
    township = int_param(request.GET, "township")
    scope = scope_of(request.user)
    if township is None and not scope.everything and len(scope.township_ids) == 1:
        township = next(iter(scope.township_ids))
    return township


@page(permission="rectification.view_problem")
def problem_print(request):
    """The township's problem list on paper (一乡镇一清单): the list as filtered, one township at a time."""
    township_id = _print_township(request)
    if township_id is None:
        messages.info(request, _("Choose a township to print its problem list."))
        return redirect("rectification:problems")
    township = get_object_or_404(townships_for_user(request.user), pk=township_id)
    problems, _status = _filtered(request)
    content = paper.problem_list_pdf(township, problems.filter(township_id=township.pk))
    name = _("Problem list of %(township)s") % {"township": township.name}
    return pdf_response(content, f"{name} {timezone.localdate():%Y-%m-%d}.pdf")


@page(permission="rectification.view_problem")
def problem_detail(request, pk: int):
    problem = get_object_or_404(selectors.problems_for_user(request.user), pk=pk)
    moves = services.PROBLEM_MOVES.allowed(problem, request.user)
    return render(
        request,
        "rectification/problem_detail.html",
        {
            "problem": problem,
            "moves": [(to, Problem.Status(to).label) for to in moves],
            "transitions": problem.transitions.select_related("actor"),
            "evidence": attachments_for_user(request.user).filter(
                content_type=ContentType.objects.get_for_model(Problem), object_id=problem.pk
            ),
            "form": ProblemMoveForm(),
            "today": timezone.localdate(),
        },
    )


@page(methods=POST)  # the move's own permission is the service's to check (PROBLEM_MOVES)
def problem_move(request, pk: int):
    problem = get_object_or_404(selectors.problems_for_user(request.user), pk=pk)
    form = ProblemMoveForm(request.POST)
    moved = run_form(
        form,
        lambda f: services.move_problem(
            actor=request.user, problem=problem, evidence=request.FILES.getlist("evidence"), **f.cleaned_data
        ),
    )
    if moved is not None:
        messages.success(request, _("The problem is now “%(status)s”.") % {"status": moved.get_status_display()})
    for errors in form.errors.values():  # the form sits on the problem page: its refusals are messages there
        for message in errors:
            messages.error(request, message)
    return redirect("rectification:problem", pk=problem.pk)
