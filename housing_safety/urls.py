from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from households import views as household_views
from housing_safety import views as housing_views
from inspections import views as inspection_views
from rectification import complaint_views

admin.site.site_header = _("Zhangping rural housing safety")
admin.site.site_title = _("Rural housing safety")
admin.site.index_title = _("Work overview")
admin.site.site_url = None

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("attachments/<id:pk>/", household_views.attachment_download, name="attachment-download"),
    path("personal-data/<str:kind>/<id:pk>/", housing_views.unmask, name="unmask"),
    path("healthz", household_views.healthz, name="healthz"),
    path("v/<str:token>/", inspection_views.verify_placard, name="placard-verify"),
    path("q/", complaint_views.complaint_lookup, name="complaint-lookup"),
    path("", include("inspections.urls")),
    path("", include("rectification.urls")),
    path("", include("reporting.urls")),
    path("", include("households.urls")),
    # Before the admin's own route of the same address: this one also ends a forced password change.
    path("admin/password_change/", household_views.password_change),
    path("admin/", admin.site.urls),
]

# A database that is down is the 503 page also when a middleware noticed it (housing_safety.middleware).
handler500 = "housing_safety.views.server_error"
