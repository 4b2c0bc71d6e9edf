"""Files a form received are not lost when the form is refused: they are held (HeldUpload) for the same person's
next submit of the same form, shown as 「已保留：photo.jpg（无需重新选择）」 with a box to remove each, and used when
no new file is chosen in their field (files chosen again replace them: a person who picks them again anyway does not
record them twice). A held file goes through every check of the form and its service again when it is used.

The form names its held files by a random batch (a hidden input); a batch is only ever read for the person who
made it and for HELD_UPLOAD_HOURS: someone else's batch, or an expired one, is refused with a clear message and
changes nothing. A file that its field refuses, or that an error message names, is not held: the message says what
to choose again.

`web.run_form(form, action, request=request)` does all this for a page's form; `web.confirm_form` also holds the
files of a record shown for confirmation, behind a marker consumed once, so a second click records nothing twice.
"""

from __future__ import annotations

import datetime
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import HeldUpload

BATCH = "held"  # the hidden input naming the batch (with the form's prefix)
REMOVE = "held-remove"  # the boxes of held files to drop
MARKER = ""  # the field of the row that marks a form waiting for its confirmation


def hold_for() -> datetime.timedelta:
    return datetime.timedelta(hours=getattr(settings, "HELD_UPLOAD_HOURS", 24))


class Held:
    """A form's held files: `form.held`. `batch` is None until something is held."""

    def __init__(self, form, user):
        self.form = form
        self.user = user
        self.batch: uuid.UUID | None = None
        self.rows: list[HeldUpload] = []
        self.input_name = form.add_prefix(BATCH)
        self.remove_name = form.add_prefix(REMOVE)

    def hidden_inputs(self) -> list[tuple[str, str]]:
        """The form's submitted values as (name, value) pairs, for a confirmation page to send them again."""
        skip = {"csrfmiddlewaretoken", "confirm", "back", self.input_name, self.remove_name}
        data = self.form.data
        pairs = [(name, value) for name in data for value in data.getlist(name) if name not in skip]
        return [*pairs, (self.input_name, str(self.batch))] if self.batch else pairs

    def files(self) -> list[HeldUpload]:
        return [row for row in self.rows if row.field != MARKER]


def file_fields(form) -> list[str]:
    return [name for name, field in form.fields.items() if isinstance(field, forms.FileField)]


def _live(user):
    return HeldUpload.objects.filter(user=user, created_at__gte=timezone.now() - hold_for())


def _as_upload(row: HeldUpload):
    with row.file.open("rb") as stored:
        return SimpleUploadedFile(row.name, stored.read())


def attach(request, form) -> Held:
    """Before the form is validated: give it the files held under the batch it names (this person's, not expired),
    less the ones ticked for removal. A batch that is not this person's, or is gone, is a form error."""
    held = form.held = Held(form, request.user)
    if not form.is_bound:
        return held
    token = form.data.get(held.input_name, "")
    if not token:
        return held
    try:
        batch = uuid.UUID(token)
    except ValueError:
        batch = None
    rows = list(_live(request.user).filter(batch=batch)) if batch else []
    if not rows:
        form.held_refused = _(
            "The files kept for this form are no longer available (kept for a day, for the person who chose them "
            "only): choose them again."
        )
        return held
    held.batch = batch
    removed = set(form.data.getlist(held.remove_name))
    for row in [row for row in rows if str(row.pk) in removed and row.field != MARKER]:
        _forget([row])
        rows.remove(row)
    held.rows = rows
    files = form.files.copy()
    for name in file_fields(form):
        kept = [row for row in rows if row.field == name]
        if not kept:
            continue
        key = form.add_prefix(name)
        if any(files.getlist(key)):  # files chosen again replace the ones held: none is recorded twice
            _forget(kept)
            held.rows = [row for row in held.rows if row not in kept]
            continue
        uploads = [_as_upload(row) for row in kept]
        files.setlist(key, uploads)
        for row, uploaded in zip(kept, uploads, strict=True):
            row.upload = uploaded
    form.files = files
    return held


def refuse_foreign(form) -> bool:
    """Put the refusal of a batch that is not usable on the form; True when there was one."""
    message = getattr(form, "held_refused", None)
    if message:
        form.add_error(None, message)
    return bool(message)


def keep(form, *, marker: bool = False) -> None:
    """After a refusal (or before a confirmation, with `marker`): hold every file the form received in a field
    without an error, under its batch; drop the held files of a field in error. The form then lists them."""
    held: Held = form.held
    batch = held.batch or uuid.uuid4()
    rows = list(held.rows)
    for name in file_fields(form):
        key = form.add_prefix(name)
        already = {id(row.upload) for row in rows if row.field == name and hasattr(row, "upload")}
        refused = [
            row
            for row in rows
            if row.field == name and hasattr(row, "upload") and not _acceptable(form, name, row.upload)
        ]
        _forget(refused)
        rows = [row for row in rows if row not in refused]
        for uploaded in form.files.getlist(key):
            if not uploaded or id(uploaded) in already or not _acceptable(form, name, uploaded):
                continue
            uploaded.seek(0)
            row = HeldUpload(batch=batch, user=held.user, field=name, name=uploaded.name[:200])
            row.file.save(uploaded.name, uploaded, save=False)
            row.save()
            rows.append(row)
    if marker and not any(row.field == MARKER for row in rows):
        rows.append(HeldUpload.objects.create(batch=batch, user=held.user, field=MARKER))
    held.rows = rows
    held.batch = batch if rows else None
    for name in file_fields(form):
        form.fields[name].held = [row for row in rows if row.field == name]


def _acceptable(form, name: str, uploaded) -> bool:
    """A file of a field without an error; in a field with one, a file its field accepts alone and that no message
    names (a service says "photo.jpg: …")."""
    if name not in form.errors:
        return True
    if any(str(message).startswith(f"{uploaded.name}:") for message in form.errors[name]):
        return False
    try:
        form.fields[name].clean(uploaded)
    except ValidationError:
        return False
    finally:
        uploaded.seek(0)
    return True


def consume(form) -> bool:
    """Take a confirmation's marker, once (inside the caller's transaction: a refused record gives it back)."""
    held: Held = form.held
    if held.batch is None:
        return False
    markers = _live(held.user).select_for_update().filter(batch=held.batch, field=MARKER)
    return markers.delete()[0] > 0


def release(form) -> None:
    """The record was written: its held files are no longer needed (deleted once the transaction commits)."""
    held: Held | None = getattr(form, "held", None)
    if held and held.batch:
        _forget(list(HeldUpload.objects.filter(user=held.user, batch=held.batch)))


def _forget(rows: list[HeldUpload]) -> None:
    names = [row.file.name for row in rows if row.file]
    HeldUpload.objects.filter(pk__in=[row.pk for row in rows]).delete()
    if names:
        storage = HeldUpload._meta.get_field("file").storage

        def delete_files():
            for name in names:
                storage.delete(name)

        transaction.on_commit(delete_files)


def remove_expired(*, before: datetime.datetime) -> int:
    """Forget what was held before `before` (the nightly retention job); the number of rows removed."""
    rows = list(HeldUpload.objects.filter(created_at__lt=before))
    _forget(rows)
    return len(rows)
