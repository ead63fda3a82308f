#!/usr/bin/env python
"""Entry point of the stand-in Deis controller used by the test rig."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controller.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
