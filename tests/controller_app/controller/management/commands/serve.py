import signal
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, then serve the API on ADDRPORT (the container's long-lived process)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, addrport, **options):
        # As PID 1 the default SIGTERM action is ignored; exit so `docker stop` is instant.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        call_command("migrate", interactive=False, verbosity=0)
        call_command("runserver", addrport, use_reloader=False)
