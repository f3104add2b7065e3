"""A FastCGI client for the tests: one request over a unix socket, straight
to one todod (no nginx), so a test can say which process answered. Speaks
the responder role of the FastCGI 1.0 spec: BEGIN_REQUEST, PARAMS, STDIN,
then STDOUT records until END_REQUEST."""

import json
import socket
import struct

VERSION = 1
BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER = 1


def _record(kind, content, request_id=1):
    out = b""
    # A record holds at most 65535 bytes; an empty one ends a stream.
    chunks = [content[i:i + 65535] for i in range(0, len(content), 65535)] or [b""]
    for chunk in chunks:
        pad = (8 - len(chunk) % 8) % 8
        out += struct.pack("!BBHHBx", VERSION, kind, request_id, len(chunk), pad) + chunk + b"\0" * pad
    return out


def _length(n):
    return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)


def _params(pairs):
    body = b""
    for name, value in pairs.items():
        name, value = name.encode(), value.encode()
        body += _length(len(name)) + _length(len(value)) + name + value
    return body


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:200])


def request(sock_path, method, path, body=None, headers=None, timeout=30):
    """One request to the FastCGI responder on sock_path. headers: HTTP
    request headers by name. Returns a Response."""
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    data = b""
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    params = {
        "REQUEST_METHOD": method,
        "REQUEST_URI": path + ("?" + query if query else ""),
        "DOCUMENT_URI": path,
        "SCRIPT_NAME": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(data)) if data else "",
        "CONTENT_TYPE": "application/json" if data else "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
    }
    for name, value in (headers or {}).items():
        params["HTTP_" + name.upper().replace("-", "_")] = value
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(_record(BEGIN_REQUEST, struct.pack("!HB5x", RESPONDER, 0))
                  + _record(PARAMS, _params(params)) + _record(PARAMS, b"")
                  + (_record(STDIN, data) if data else b"") + _record(STDIN, b""))
        buf, out = b"", b""
        while True:
            while len(buf) < 8:
                got = s.recv(65536)
                if not got:
                    raise ConnectionError("FastCGI connection closed before END_REQUEST")
                buf += got
            _, kind, _, clen, pad = struct.unpack("!BBHHBx", buf[:8])
            while len(buf) < 8 + clen + pad:
                got = s.recv(65536)
                if not got:
                    raise ConnectionError("FastCGI record cut short")
                buf += got
            content, buf = buf[8:8 + clen], buf[8 + clen + pad:]
            if kind == STDOUT:
                out += content
            elif kind == END_REQUEST:
                break
    finally:
        s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    status, headers = 200, {}
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "status" in headers:
        status = int(headers["status"].split()[0])
    return Response(status, headers, body)
