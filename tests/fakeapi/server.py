#!/usr/bin/env python3
"""Local stand-in for the web APIs AudioFiler talks to (tests and the offline demo).

It speaks each API's exact formats, quirks and failures, built from the facts in
../shared/reference/api/.  One provider per module in this directory; each module
defines PREFIX (the path it serves, e.g. "/2.0/" for Last.fm) and
handle(request, world) returning a Response or None (None = 404).

The world (--world FILE, JSON) is the catalogue every provider answers from:
  {"tracks": [{"artist": str, "title": str, "mbid": str, "duration": seconds,
               "isrc": str, "listeners": int,
               "tags": [{"name": str, "count": int}],
               "spotify": {"id": str, "preview": bool},
               "deezer": {"id": int, "preview": bool},
               "itunes": {"id": int, "preview": bool},
               "audio": path of the preview audio file, relative to the world file}]}

Control endpoints for tests (JSON bodies):
  POST /_control/fault    {"prefix": "/2.0/", "count": 2, "status": 500,
                           "body": "...", "headers": {...}, "delay": 1.5,
                           "truncate": true, "reset": true,
                          "match": "substring of path?query"}
                          the next `count` matching requests get this fault
                          (status/body/headers replace the response; delay waits
                          first; truncate sends half of the real body then closes;
                          reset closes the connection with a TCP RST, no answer)
  POST /_control/reset    forget faults and the request log
  GET  /_control/requests the request log: [{"method", "path", "query", "time"}]
Usage: server.py --world FILE [--port N] [--port-file F]
(port 0 picks a free port, written to the port file when listening).
"""
import argparse
import importlib
import json
import os
import pkgutil
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Request:
    def __init__(self, method, path, query, headers, body, base_url):
        self.method = method
        self.path = path
        self.query = query  # dict: name -> first value
        self.headers = headers
        self.body = body
        self.base_url = base_url  # "http://127.0.0.1:PORT", for URLs in responses

    def form(self):
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body.decode("utf-8", "replace")).items()}


class Response:
    def __init__(self, status=200, body=b"", headers=None, content_type="application/json"):
        self.status = status
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.headers = dict(headers or {})
        self.headers.setdefault("Content-Type", content_type)


def json_response(obj, status=200, headers=None):
    return Response(status, json.dumps(obj), headers)


class State:
    def __init__(self, world, world_dir, modules):
        self.world = world
        self.world_dir = world_dir
        self.modules = modules
        self.lock = threading.Lock()
        self.faults = []
        self.requests = []
        self.memory = {}  # per-module state (tokens issued, ...), keyed by module name

    def take_fault(self, target):
        with self.lock:
            for fault in self.faults:
                if not target.startswith(fault.get("prefix", "")):
                    continue
                if fault.get("match") and fault["match"] not in target:
                    continue
                if fault["count"] <= 0:
                    continue
                fault["count"] -= 1
                return dict(fault)
        return None


def load_modules():
    modules = []
    for info in pkgutil.iter_modules([HERE]):
        if info.name == "server" or info.name.startswith("_"):
            continue
        module = importlib.import_module(info.name)
        if hasattr(module, "PREFIX") and hasattr(module, "handle"):
            modules.append(module)
    return modules


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: tests read the request log instead
            pass

        def setup(self):
            super().setup()
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm
            # and the client's delayed ACK hold each keep-alive response back ~40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(self, response, truncate=False):
            body = response.body
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            if truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body[: len(body) // 2] if truncate else body)
            if truncate:
                self.wfile.flush()
                self.close_connection = True

        def _control(self, parsed):
            if parsed.path == "/_control/fault" and self.command == "POST":
                fault = json.loads(self._body() or b"{}")
                fault.setdefault("count", 1)
                with state.lock:
                    state.faults.append(fault)
                return json_response({"ok": True})
            if parsed.path == "/_control/reset":
                with state.lock:
                    state.faults.clear()
                    state.requests.clear()
                    state.memory.clear()
                return json_response({"ok": True})
            if parsed.path == "/_control/requests":
                with state.lock:
                    return json_response(list(state.requests))
            return json_response({"error": "unknown control endpoint"}, 404)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self):
            parsed = urllib.parse.urlsplit(self.path)
            if parsed.path.startswith("/_control/"):
                return self._send(self._control(parsed))
            body = self._body()
            query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
            with state.lock:
                state.requests.append({"method": self.command, "path": parsed.path,
                                       "query": query, "time": time.time()})
            target = parsed.path + ("?" + parsed.query if parsed.query else "")
            fault = state.take_fault(target)
            if fault and fault.get("delay"):
                time.sleep(float(fault["delay"]))
            if fault and fault.get("reset"):
                # SO_LINGER 0: close() sends RST ("Connection reset by peer") instead of FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1]
            request = Request(self.command, parsed.path, query, self.headers, body, "http://" + host)
            response = None
            for module in state.modules:
                if parsed.path.startswith(module.PREFIX):
                    response = module.handle(request, state)
                    break
            if response is None:
                response = json_response({"error": "not found"}, 404)
            if fault and "status" in fault:
                response = Response(fault["status"], fault.get("body", ""), fault.get("headers"),
                                    fault.get("content_type", "application/json"))
            elif fault and "body" in fault:
                response.body = fault["body"].encode("utf-8")
            if fault and fault.get("headers") and "status" not in fault:
                response.headers.update(fault["headers"])
            try:
                self._send(response, truncate=bool(fault and fault.get("truncate")))
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_HEAD = _handle

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    args = parser.parse_args()
    with open(args.world, encoding="utf-8") as f:
        world = json.load(f)
    state = State(world, os.path.dirname(os.path.abspath(args.world)), load_modules())
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
