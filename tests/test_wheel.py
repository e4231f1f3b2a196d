"""The wheel carries everything the bot reads at run time.

A copy of the checkout as a fresh clone holds it (no venv, no npm folders, no
web/static/vendor) gets the npm packages `make` installs, and the wheel is built from it
(setup.py copies the front-end files into the package tree). The wheel goes into a new
venv outside the source tree, which borrows this venv's dependencies (a .pth file) but
not its editable install; from a folder outside the checkout, the installed `chamberbot`
writes an HTML report with ECharts inlined and `chamberbot run` serves a styled console.
Node.js and tests/gateway/node_modules are required (see tests/gateway_harness.py).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.gateway_harness import Gateway, clean_env, wait_for, write_config

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "channels", "chamberbot", "handlers", "policy_feeds", "sheets", "web")
# What a clone does not have (git-ignored): at the top, and anywhere; and the package files
# that are build inputs only.
TOP_JUNK = {".git", ".venv", "build", "dist", "data"}
JUNK = {"node_modules", "screenshots", "__pycache__", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", ".hypothesis"}  # fmt: skip
BUILD_INPUTS = {"web/frontend/package.json"}
ECHARTS = "handlers/reports/vendor/node_modules/echarts"
HTMX = "web/frontend/node_modules/htmx.org"
PICO = "web/frontend/node_modules/@picocss/pico"
# What `make` leaves in the npm folders that the build takes (package.json: the version).
NPM_FILES = [
    f"{ECHARTS}/{f}" for f in ("package.json", "dist/echarts.min.js", "LICENSE", "NOTICE")
]
NPM_FILES += [f"{HTMX}/{f}" for f in ("package.json", "dist/htmx.min.js", "LICENSE")]
NPM_FILES += [f"{PICO}/{f}" for f in ("package.json", "css/pico.min.css", "LICENSE.md")]
FRONT_END = [
    f"{ECHARTS}/dist/echarts.min.js",
    f"{ECHARTS}/LICENSE",
    f"{ECHARTS}/NOTICE",
    "web/static/vendor/htmx.min.js",
    "web/static/vendor/htmx.LICENSE",
    "web/static/vendor/pico.min.css",
    "web/static/vendor/pico.LICENSE.md",
]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
REPORT_CHAT = "/as 张总 @会员一群\n诉求 银行突然抽贷，流动资金紧张\n张氏机械有限公司\n"


def _clone(dest: Path) -> Path:
    """The checkout as a fresh clone has it: no venv, no npm folders, no web/static/vendor."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in JUNK or n.endswith((".egg-info", ".db", ".db-wal"))}
        here = Path(folder).resolve()
        if here == ROOT:
            skip |= TOP_JUNK & set(names)
        elif here == ROOT / "web" / "static":
            skip.add("vendor")
        return skip

    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def _build(
    source: Path, out: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), "."],
        cwd=source, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _env() -> dict[str, str]:
    """No Wechaty variables, nothing that puts the checkout on the path."""
    env = clean_env()
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
        env.pop(name, None)
    return env


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def _up(url: str) -> bool:
    try:
        return _get(url)[0] == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clone = _clone(tmp_path_factory.mktemp("clone") / "chamberbot")
    for name in NPM_FILES:
        if not (ROOT / name).is_file():
            pytest.fail(f"{name} is missing: run `make test` (it installs the npm packages)")
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, clone / name)
    return clone


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = _build(source, out)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("chamberbot-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding the wheel; this venv's site-packages joins it after the install
    (pip would otherwise see the editable chamberbot there), without its .pth files."""
    venv = tmp_path_factory.mktemp("site") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [*PIP, "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         "--no-compile", str(wheel)],
        check=True, timeout=120, env=_env(),
    )  # fmt: skip
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_chamberbot_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "chamberbot"), *args],
        cwd=cwd, env=_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_wheel_holds_every_file_of_the_packages(source: Path, wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    files = {
        path.relative_to(source).as_posix()
        for package in PACKAGES
        for path in (source / package).rglob("*")
        if path.is_file() and not {"node_modules", "__pycache__"} & set(path.parts)
    }
    assert "bot/demo/seed.yaml" in files
    assert "web/templates/login.html" in files
    assert sorted(files - BUILD_INPUTS - names) == []
    assert sorted(set(FRONT_END) - names) == []
    assert not [n for n in names if n.endswith(".installed")]  # the make stamp stays home


def test_the_installed_package_is_imported_from_its_own_folder(
    installed: Path, tmp_path: Path
) -> None:
    probe = (
        "import importlib, importlib.metadata as m, json, sys; "
        f"print(json.dumps([[importlib.import_module(p).__file__ for p in {PACKAGES!r}],"
        " sys.path, m.version('chamberbot')]))"
    )
    found = subprocess.run(
        [str(installed / "bin" / "python"), "-c", probe],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    files, path, version = json.loads(found.stdout)
    for file in files:
        assert Path(file).is_relative_to(installed), file
    assert str(ROOT) not in path
    assert version == "0.1.0"
    assert (installed / "bin" / "chamberbot").read_text().startswith(f"#!{installed}/bin/python")


def test_the_installed_bot_writes_the_html_report_with_its_chart(
    installed: Path, tmp_path: Path
) -> None:
    (tmp_path / "chat.txt").write_text(REPORT_CHAT, encoding="utf-8")
    demo = _run(installed, "demo", "--script", "chat.txt", "--data", "data",
                "--start", "2026-11-10T10:00:00", cwd=tmp_path)  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    report = _run(installed, "report", "month", "2026-11", "--db", "data/demo.db",
                  "--format", "html", "--out", "report.html", cwd=tmp_path)  # fmt: skip

    assert report.returncode == 0, report.stdout + report.stderr
    assert "缺少图表库" not in report.stdout + report.stderr
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    echarts = (ROOT / ECHARTS / "dist" / "echarts.min.js").read_text(encoding="utf-8")
    assert echarts.replace("</script", "<\\/script") in html
    assert "echarts.init(" in html
    assert "张氏机械有限公司" in html  # the case the chat reported is in the report


@pytest.fixture
def console(installed: Path, gateway: Gateway, tmp_path: Path) -> Iterator[str]:
    """`chamberbot run` of the installed wheel (cwd outside the checkout), its console's URL."""
    gateway.post("/reset")
    log = (tmp_path / "bot.log").open("w", encoding="utf-8")
    proc: subprocess.Popen[bytes] | None = None
    try:
        config = write_config(tmp_path, gateway.endpoint, gateway.token)
        listen = yaml.safe_load(config.read_text(encoding="utf-8"))["web"]["listen"]
        proc = subprocess.Popen(
            [str(installed / "bin" / "chamberbot"), "run", "--config", str(config)],
            cwd=tmp_path, env=_env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://{listen}"

        def up() -> bool:
            if proc is not None and proc.poll() is not None:
                raise AssertionError((tmp_path / "bot.log").read_text(encoding="utf-8"))
            return _up(f"{url}/login")

        wait_for(up, "the console of the installed `chamberbot run`", timeout=30)
        yield url
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def test_the_installed_bot_serves_a_styled_console(console: str) -> None:
    status, page = _get(f"{console}/login")
    assert status == 200
    for asset in ("/static/vendor/pico.min.css", "/static/vendor/htmx.min.js", "/static/app.css"):
        assert f'"{asset}"'.encode() in page, asset
        status, body = _get(console + asset)
        assert status == 200, asset
        assert body, asset
    assert b"Pico CSS" in _get(f"{console}/static/vendor/pico.min.css")[1]


def test_a_wheel_without_the_front_end_files_is_not_built(tmp_path: Path) -> None:
    """No ECharts and no npm to install it: the build stops and says so (no silent wheel)."""
    clone = _clone(tmp_path / "chamberbot")
    env = {**_env(), "PATH": str(tmp_path / "no-npm-here")}
    built = _build(clone, tmp_path / "dist", env)
    assert built.returncode != 0
    assert f"{ECHARTS}/dist/echarts.min.js is missing" in built.stdout + built.stderr
    assert "npm install" in built.stdout + built.stderr
    assert not list(tmp_path.rglob("chamberbot-*.whl"))
