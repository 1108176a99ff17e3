"""The console's own static files (one stylesheet, one small script), served from the app under content-hashed
names with a year-long cache: a changed file gets a new name, so no browser keeps an old one."""

import functools
import hashlib
import os
from typing import Dict, Tuple

from chalice import Blueprint, Response

ASSETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
PREFIX = "/console/assets/"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

bp = Blueprint(__name__)


@functools.lru_cache(maxsize=1)
def _assets() -> Tuple[Dict[str, str], Dict[str, Tuple[str, str]]]:
    """(name -> hashed name, hashed name -> (text, content type)), read once per process."""
    names, served = {}, {}
    for name in sorted(os.listdir(ASSETS_DIR)):
        stem, extension = os.path.splitext(name)
        if extension not in TYPES:
            continue
        with open(os.path.join(ASSETS_DIR, name), encoding="utf-8") as source:
            text = source.read()
        hashed = f"{stem}.{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}{extension}"
        names[name] = hashed
        served[hashed] = (text, TYPES[extension])
    return names, served


def asset_url(name: str) -> str:
    """The path of an asset under its content-hashed name."""
    return PREFIX + _assets()[0][name]


def asset_text(name: str) -> str:
    """An asset's content (for measuring what a page sends)."""
    return _assets()[1][_assets()[0][name]][0]


@bp.route(PREFIX + "{name}", methods=["GET"])
def console_asset(name: str) -> Response:
    """An asset by its hashed name; any other name is not found."""
    found = _assets()[1].get(name)
    if found is None:
        return Response(body="Not found", status_code=404, headers={"Content-Type": "text/plain; charset=utf-8"})
    text, content_type = found
    return Response(
        body=text,
        status_code=200,
        headers={"Content-Type": content_type, "Cache-Control": "public, max-age=31536000, immutable"},
    )
