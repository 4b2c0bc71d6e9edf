"""The field app's pages: its shell, its service worker and its manifest (all under /field/app/ and /field/)."""

app_name = "fieldwork"

urlpatterns: list = []
