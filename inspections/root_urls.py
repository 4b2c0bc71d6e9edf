"""The public placard check outside the app's namespace: its name (`placard-verify`) and short address are printed
in QR codes on placards already on walls."""

from django.urls import path

from . import views

urlpatterns = [
    path("v/<str:token>/", views.verify_placard, name="placard-verify"),
]
