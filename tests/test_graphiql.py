"""GraphiQL is served by Keyward itself: vendored files that match their manifest, pages whose every
script and stylesheet carries the integrity of the bytes served, a strict policy, nothing from elsewhere."""

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx

from app.http.graphiql import GRAPHIQL_DIR, VENDOR_DIR

ROOT = Path(__file__).resolve().parents[1]
ASSET_TAG = re.compile(r'<(?:script src|link rel="stylesheet" href)="([^"]+)" integrity="([^"]+)"')


def manifest() -> dict[str, dict[str, dict[str, str]]]:
    return json.loads((VENDOR_DIR / "manifest.json").read_text())  # type: ignore[no-any-return]


def test_the_vendored_files_are_the_ones_the_manifest_records() -> None:
    # given
    recorded = manifest()
    shipped = {path.name for path in VENDOR_DIR.iterdir()} - {"manifest.json"}
    # then: every file shipped is recorded, with the SHA-256 of its bytes
    assert shipped == set(recorded["files"])
    for name, entry in recorded["files"].items():
        digest = hashlib.sha256((VENDOR_DIR / name).read_bytes()).digest()
        assert entry["sha256"] == digest.hex(), name
        assert entry["sri"] == "sha256-" + base64.b64encode(digest).decode(), name
    # and every package is pinned to one version, from a verified tarball, with its licence beside it
    for package, entry in recorded["packages"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]), package
        assert entry["integrity"].startswith("sha512-"), package
        assert f"{package}.LICENSE" in shipped, package
    assert "MIT License" in (VENDOR_DIR / "graphiql.LICENSE").read_text()


async def test_the_page_loads_only_its_own_assets_each_with_the_integrity_of_what_is_served(
    client: httpx.AsyncClient,
) -> None:
    # when
    page = await client.get("/graphql", headers={"accept": "text/html"})
    # then
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text
    assets = ASSET_TAG.findall(page.text)
    assert {url for url, _ in assets} >= {
        "/graphiql/vendor/react.production.min.js",
        "/graphiql/vendor/react-dom.production.min.js",
        "/graphiql/vendor/graphiql.min.js",
        "/graphiql/vendor/graphiql.min.css",
        "/graphiql/keyward-graphiql.js",
    }
    assert len(assets) == page.text.count("<script") + page.text.count('rel="stylesheet"')
    for url, integrity in assets:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert integrity == "sha256-" + base64.b64encode(hashlib.sha256(asset.content).digest()).decode(), url
        assert asset.headers["x-content-type-options"] == "nosniff", url


async def test_the_page_has_a_strict_policy_and_is_not_cached(client: httpx.AsyncClient) -> None:
    # when
    page = await client.get("/graphql", headers={"accept": "text/html"})
    # then
    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
    assert "unsafe" not in page.headers["content-security-policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"


def test_our_start_up_script_turns_persistence_off() -> None:
    script = (GRAPHIQL_DIR / "keyward-graphiql.js").read_text()
    assert "shouldPersistHeaders: false" in script
    assert "storage: tabMemory" in script
    assert "history.pushState" not in script and "history.replaceState" not in script


def test_the_assets_are_in_the_built_package(tmp_path: Path) -> None:
    # given a clean copy of the source (an egg-info or build/ left in the checkout would leak files in)
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv", ".tools", "build", "*.egg-info", "node_modules", "test-results"),
    )
    # when it is built as it is installed (not the editable checkout)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("keyward-*.whl")
    # then every GraphiQL file is in the wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"app/graphiql/{p.relative_to(GRAPHIQL_DIR)}" for p in GRAPHIQL_DIR.rglob("*") if p.is_file()}
    assert expected <= names, expected - names
