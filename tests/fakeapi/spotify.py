"""Fake Spotify: the client-credentials token endpoint and track search.

POST /spotify/accounts/api/token  (Basic auth, grant_type=client_credentials)
GET  /spotify/v1/search?q=isrc:X | track:"T" artist:"A"&type=track&limit=N  (Bearer token)
Formats as in examples/spotify_*.json: tokens expire (world "spotify_token_seconds");
an expired token gets 401 "The access token expired"; preview_url is null for tracks
whose "spotify" object says "preview": false.  Result arrays may hold null items, as
the live API's do (world "spotify_null_items": true puts one before and after the
results).  "market" is read and echoed nowhere, as in the live API; the request log
shows it.
"""
import base64
import re
import secrets
import time
import urllib.parse

from server import Response, json_response
import _previewcommon as common

PREFIX = "/spotify/"


def _error(status, message):
    return json_response({"error": {"status": status, "message": message}}, status)


def _token(request, state):
    creds = state.world.get("spotify_credentials", {"id": "test-id", "secret": "test-secret"})
    auth = request.headers.get("Authorization", "")
    expected = "Basic " + base64.b64encode(("%s:%s" % (creds["id"], creds["secret"])).encode()).decode()
    if auth != expected:
        return json_response({"error": "invalid_client", "error_description": "Invalid client"}, 400)
    if request.form().get("grant_type") != "client_credentials":
        return json_response({"error": "unsupported_grant_type"}, 400)
    lifetime = state.world.get("spotify_token_seconds", 3600)
    token = secrets.token_urlsafe(24)
    with state.lock:
        state.memory.setdefault("spotify_tokens", {})[token] = time.time() + lifetime
    return json_response({"access_token": token, "token_type": "bearer", "expires_in": lifetime})


def _item(request, track):
    sp = track["spotify"]
    url = common.preview_url(request, track, "spotify") if sp.get("preview", True) else None
    if url:
        url += "?cid=cfe923b2d660439caf2b557b21f31221"
    artists = [{"external_urls": {"spotify": "https://open.spotify.com/artist/x"}, "href": "https://api.spotify.com/v1/artists/x",
                "id": "x", "name": name, "type": "artist", "uri": "spotify:artist:x"}
               for name in track["artist"].split(" & ")]
    return {"album": {"album_type": "album", "artists": artists, "id": "alb" + sp["id"], "name": track.get("album", "Album"),
                      "images": [], "release_date": "2001-01-01", "release_date_precision": "day", "total_tracks": 10,
                      "type": "album", "uri": "spotify:album:alb" + sp["id"]},
            "artists": artists, "disc_number": 1, "duration_ms": int(track.get("duration", 200) * 1000),
            "explicit": False, "external_ids": {"isrc": track.get("isrc", "")} if track.get("isrc") else {},
            "external_urls": {"spotify": "https://open.spotify.com/track/" + sp["id"]},
            "href": "https://api.spotify.com/v1/tracks/" + sp["id"], "id": sp["id"], "is_local": False,
            "is_playable": True, "name": track["title"], "popularity": 50, "preview_url": url,
            "track_number": 1, "type": "track", "uri": "spotify:track:" + sp["id"]}


def _search(request, state):
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return _error(401, "No token provided")
    with state.lock:
        expiry = state.memory.get("spotify_tokens", {}).get(auth[7:])
    if expiry is None:
        return _error(401, "Invalid access token")
    if expiry < time.time():
        return _error(401, "The access token expired")
    if common.over_limit(state, "spotify"):
        return Response(429, "{}", {"Retry-After": "1"})
    q = request.query.get("q", "")
    if not q:
        return _error(400, "No search query")
    limit = int(request.query.get("limit", 20))
    found = []
    m = re.match(r"isrc:(\S+)", q)
    if m:
        found = [t for t in common.tracks(state) if "spotify" in t and t.get("isrc", "").lower() == m.group(1).lower()]
    else:
        fields = dict(re.findall(r'(track|artist):"([^"]*)"', q))
        for t in common.tracks(state):
            if "spotify" not in t:
                continue
            if common.norm(fields.get("track")) in common.norm(t["title"]) and \
                    common.norm(fields.get("artist")) in common.norm(t["artist"]):
                found.append(t)
    items = [_item(request, t) for t in found[:limit]]
    if state.world.get("spotify_null_items"):
        items = [None] + items + [None]
    href = request.base_url + "/spotify/v1/search?" + urllib.parse.urlencode(request.query)
    return json_response({"tracks": {"href": href, "items": items, "limit": limit, "next": None,
                                     "offset": 0, "previous": None, "total": len(found)}})


def handle(request, state):
    if request.path == "/spotify/accounts/api/token" and request.method == "POST":
        return _token(request, state)
    if request.path == "/spotify/v1/search":
        return _search(request, state)
    return None
