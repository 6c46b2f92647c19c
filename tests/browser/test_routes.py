"""The page's static routes (no browser needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from rtc_interact import ConfigurationError, Host
from rtc_interact.web.routes import WEB_DIR, add_web_routes


def test_missing_msgpack_bundle_is_a_clear_error(tmp_path: Path) -> None:
    web_dir = tmp_path / "rtc_interact" / "web"
    shutil.copytree(WEB_DIR, web_dir, ignore=shutil.ignore_patterns("vendor", "__pycache__"))
    with pytest.raises(ConfigurationError, match="make setup"):
        add_web_routes(web.Application(), "/whep", web_dir)


async def test_host_serves_the_page_and_its_files(web_host: Host) -> None:
    origin = web_host.url.rsplit("/", 1)[0]
    async with aiohttp.ClientSession() as http:
        async with http.get(origin + "/") as page:
            assert page.status == 200
            html = await page.text()
        assert 'data-whep="/whep"' in html and "cdn" not in html.lower()
        for name in ("viewer.js", "viewer.css", "msgpack.min.js"):
            async with http.get(f"{origin}/viewer/{name}") as response:
                assert response.status == 200, name
                assert len(await response.read()) > 100
        async with http.get(origin + "/viewer/..%2Fhost.py") as response:
            assert response.status == 404
