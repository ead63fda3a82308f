from django.conf.urls import url
from rest_framework.authtoken.views import obtain_auth_token

from controller.views import AppsView

# `deis login` posts username and password to /v1/auth/login/ and gets {"token": ...} back.
urlpatterns = [url(r"^v1/apps/$", AppsView.as_view()), url(r"^v1/auth/login/$", obtain_auth_token)]
