from django.urls import path

from scripts.api import views

urlpatterns = [
    path("scripts/templates", views.template_list, name="api-script-templates"),
    path(
        "scripts/templates/<int:template_id>",
        views.template_detail,
        name="api-script-template",
    ),
    path("scripts/categories", views.category_list, name="api-script-categories"),
    path("scripts/generate", views.generate, name="api-script-generate"),
    path("scripts/review", views.review, name="api-script-review"),
]
