from django.urls import path

from front import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
