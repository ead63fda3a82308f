# Python 2.7 and 3, Django 1.6 to 5.x: the rig runs it on both controller generations.
import signal
import sys

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Make the database's tables, then serve the API on ADDRPORT (the container's long-lived process)."
    args = "[ADDRPORT]"  # how Django before 1.8 takes positional arguments

    def add_arguments(self, parser):  # Django 1.8 and later
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, **options):
        addrport = options.get("addrport") or (args[0] if args else "127.0.0.1:8000")
        # As PID 1 the default SIGTERM action is ignored; exit so `docker stop` is instant.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        # Django 1.7 and later migrate; before, syncdb made the tables (Deis v1: syncdb, then South).
        call_command("migrate" if "migrate" in get_commands() else "syncdb", interactive=False, verbosity=0)
        call_command("runserver", addrport, use_reloader=False)
