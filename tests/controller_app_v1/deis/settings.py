"""The stand-in for Deis v1's controller settings (deis/deis controller/deis/settings.py): Python
2.7, Django 1.6, DRF 3.0 token authentication, django-guardian with its anonymous user at id -1,
PostgreSQL on a unix socket. Like Deis's, it prints lines of its own on every manage.py run, on
standard output and on standard error; one of them is shaped like a deisctl reply on purpose, so
that the rig proves no such line can forge one.

The shared app `controller` (apps owned by users, the rig's management commands) is the same
code as on today's Django (../controller_app, linked).
"""
from __future__ import print_function, unicode_literals

import os
import sys

# What Deis's settings print when they cannot ask the Docker daemon for its version.
print("Not disabling --memory-swap for Docker version unknown")
print('deisctl-result:{"ok": true, "committed": true, "users": []}')
print("deis.settings: using the rig's database", file=sys.stderr)

SECRET_KEY = "test-rig-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = (
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "guardian",
    "rest_framework",
    "rest_framework.authtoken",
    "controller",  # apps owned by users; the rig's management commands
    "deis",  # a token for every new user, as Deis's api.models does
)
MIDDLEWARE_CLASSES = ("django.middleware.common.CommonMiddleware",)
ROOT_URLCONF = "deis.urls"

AUTHENTICATION_BACKENDS = (
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
)
ANONYMOUS_USER_ID = -1

# As Deis: PostgreSQL (DATABASE_* from the environment), here on the rig's unix socket.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends." + os.environ.get("DATABASE_ENGINE", "postgresql_psycopg2"),
        "NAME": os.environ.get("DATABASE_NAME", "deis"),
        "USER": os.environ.get("DATABASE_USER", "deis"),
        "HOST": os.environ.get("DATABASE_HOST", "/var/run/postgresql"),
    }
}
USE_TZ = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ("rest_framework.authentication.TokenAuthentication",),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
}
