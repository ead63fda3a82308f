# Python 2.7 and 3, Django 1.6 to 5.x: the rig runs it on both controller generations.
import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create users (if missing) with an API token each; print JSON {username: token}."
    args = "USERNAME [USERNAME ...]"  # how Django before 1.8 takes positional arguments

    def add_arguments(self, parser):  # Django 1.8 and later
        parser.add_argument("usernames", nargs="+")

    def handle(self, *args, **options):
        tokens = {}
        for name in options.get("usernames") or args:
            user, _ = get_user_model().objects.get_or_create(username=name)
            tokens[name] = Token.objects.get_or_create(user=user)[0].key
        self.stdout.write(json.dumps(tokens))
