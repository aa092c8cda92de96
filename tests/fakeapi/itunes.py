"""Fake iTunes Search API: /itunes/search?term=...&media=music&entity=song&country=CC.

Format as in examples/itunes_search.*.json ({"resultCount": N, "results": [...]},
previewUrl an AAC .m4a, trackTimeMillis).  Throttling beyond world
"rate_limits"."itunes" answers 403 without Retry-After, as Apple does.  A bad
parameter (a country that is not a store, a missing term) is HTTP 400 with
{"errorMessage": ..., "queryParameters": {...}}, Apple's error shape.  Without
entity=song the answer mixes in other kinds (an album, a music video).
"""
from server import Response, json_response
import _previewcommon as common

PREFIX = "/itunes/"
_STORES = {"US", "GB", "DE", "FR", "JP", "CA", "AU", "SE", "NL", "ES", "IT", "BR"}


def _result(request, t):
    it = t["itunes"]
    r = {"wrapperType": "track", "kind": "song", "artistId": 40000 + it["id"], "collectionId": 50000 + it["id"],
         "trackId": it["id"], "artistName": t["artist"], "collectionName": t.get("album", "Album"),
         "trackName": t["title"], "trackTimeMillis": int(t.get("duration", 200) * 1000),
         "country": "USA", "currency": "USD", "primaryGenreName": "Rock", "isStreamable": True,
         "artworkUrl100": "https://is1-ssl.mzstatic.com/image/thumb/Music/v4/%d/source/100x100bb.jpg" % it["id"]}
    if it.get("preview", True):
        r["previewUrl"] = common.preview_url(request, t, "itunes")
    return r


def handle(request, state):
    if request.path != "/itunes/search":
        return None
    if common.over_limit(state, "itunes"):
        return Response(403, "<html><body>Forbidden</body></html>", content_type="text/html")
    country = request.query.get("country", "US")
    if country.upper() not in _STORES:
        return json_response({"errorMessage": "Invalid value(s) for key(s): [country]",
                              "queryParameters": {"country": country, "output": "json", "callback": "A javascript function to handle your search results",
                                                  "media": "music", "entity": request.query.get("entity", ""), "term": request.query.get("term", "")}}, 400)
    if not request.query.get("term"):
        return json_response({"errorMessage": "Invalid value(s) for key(s): [term]"}, 400)
    term = common.norm(request.query.get("term", ""))
    found = [t for t in common.tracks(state) if "itunes" in t
             and common.norm(t["title"]) in term and common.norm(t["artist"]) in term]
    limit = int(request.query.get("limit", 50))
    results = [_result(request, t) for t in found[:limit]]
    if request.query.get("entity") != "song":
        results = [{"wrapperType": "collection", "collectionType": "Album", "collectionId": 50000 + t["itunes"]["id"],
                    "artistName": t["artist"], "collectionName": t["title"]} for t in found[:1]] + results
    return json_response({"resultCount": len(results), "results": results})
