"""GET an API path from the controller with a token, or log in as `deis login` does; print
{"status": N, "body": ...}.

Stdlib only (starts fast), in what Python 2.7 and 3 share (both controller generations); run
inside the container, next to the server:
    python probe.py TOKEN [PATH] [ADDR:PORT]
    python probe.py --login USERNAME < password      (POST /v1/auth/login/; the password on stdin)
"""
import json
import sys

try:
    from http.client import HTTPConnection
except ImportError:  # Python 2
    from httplib import HTTPConnection

if sys.argv[1] == "--login":
    token, path, where = None, "/v1/auth/login/", "127.0.0.1:8000"
    form = json.dumps({"username": sys.argv[2], "password": sys.stdin.read()})
else:
    token = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else "/v1/apps/"
    where = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1:8000"
host, port = where.rsplit(":", 1)

conn = HTTPConnection(host, int(port), timeout=10)
if token is None:
    conn.request("POST", path, body=form, headers={"Content-Type": "application/json", "Accept": "application/json"})
else:
    conn.request("GET", path, headers={"Authorization": "Token " + token, "Accept": "application/json"})
resp = conn.getresponse()
raw = resp.read().decode("utf-8")
try:
    body = json.loads(raw)
except ValueError:
    body = raw
print(json.dumps({"status": resp.status, "body": body}))
