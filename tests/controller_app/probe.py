"""GET an API path from the controller with a token; print {"status": N, "body": ...}.

Stdlib only (starts fast); run inside the container, next to the server:
    python probe.py TOKEN [PATH] [ADDR:PORT]
"""
import http.client
import json
import sys

token = sys.argv[1]
path = sys.argv[2] if len(sys.argv) > 2 else "/v1/apps/"
host, port = (sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1:8000").rsplit(":", 1)

conn = http.client.HTTPConnection(host, int(port), timeout=10)
conn.request("GET", path, headers={"Authorization": f"Token {token}", "Accept": "application/json"})
resp = conn.getresponse()
raw = resp.read().decode()
try:
    body = json.loads(raw)
except ValueError:
    body = raw
print(json.dumps({"status": resp.status, "body": body}))
