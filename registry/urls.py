from django.urls import path

from registry import views

app_name = "registry"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("cells/<int:cell_id>/", views.cell_detail, name="cell"),
    path("records/<str:kind>/new/", views.record_create, name="record_create"),
    path("records/<str:kind>/<int:pk>/", views.record_detail, name="record_detail"),
    path("records/<str:kind>/<int:pk>/edit/", views.record_edit, name="record_edit"),
    path(
        "records/<str:kind>/<int:pk>/deactivate/",
        views.record_deactivate,
        name="record_deactivate",
    ),
    path("key-persons/", views.key_person_list, name="key_persons"),
    path("people/<int:person_id>/key-person/", views.key_person_create, name="key_person_create"),
    path("key-persons/<int:pk>/", views.key_person_detail, name="key_person_detail"),
    path("key-persons/<int:pk>/visit/", views.visit_create, name="visit_create"),
    path("key-persons/<int:pk>/close/", views.key_person_close, name="key_person_close"),
    path("import/", views.import_upload, name="import"),
    path("import/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("import/template/<str:kind>.xlsx", views.import_template, name="import_template"),
    path("export.xlsx", views.export, name="export"),
    path("stats/", views.stats, name="stats"),
    path("layers.geojson", views.layers, name="layers"),
]
