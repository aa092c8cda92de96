"""Fake preview hosts: /previews/<provider>/<file> serves the world's audio files
(audio/mpeg for .mp3, audio/mp4 for .m4a).  Deezer's signed URLs carry
hdnea=exp=<unix time>; past it the answer is 403, as on Deezer's CDN.
/previews/redirect?to=URL answers 302 to URL (a CDN redirect, or a hostile one).
"""
import os
import re
import time

from server import Response, json_response

PREFIX = "/previews/"
_cache = {}


def handle(request, state):
    if request.path == "/previews/redirect":
        return Response(302, "", {"Location": request.query.get("to", "/")}, content_type="text/plain")
    parts = request.path.split("/", 3)  # "", "previews", provider, file
    if len(parts) < 4:
        return None
    hdnea = request.query.get("hdnea", "")
    m = re.search(r"exp=(\d+)", hdnea)
    if m and int(m.group(1)) < time.time():
        return Response(403, "<Error>Expired</Error>", content_type="text/xml")
    path = os.path.normpath(os.path.join(state.world_dir, parts[3]))
    if not path.startswith(state.world_dir) or not os.path.isfile(path):
        return json_response({"error": "not found"}, 404)
    data = _cache.get(path)
    if data is None:
        with open(path, "rb") as f:
            data = f.read()
        _cache[path] = data
    return Response(200, data, content_type="audio/mp4" if path.endswith(".m4a") else "audio/mpeg")
