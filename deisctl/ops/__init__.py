"""Domain operations: one function per command, taking an Invocation and returning a result.

They never touch sys.argv, sys.stdin, getpass, the terminal or Click: what they need from the
outside world comes in the Invocation, and what they produce goes back as a result that
deisctl.output renders.
"""
