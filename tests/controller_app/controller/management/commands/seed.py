import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create users (if missing) with an API token each; print JSON {username: token}."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+")

    def handle(self, *args, usernames, **options):
        tokens = {}
        for name in usernames:
            user, _ = get_user_model().objects.get_or_create(username=name)
            tokens[name] = Token.objects.get_or_create(user=user)[0].key
        self.stdout.write(json.dumps(tokens))
