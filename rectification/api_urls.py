"""Problems', renovation cases' and complaints' API routes, included under /api/v1/ by housing_safety/api/urls.py
(names api:<resource>-list and api:<resource>-detail); the writes are api_write_urls.py."""

from housing_safety.api.views import resource_urls

from . import api

urlpatterns = [
    *resource_urls("problems", api.ProblemViewSet),
    *resource_urls("cases", api.CaseViewSet),
    *resource_urls("complaints", api.ComplaintViewSet),
]
