"""The field app's API routes (the package, who is signed in), included under /api/v1/ by housing_safety/api/urls.py."""

urlpatterns: list = []
