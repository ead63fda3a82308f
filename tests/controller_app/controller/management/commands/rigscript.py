# Python 2.7 and 3, Django 1.6 to 5.x: the rig runs it on both controller generations.
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Run the Python script on standard input with Django set up (the rig's way to read and change "
            "the controller's state; `shell` on Django 1.6 has no -c and reads stdin as a console).")

    def handle(self, *args, **options):
        source = getattr(sys.stdin, "buffer", sys.stdin).read()
        # The same source on both Pythons: print() is a function, the text is UTF-8.
        code = compile(b"# -*- coding: utf-8 -*-\nfrom __future__ import print_function\n" + source,
                       "<rigscript>", "exec")
        exec(code, {"__name__": "rigscript"})
