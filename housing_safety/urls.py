from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from housing_safety import notice_views, print_views, workspace_views
from housing_safety import views as housing_views

admin.site.site_header = _("Zhangping rural housing safety")
admin.site.site_title = _("Rural housing safety")
admin.site.index_title = _("Work overview")
admin.site.site_url = None

urlpatterns = [
    path("", workspace_views.home, name="home"),
    path("search/", workspace_views.search, name="search"),
    path("notices/", notice_views.notices, name="notices"),
    path("notices/read-all/", notice_views.mark_all_read, name="notices-read-all"),
    path("notices/<id:pk>/open/", notice_views.open_notice, name="notice-open"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("housing_safety.api.urls")),  # the REST API (housing_safety/api/)
    path("print/<id:pk>/", print_views.print_job, name="print-job"),
    path("print/<id:pk>/file/", print_views.print_job_file, name="print-job-file"),
    path("personal-data/<str:kind>/<id:pk>/", housing_views.unmask, name="unmask"),
    # The apps' routes named outside their namespaces (printed on placards, given to reporters, linked everywhere);
    # the registry's also holds the forced password change, which must come before the admin's own route.
    path("", include("households.root_urls")),
    path("", include("inspections.root_urls")),
    path("", include("rectification.root_urls")),
    path("", include("fieldwork.urls")),  # before inspections' field/ pages: /field/app/, /field/sw.js
    path("", include("inspections.urls")),
    path("", include("rectification.urls")),
    path("", include("reporting.urls")),
    path("", include("households.urls")),
    path("admin/", admin.site.urls),
]

# A database that is down is the 503 page also when a middleware noticed it (housing_safety.middleware).
handler500 = "housing_safety.views.server_error"
