#!/usr/bin/env python
# The stand-in for Deis v1's controller/manage.py (deis/deis, every v1 release): the same lines.

from __future__ import unicode_literals
import os
import sys


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deis.settings")

    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
