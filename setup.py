"""Build hook: a wheel (or sdist) carries the front-end files the bot serves and inlines.

ECharts (inlined into the HTML report, handlers/reports/html.py) and htmx and pico.css
(served by the web console from web/static/vendor) come from npm and are git-ignored. Before
packaging, they are installed the way the Makefile installs them (`make charts`,
`make web/static/vendor/.installed`) when missing or not the pinned version, and the build
stops with one line saying what is missing rather than ship a bot without charts or styles.
An editable install (`make` runs `pip install -e`) is left alone: there the files are read
from the source tree, where `make` puts them.

Everything else is in pyproject.toml; this file only adds the step before `build_py`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.errors import FileError

ROOT = Path(__file__).resolve().parent
# As the Makefile runs it: exact versions from package.json, no lock file written.
NPM_INSTALL = ["install", "--no-package-lock", "--no-audit", "--no-fund"]


@dataclass(frozen=True)
class Bundle:
    """An npm folder (its package.json pins exact versions) and the files taken from it:
    where each goes in the package tree ← where npm puts it (relative to the checkout)."""

    folder: str
    files: dict[str, str]

    def _pins(self) -> dict[str, str]:
        manifest = ROOT / self.folder / "package.json"
        if not manifest.is_file():
            return {}
        return dict(json.loads(manifest.read_text(encoding="utf-8"))["dependencies"])

    def _stale(self) -> list[str]:
        """Why npm has to run: a file missing, or node_modules holding another version."""
        why = [f"{dest} is missing" for dest in self.files if not (ROOT / dest).is_file()]
        for name, pin in self._pins().items():
            installed = ROOT / self.folder / "node_modules" / name / "package.json"
            if installed.is_file():
                version = json.loads(installed.read_text(encoding="utf-8"))["version"]
                if version != pin:
                    why.append(f"{name} {version} is installed, package.json pins {pin}")
        return why

    def prepare(self) -> None:
        stale = self._stale()
        if stale:
            npm = shutil.which("npm")
            if npm is None or not (ROOT / self.folder / "package.json").is_file():
                raise FileError(
                    f"{'; '.join(stale)}: the wheel must carry them;"
                    f" `npm install` in {self.folder} (Node.js and npm) or `make` installs them"
                )
            subprocess.run([npm, *NPM_INSTALL], cwd=ROOT / self.folder, check=True)
        for dest, source in self.files.items():
            src, dst = ROOT / source, ROOT / dest
            if src != dst and src.is_file() and (not dst.is_file() or _differ(src, dst)):
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
            if not dst.is_file():
                raise FileError(f"{dest} is missing after `npm install` in {self.folder}")


def _differ(a: Path, b: Path) -> bool:
    return a.read_bytes() != b.read_bytes()


ECHARTS = "handlers/reports/vendor/node_modules/echarts"
WEB = "web/frontend/node_modules"
BUNDLES = [
    # ECharts is read where npm puts it (handlers/reports/html.py: ECHARTS_JS); Apache-2.0
    # asks for its LICENSE and NOTICE to travel with it.
    Bundle(
        "handlers/reports/vendor",
        {
            f"{ECHARTS}/dist/echarts.min.js": f"{ECHARTS}/dist/echarts.min.js",
            f"{ECHARTS}/LICENSE": f"{ECHARTS}/LICENSE",
            f"{ECHARTS}/NOTICE": f"{ECHARTS}/NOTICE",
        },
    ),
    # The same copies as the Makefile's web/static/vendor/.installed target.
    Bundle(
        "web/frontend",
        {
            "web/static/vendor/htmx.min.js": f"{WEB}/htmx.org/dist/htmx.min.js",
            "web/static/vendor/htmx.LICENSE": f"{WEB}/htmx.org/LICENSE",
            "web/static/vendor/pico.min.css": f"{WEB}/@picocss/pico/css/pico.min.css",
            "web/static/vendor/pico.LICENSE.md": f"{WEB}/@picocss/pico/LICENSE.md",
        },
    ),
]
FRONT_END = [dest for bundle in BUNDLES for dest in bundle.files]


def prepare_front_end() -> None:
    for bundle in BUNDLES:
        bundle.prepare()


class BuildPy(build_py):
    """`build_py` that first installs the front-end files and then checks they were built."""

    def run(self) -> None:
        if self.editable_mode:
            super().run()
            return
        prepare_front_end()
        self.__dict__.pop("data_files", None)  # computed lazily: list the new files too
        super().run()
        missing = [f for f in FRONT_END if not (Path(self.build_lib) / f).is_file()]
        if missing:
            raise FileError(
                f"not in the build although present: {', '.join(missing)}"
                " (add them to [tool.setuptools.package-data] in pyproject.toml)"
            )


class Sdist(sdist):
    """An sdist carries the front-end files too: a wheel built from it needs no npm."""

    def run(self) -> None:
        prepare_front_end()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
