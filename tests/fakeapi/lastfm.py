"""Fake Last.fm API 2.0 under /2.0/ (tests, benchmarks and the offline demo).

Built from ../shared/reference/api/API_FORMATS.md section 1 and its examples:
  * GET /2.0/?method=...&api_key=...&format=json; method names match in any case.
  * tag.getTopTracks (tag, page, limit=50): the world's tracks carrying the tag (any
    case), by the tag's count then listeners; numbers as strings ("duration":"208",
    "@attr":{"page":"1","perPage":"50","totalPages":"3","total":"120"}), item
    "@attr":{"rank":"1"}, "streamable":{"#text":"0","fulltrack":"0"}, "image" lists of
    {"#text","size"}, mbid "" when the world has none; one track on a page comes as a
    bare object, none as [] (an unknown tag: totalPages "0", no error).
  * track.getTopTags (artist + track, or mbid): {"toptags":{"tag":[{"count":100,
    "name":..,"url":..}],"@attr":{"artist":..,"track":..}}} with count as the world
    gives it (a number, or a string to test leniency); one tag as a bare object; no
    tags as []; an unknown track of a known artist as [] (HTTP 200); an unknown
    artist as {"error":6,"message":"Track not found","links":[]} (HTTP 200).
  * autocorrect=1 (track.getTopTags, track.getInfo): a world track's "misspellings"
    ([{"artist":..,"title":..}]) find it, and @attr names the corrected artist and
    track, as the real service does; without autocorrect they are unknown.
  * The "[unknown]" artist: world tracks may carry it; Last.fm lists such tracks.
  * track.getInfo: duration in milliseconds, toptags without counts.
  * Keys: world "lastfm": {"api_key": "test-key", "suspended_keys": [...]}; another
    key → {"error":10,...} (HTTP 403), a suspended one → error 26 (HTTP 403); no
    key or a missing parameter → error 6 "Invalid parameters ..." (HTTP 400).
  * Unknown method → error 3 (HTTP 400).  format other than json → XML error 5.
Other failures (8, 11, 16, 29 in 200 bodies, 429, 5xx, slow, truncated or malformed
bodies) are injected through /_control/fault (server.py).
"""
import hashlib
import json
import urllib.parse

from server import Response

PREFIX = "/2.0/"

IMAGE_SIZES = ["small", "medium", "large", "extralarge"]


def _json(obj, status=200):
    return Response(status, json.dumps(obj, ensure_ascii=False), content_type="application/json")


def _error(code, message, status=200):
    return _json({"error": code, "message": message, "links": []}, status)


def _lower(s):
    return (s or "").strip().lower()


def _slug(s):
    return urllib.parse.quote_plus(s or "", safe="")


def _tracks(state):
    return state.world.get("tracks", [])


def _tag_index(state):
    """tag (lower case) -> tracks carrying it, best first; built once per world."""
    memo = state.memory.setdefault("lastfm", {})
    if "by_tag" not in memo:
        by_tag = {}
        for t in _tracks(state):
            for tag in t.get("tags", []):
                by_tag.setdefault(_lower(tag["name"]), []).append((float(tag.get("count", 0)), t))
        for tag, items in by_tag.items():
            items.sort(key=lambda ct: (-ct[0], -int(ct[1].get("listeners", 0)), ct[1]["artist"], ct[1]["title"]))
            by_tag[tag] = [t for _, t in items]
        memo["by_tag"] = by_tag
    return memo["by_tag"]


def _list(items):
    """Last.fm's XML-to-JSON rule: one element is a bare object, none is []."""
    if len(items) == 1:
        return items[0]
    return items


def _images(seed):
    digest = hashlib.md5(seed.encode("utf-8")).hexdigest()
    return [{"#text": "https://lastfm.freetls.fastly.net/i/u/%s/%s.png" % (size, digest), "size": size}
            for size in IMAGE_SIZES]


def _track_url(t):
    return "https://www.last.fm/music/%s/_/%s" % (_slug(t["artist"]), _slug(t["title"]))


def top_tracks(request, state):
    tag = request.query.get("tag")
    if not tag:
        return _error(6, "Invalid parameters - Your request is missing a required parameter", 400)
    try:
        page = max(1, int(request.query.get("page", "1")))
        limit = max(1, int(request.query.get("limit", "50")))
    except ValueError:
        return _error(6, "Invalid parameters - page and limit must be numbers", 400)
    found = _tag_index(state).get(_lower(tag), [])
    total_pages = (len(found) + limit - 1) // limit
    chunk = found[(page - 1) * limit: page * limit]
    items = []
    for i, t in enumerate(chunk):
        items.append({
            "name": t["title"],
            "duration": str(int(t.get("duration", 0))),
            "mbid": t.get("mbid", ""),
            "url": _track_url(t),
            "streamable": {"#text": "0", "fulltrack": "0"},
            "artist": {"name": t["artist"], "mbid": t.get("artist_mbid", ""),
                       "url": "https://www.last.fm/music/%s" % _slug(t["artist"])},
            "image": _images(t["artist"] + t["title"]),
            "@attr": {"rank": str((page - 1) * limit + i + 1)},
        })
    return _json({"tracks": {"track": _list(items),
                             "@attr": {"tag": tag, "page": str(page), "perPage": str(limit),
                                       "totalPages": str(total_pages), "total": str(len(found))}}})


def _find_track(request, state):
    """(track, artist_known) for the artist+track or mbid parameters."""
    mbid = request.query.get("mbid")
    if mbid:
        for t in _tracks(state):
            if t.get("mbid") == mbid:
                return t, True
        return None, False
    artist, title = _lower(request.query.get("artist")), _lower(request.query.get("track"))
    artist_known = False
    for t in _tracks(state):
        if _lower(t["artist"]) == artist:
            artist_known = True
            if _lower(t["title"]) == title:
                return t, True
    if request.query.get("autocorrect") == "1":
        for t in _tracks(state):
            for m in t.get("misspellings", []):
                if _lower(m.get("artist")) == artist and _lower(m.get("title")) == title:
                    return t, True
    return None, artist_known


def top_tags(request, state):
    if not request.query.get("mbid") and not (request.query.get("artist") and request.query.get("track")):
        return _error(6, "Invalid parameters - Your request is missing a required parameter", 400)
    t, artist_known = _find_track(request, state)
    if t is None and not artist_known:
        return _error(6, "Track not found")
    tags = []
    for tag in (t or {}).get("tags", []):
        tags.append({"count": tag.get("count", 0), "name": tag["name"],
                     "url": "https://www.last.fm/tag/%s" % _slug(tag["name"])})
    attr = {"artist": t["artist"] if t else request.query.get("artist", ""),
            "track": t["title"] if t else request.query.get("track", "")}
    return _json({"toptags": {"tag": _list(tags), "@attr": attr}})


def track_info(request, state):
    t, artist_known = _find_track(request, state)
    if t is None:
        return _error(6, "Track not found")
    body = {"name": t["title"], "url": _track_url(t), "duration": str(int(t.get("duration", 0)) * 1000),
            "streamable": {"#text": "0", "fulltrack": "0"},
            "listeners": str(t.get("listeners", 0)), "playcount": str(10 * t.get("listeners", 0)),
            "artist": {"name": t["artist"], "url": "https://www.last.fm/music/%s" % _slug(t["artist"])},
            "toptags": {"tag": _list([{"name": g["name"], "url": "https://www.last.fm/tag/%s" % _slug(g["name"])}
                                      for g in t.get("tags", [])[:5]])}}
    if t.get("mbid"):
        body["mbid"] = t["mbid"]
    return _json({"track": body})


METHODS = {"tag.gettoptracks": top_tracks, "track.gettoptags": top_tags, "track.getinfo": track_info}


def handle(request, state):
    settings = state.world.get("lastfm", {})
    if request.query.get("format") != "json":
        return Response(200, '<?xml version="1.0" encoding="UTF-8"?>\n<lfm status="failed">\n'
                             '<error code="5">Invalid format - This service doesn\'t exist in that format</error>\n</lfm>',
                        content_type="text/xml")
    key = request.query.get("api_key")
    if not key:
        return _error(6, "Invalid parameters - Your request is missing a required parameter", 400)
    if key in settings.get("suspended_keys", []):
        return _error(26, "Suspended API key - Access for your account has been suspended, please contact Last.fm", 403)
    if key != settings.get("api_key", "test-key"):
        return _error(10, "Invalid API key - You must be granted a valid key by last.fm", 403)
    method = METHODS.get(_lower(request.query.get("method")))
    if method is None:
        return _error(3, "Invalid Method - No method with that name in this package", 400)
    return method(request, state)
