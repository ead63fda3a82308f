"""What a Deis controller's users own: apps (api.App's owner is a cascading foreign key), so that
deleting a user who owns one would delete it too. Just the owner link; nothing else of Deis."""
from django.conf import settings
from django.db import models


class App(models.Model):
    id = models.SlugField(max_length=64, primary_key=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
