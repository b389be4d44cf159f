from django.urls import path

from bench.benchapp.views import MinimalInsertApi

urlpatterns = [path("insert", MinimalInsertApi.as_view(), name="bench-insert")]
