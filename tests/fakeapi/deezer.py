"""Fake Deezer: /deezer/search, /deezer/track/isrc:X and /deezer/track/ID, no key.

Formats as in examples/deezer_*.json: a page {"data": [...], "total": N}, a single
track for the ISRC route, errors inside the body: 800 "no data" for an unknown ISRC
(sent with HTTP 404, as recorded live; world "deezer_no_data_status": 200 sends the
other recorded form), 4 "Quota limit exceeded" (HTTP 200) beyond world
"rate_limits"."deezer", and {"error": "Not Found"} (a string) on unknown routes.
Search results carry no "isrc" (only the track object of the ISRC route does).  A
track's "deezer" object may say "readable": false (not playable here: Deezer still
sends a preview URL), "preview_url": "..." (sent as is, "{base}" = this server: for
hostile answers naming gopher://, file://, internal hosts) and "isrc_lookup": false (the ISRC route does not know it, the
search does).  Preview URLs are signed and expire (world "deezer_url_seconds"); the
preview host refuses them after.
"""
import re
import time

from server import json_response
import _previewcommon as common

PREFIX = "/deezer/"


def _track(request, state, t):
    dz = t["deezer"]
    url = common.preview_url(request, t, "deezer") if dz.get("preview", True) else ""
    if dz.get("preview_url"):  # a URL named as is (hostile answers: gopher://, file://, ...)
        url = dz["preview_url"].replace("{base}", request.base_url)
    elif url:
        exp = int(time.time() + state.world.get("deezer_url_seconds", 600))
        url += "?hdnea=exp=%d~acl=/api/1/1/*~data=user_id=0,application_id=42~hmac=97c0fd39" % exp
    return {"id": dz["id"], "readable": dz.get("readable", True), "title": t["title"], "title_short": t["title"],
            "title_version": "", "link": "https://www.deezer.com/track/%d" % dz["id"],
            "duration": int(t.get("duration", 200)), "rank": 21463, "explicit_lyrics": False,
            "preview": url, "md5_image": "48ae26b1d898c9825d1c0ef9b9e9e49a",
            "artist": {"id": 1000 + dz["id"], "name": t["artist"], "type": "artist"},
            "album": {"id": 2000 + dz["id"], "title": t.get("album", "Album"), "type": "album"},
            "type": "track"}


def handle(request, state):
    if common.over_limit(state, "deezer"):
        return json_response({"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}})
    m = re.match(r"^/deezer/track/isrc:(.+)$", request.path)
    if m:
        for t in common.tracks(state):
            if "deezer" in t and t["deezer"].get("isrc_lookup", True) \
                    and t.get("isrc", "").lower() == m.group(1).lower():
                body = _track(request, state, t)
                body["isrc"] = t["isrc"]
                return json_response(body)
        return json_response({"error": {"type": "DataException", "message": "no data", "code": 800}},
                             state.world.get("deezer_no_data_status", 404))
    m = re.match(r"^/deezer/track/([0-9]+)$", request.path)
    if m:
        for t in common.tracks(state):
            if "deezer" in t and t["deezer"]["id"] == int(m.group(1)):
                body = _track(request, state, t)
                if t.get("isrc"):
                    body["isrc"] = t["isrc"]
                return json_response(body)
        return json_response({"error": {"type": "DataException", "message": "no data", "code": 800}},
                             state.world.get("deezer_no_data_status", 404))
    if request.path == "/deezer/search":
        q = request.query.get("q", "")
        fields = dict(re.findall(r'(track|artist):"([^"]*)"', q))
        if fields:
            found = [t for t in common.tracks(state) if "deezer" in t
                     and common.norm(fields.get("track")) in common.norm(t["title"])
                     and common.norm(fields.get("artist")) == common.norm(t["artist"])]
        else:
            words = common.norm(q)
            found = [t for t in common.tracks(state) if "deezer" in t and common.norm(t["title"]) in words]
        limit = int(request.query.get("limit", 25))
        return json_response({"data": [_track(request, state, t) for t in found[:limit]], "total": len(found)})
    return json_response({"error": "Not Found"})
