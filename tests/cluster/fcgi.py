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


def _params_for(method, path, data, headers):
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
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
    return params


def _body(body):
    if body is None:
        return b""
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def _parse(out):
    head, _, body = out.partition(b"\r\n\r\n")
    status, headers = 200, {}
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "status" in headers:
        status = int(headers["status"].split()[0])
    return Response(status, headers, body)


class Connection:
    """A kept FastCGI connection (FCGI_KEEP_CONN, as nginx's
    fastcgi_keep_conn): request after request on one socket, until
    close(). send() and receive() split a request so that a test can hold
    one in flight."""

    def __init__(self, sock_path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(sock_path)
        self.buf = b""

    def send(self, method, path, body=None, headers=None, keep=True):
        data = _body(body)
        self.sock.sendall(_record(BEGIN_REQUEST, struct.pack("!HB5x", RESPONDER, 1 if keep else 0))
                          + _record(PARAMS, _params(_params_for(method, path, data, headers)))
                          + _record(PARAMS, b"") + (_record(STDIN, data) if data else b"")
                          + _record(STDIN, b""))

    def _fill(self, n):
        while len(self.buf) < n:
            got = self.sock.recv(65536)
            if not got:
                raise ConnectionError("FastCGI connection closed before END_REQUEST")
            self.buf += got

    def receive(self):
        out = b""
        while True:
            self._fill(8)
            _, kind, _, clen, pad = struct.unpack("!BBHHBx", self.buf[:8])
            self._fill(8 + clen + pad)
            content, self.buf = self.buf[8:8 + clen], self.buf[8 + clen + pad:]
            if kind == STDOUT:
                out += content
            elif kind == END_REQUEST:
                return _parse(out)

    def request(self, method, path, body=None, headers=None, keep=True):
        self.send(method, path, body, headers, keep)
        return self.receive()

    def closed_by_peer(self, timeout):
        """True when the other side closes within timeout seconds (EOF)."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        self.sock.close()


def request(sock_path, method, path, body=None, headers=None, timeout=30):
    """One request to the FastCGI responder on sock_path, on a connection
    of its own. headers: HTTP request headers by name. Returns a Response."""
    conn = Connection(sock_path, timeout)
    try:
        return conn.request(method, path, body, headers, keep=False)
    finally:
        conn.close()
