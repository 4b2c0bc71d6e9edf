"""Thin Celery adapters for the registry."""

from celery import shared_task

from . import department_lists


@shared_task(acks_late=True, soft_time_limit=30 * 60, time_limit=35 * 60)
def read_department_list(department_list_id: int) -> str:
    """Read and compare a large uploaded list in the background (idempotent: a list already read is left alone)."""
    return department_lists.read_in_background(department_list_id)
