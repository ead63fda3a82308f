from django.urls import path

from controller.views import AppsView

urlpatterns = [path("v1/apps/", AppsView.as_view())]
