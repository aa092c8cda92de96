"""Helpers shared by the preview providers' fake APIs (spotify, deezer, itunes, previews).

World keys they read, besides each track's "spotify"/"deezer"/"itunes" objects
({"id": ..., "preview": bool}) and "audio" (an MP3) / "audio_m4a" (an M4A):
  "spotify_credentials": {"id": str, "secret": str}   default test-id / test-secret
  "spotify_token_seconds": N      lifetime of issued tokens (default 3600)
  "deezer_url_seconds": N         lifetime of signed Deezer preview URLs (default 600)
  "rate_limits": {"deezer": r, "itunes": r, "spotify": r}
                                  requests per second each API accepts, counted over a
                                  sliding 5 s window as Deezer does ("50 per 5 s"), plus one;
                                  beyond it: 429 (Spotify), 403 (iTunes), error 4 (Deezer)
"""
import collections
import functools
import re
import threading
import time
import unicodedata

_lock = threading.Lock()


@functools.lru_cache(maxsize=100000)
def norm(text):
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def tracks(state):
    return state.world.get("tracks", [])


def preview_url(request, track, provider):
    path = track.get("audio_m4a" if provider == "itunes" else "audio") or track.get("audio")
    if not path:
        return None
    return "%s/previews/%s/%s" % (request.base_url, provider, path)


def over_limit(state, provider):
    """At most rate * 5 + 1 requests in any 5 s window; True = refuse."""
    rate = state.world.get("rate_limits", {}).get(provider)
    if not rate:
        return False
    now = time.monotonic()
    with _lock:
        seen = state.memory.setdefault("ratelimit:" + provider, collections.deque())
        while seen and seen[0] <= now - 5:
            seen.popleft()
        if len(seen) >= int(rate * 5) + 1:
            return True
        seen.append(now)
        return False
