"""The registry's API routes, included under /api/v1/ by housing_safety/api/urls.py (names api:<resource>-list and
api:<resource>-detail)."""

from housing_safety.api.views import resource_urls

from . import api

urlpatterns = [
    *resource_urls("townships", api.TownshipViewSet),
    *resource_urls("villages", api.VillageViewSet),
    *resource_urls("households", api.HouseholdViewSet),
    *resource_urls("dwellings", api.DwellingViewSet),
]
