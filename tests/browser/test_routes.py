"""The page's static routes (no browser needed)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from rtc_interact import ConfigurationError, Host
from rtc_interact.web.routes import (
    FIRST_WINDOW_BYTES,
    WEB_DIR,
    add_web_routes,
    compact_js,
    find_msgpack_bundle,
    page_url,
    render_page,
)


async def test_missing_msgpack_bundle_is_a_clear_503_not_a_broken_page(
        tmp_path: Path) -> None:
    web_dir = tmp_path / "rtc_interact" / "web"
    shutil.copytree(WEB_DIR, web_dir, ignore=shutil.ignore_patterns("vendor", "__pycache__"))
    with pytest.raises(ConfigurationError, match="make setup"):
        find_msgpack_bundle(web_dir)
    app = web.Application()
    add_web_routes(app, "/whep", web_dir)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as got:
            assert got.status == 503 and "make setup" in await got.text()
    finally:
        await runner.cleanup()


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


@pytest.mark.parametrize("host_offer", [True, False], ids=["host-offer", "page-offer"])
async def test_page_before_the_answer_is_one_response_within_the_first_window(
        web_host: Host, host_offer: bool) -> None:
    url = page_url(web_host.url, web_host.mint_token("v"), host_offer)
    async with aiohttp.ClientSession() as http, http.get(url) as page:
        body = await page.read()
    html = body.decode()
    assert len(body) <= FIRST_WINDOW_BYTES, len(body)  # else it may still arrive as the POST leaves
    assert ("window.rtcOffer = {" in html) is host_offer
    assert 'href="/viewer/' not in html
    boot = compact_js((WEB_DIR / "boot.js").read_text(encoding="utf-8"))
    assert boot in html and 'src="/viewer/boot.js"' not in html
    # boot.js comes before the stylesheet (a script after a pending stylesheet waits for it)
    assert html.index('<script data-whep="/whep">\n' + boot) < html.index("<style>")
    # what runs once the channel is open stays a reference, fetched once the answer is in
    for name in ("msgpack.min.js", "viewer.js"):
        held = f'<script src="/viewer/{name}" type="text/plain" data-after-signaling></script>'
        assert held in html, name


def test_the_parsed_page_is_the_video_and_its_overlay_the_rest_waits_in_templates() -> None:
    html = render_page(WEB_DIR, "/whep")
    body = html[html.index("<body>"):]
    parsed = re.sub(r"<template data-later>.*?</template>", "", body, flags=re.S)
    assert parsed.count("<template") == 0, "a template viewer.js would not put in place"
    assert 'id="video"' in parsed and 'id="debug"' in parsed  # boot.js uses both
    for held in ("<form", "<input", "<aside", 'id="tap"', 'id="log"'):
        assert held not in parsed and held in body, held
    assert 'querySelectorAll("template[data-later]")' in (WEB_DIR / "viewer.js").read_text()


def test_compacting_the_inlined_script_drops_only_comment_lines_and_indentation() -> None:
    source = '"use strict";\n// a comment\n  const a = "//not a comment";  // kept\n\n  f(`x`);\n'
    assert compact_js(source) == '"use strict";\nconst a = "//not a comment";  // kept\nf(`x`);\n'
    for line in (WEB_DIR / "boot.js").read_text(encoding="utf-8").splitlines():
        assert line.count("`") % 2 == 0, line  # no template literal spans lines


def test_a_file_that_would_end_its_element_early_stays_a_reference(tmp_path: Path) -> None:
    shutil.copytree(WEB_DIR, tmp_path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "boot.js").write_text('document.write("</SCRIPT>");\n')
    html = render_page(tmp_path, "/whep")
    assert '<script src="/viewer/boot.js" data-whep="/whep"></script>' in html
    assert "<style>" in html  # the stylesheet is still inlined
