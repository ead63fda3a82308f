from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from controller.views import AppsView

# `deis login` posts username and password to /v1/auth/login/ and gets {"token": ...} back.
urlpatterns = [path("v1/apps/", AppsView.as_view()), path("v1/auth/login/", obtain_auth_token)]
