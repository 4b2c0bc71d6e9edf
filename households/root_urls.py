"""The registry's routes outside its namespace: their names (`attachment-download`, `healthz`) and the forced password
change at the admin's address were named at the root before the apps had namespaces, and links and tests use them.
The root URLconf includes this module without a namespace, before the admin's own routes."""

from django.urls import path

from . import views

urlpatterns = [
    path("attachments/<id:pk>/", views.attachment_download, name="attachment-download"),
    path("healthz", views.healthz, name="healthz"),
    # Before the admin's own route of the same address: this one also ends a forced password change.
    path("admin/password_change/", views.password_change),
]
