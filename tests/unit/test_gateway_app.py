"""The gateway serves the built web app (gateway/routes/app.py): its page at `/` and
for every screen below its sections (SPA fallback), its files with the right cache
headers, and never the app's page in place of an API answer."""
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from c2p.errors import NotFound
from gateway.routes import app


@pytest.fixture
def dist(tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>C2P</title>", encoding="utf-8")
    (tmp_path / "sw.js").write_text("self.x=1", encoding="utf-8")
    (tmp_path / "manifest.webmanifest").write_text("{}", encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / ".env").write_text("SECRET=1", encoding="utf-8")
    monkeypatch.setenv("C2P_WEB_DIST", str(tmp_path))
    return tmp_path


def request(path="/"):
    return Request(EnvironBuilder(path=path).get_environ())


routes = app.AppRoutes()


def test_the_page_is_served_at_the_root_and_revalidated(dist):
    response = routes.web_app(request())
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert b"C2P" in response.get_data()


@pytest.mark.parametrize("section, rest", [("visits", "0b7e/edit"), ("plans", "42"), ("desk", "map")])
def test_a_reload_on_a_screen_answers_the_page(dist, section, rest):
    assert b"C2P" in routes.web_app_screen(request(f"/{section}/{rest}"), section, rest).get_data()
    assert b"C2P" in routes.web_app_root(request(f"/{section}"), section).get_data()


def test_hashed_files_are_cached_for_a_year_and_the_service_worker_is_not(dist):
    asset = routes.web_app_asset(request(), "index-abc123.js")
    assert "immutable" in asset.headers["Cache-Control"]
    assert asset.content_type.startswith("text/javascript")
    sw = routes.web_app_root(request("/sw.js"), "sw.js")
    assert sw.headers["Cache-Control"] == "no-cache"
    manifest = routes.web_app_root(request("/manifest.webmanifest"), "manifest.webmanifest")
    assert manifest.content_type.startswith("application/manifest+json")


@pytest.mark.parametrize("name", [".env", "nothing.js", "..", "api"])
def test_unknown_hidden_or_outside_files_are_not_found(dist, name):
    with pytest.raises(NotFound):
        routes.web_app_root(request(f"/{name}"), name)


def test_an_asset_path_cannot_climb_out_of_the_build(dist):
    with pytest.raises(NotFound):
        routes.web_app_asset(request(), "../.env")


def test_a_missing_build_says_how_to_make_it(tmp_path, monkeypatch):
    monkeypatch.setenv("C2P_WEB_DIST", str(tmp_path / "none"))
    with pytest.raises(NotFound, match="npm"):
        routes.web_app(request())


def test_the_sections_are_the_app_s_top_level_screens():
    routes_ts = (app.REPO_DIST.parent / "src" / "routes.ts").read_text(encoding="utf-8")
    import re
    tops = {m.split("/")[1] for m in re.findall(r'path: "(/[a-z-]+)', routes_ts)}
    assert tops <= set(app.SECTIONS), tops - set(app.SECTIONS)


def test_the_gateway_s_url_map_sends_screens_to_the_app_and_api_paths_to_the_api():
    from werkzeug.exceptions import NotFound as NoRoute
    from werkzeug.routing import Map, Rule

    from gateway.openapi import http_routes
    from gateway.service import GatewayService
    urls = Map([Rule(url, endpoint=name, methods=[method])
                for name, method, url in http_routes(GatewayService)]).bind("c2p.test")
    assert urls.match("/")[0] == "web_app"
    assert urls.match("/sign-in")[0] == "web_app_root"
    assert urls.match("/visits/0b7e-11")[0] == "web_app_screen"
    assert urls.match("/desk/map/ML-SEG")[0] == "web_app_screen"
    assert urls.match("/assets/index-abc.js")[0] == "web_app_asset"
    assert urls.match("/health")[0] == "health"
    assert urls.match("/api/v1/plans")[0] == "list_plans"
    assert urls.match("/api/docs")[0] == "api_docs"
    for api_path in ("/api/v1/nothing", "/api/v1/plans/x/nothing", "/unknown/deeper"):
        with pytest.raises(NoRoute):
            urls.match(api_path)


def test_text_files_go_compressed_to_browsers_that_accept_gzip(dist):
    import gzip
    (dist / "assets" / "big-def456.js").write_text("const x = 1;\n" * 2000, encoding="utf-8")
    zipped = routes.web_app_asset(
        Request(EnvironBuilder(path="/assets/big-def456.js",
                               headers={"Accept-Encoding": "gzip, deflate, br"}).get_environ()),
        "big-def456.js")
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.get_data()) == ("const x = 1;\n" * 2000).encode()
    assert len(zipped.get_data()) < 1000
    plain = routes.web_app_asset(request("/assets/big-def456.js"), "big-def456.js")
    assert "Content-Encoding" not in plain.headers
    assert plain.get_data() == ("const x = 1;\n" * 2000).encode()
