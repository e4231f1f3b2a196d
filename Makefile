PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean charts chromium libreoffice wheel

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# ECharts for the self-contained HTML report (handlers/reports/html.py inlines it): installed
# from the npm registry into the folder the app reads, without a lock file.
CHARTS := handlers/reports/vendor
ECHARTS_JS := $(CHARTS)/node_modules/echarts/dist/echarts.min.js

$(ECHARTS_JS): $(CHARTS)/package.json
	@command -v npm >/dev/null || { echo "the HTML report needs npm to install ECharts ($(CHARTS))" >&2; exit 1; }
	cd $(CHARTS) && npm install --no-package-lock --no-audit --no-fund
	touch $@

charts: $(ECHARTS_JS)

# The web console's front-end files (htmx, pico.css) from npm, served from web/static/vendor.
# No lock file is written (npm install --no-package-lock): the versions are exact in
# web/frontend/package.json. setup.py makes the same copies when it builds a wheel.
VENDOR := web/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed

$(VENDOR_STAMP): web/frontend/package.json
	@command -v npm >/dev/null || { echo "the web console needs Node.js and npm (web/frontend)" >&2; exit 1; }
	cd web/frontend && npm install --no-package-lock --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp web/frontend/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp web/frontend/node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/
	cp web/frontend/node_modules/htmx.org/LICENSE $(VENDOR)/htmx.LICENSE
	cp web/frontend/node_modules/@picocss/pico/LICENSE.md $(VENDOR)/pico.LICENSE.md
	touch $@

# The browser tests drive Debian's Chromium; installed when missing and we may (root).
CHROMIUM := /usr/bin/chromium

chromium:
	@test -x $(CHROMIUM) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get update -q \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei; } \
		|| { echo "make test needs Chromium at $(CHROMIUM): apt-get install chromium" >&2; exit 1; }

# LibreOffice Calc opens the 工作台账 in a test (tests/test_ledger_export.py), as a
# secretariat does: the ledger's XML is written by sheets/, not by a library.
SOFFICE := /usr/bin/soffice

libreoffice:
	@test -x $(SOFFICE) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get update -q \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			libreoffice-calc; } \
		|| { echo "make test needs LibreOffice at $(SOFFICE): apt-get install libreoffice-calc" >&2; exit 1; }

# The wheel operators install (docs/operations.md), into dist/. It carries ECharts, htmx and
# pico.css (setup.py installs them when missing and refuses to build without them); build/
# is removed first so no file of an older tree slips in.
wheel: $(STAMP) $(ECHARTS_JS) $(VENDOR_STAMP)
	rm -rf build
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w dist .

demo: $(STAMP) $(ECHARTS_JS) $(VENDOR_STAMP)
	$(BIN)/chamberbot demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The Node gateway the integration tests (tests/test_gateway.py) run: installed from its
# lockfile when node_modules is missing or older than the lockfile. No npm: make test fails.
GATEWAY := tests/gateway
GATEWAY_STAMP := $(GATEWAY)/node_modules/.package-lock.json

$(GATEWAY_STAMP): $(GATEWAY)/package-lock.json $(GATEWAY)/package.json
	@command -v npm >/dev/null || { echo "make test needs Node.js 20 and npm (tests/gateway)" >&2; exit 1; }
	cd $(GATEWAY) && npm ci --no-audit --no-fund
	touch $@

# The 微信客服 emulator's callback crypto (tests/wecom_kf: the vendor's @wecom/crypto), from
# its lockfile, as the gateway's.
KF := tests/wecom_kf
KF_STAMP := $(KF)/node_modules/.package-lock.json

$(KF_STAMP): $(KF)/package-lock.json $(KF)/package.json
	@command -v npm >/dev/null || { echo "make test needs Node.js 20 and npm (tests/wecom_kf)" >&2; exit 1; }
	cd $(KF) && npm ci --no-audit --no-fund
	touch $@

test: lint $(GATEWAY_STAMP) $(KF_STAMP) $(ECHARTS_JS) $(VENDOR_STAMP) chromium libreoffice
	@# the suite starts the bot as a subprocess many times: compiled once here, even where
	@# PYTHONDONTWRITEBYTECODE is set (Python still reads the .pyc files)
	$(BIN)/python -m compileall -q bot channels chamberbot handlers policy_feeds sheets web tests >/dev/null
	@# three workers on two cores: the gateway, chaos and WeCom tests spend much of their time
	@# waiting on other processes (bot, Node gateway, emulator), which a third worker fills
	$(BIN)/python -m pytest -q -n 3

# The XLSX writers bench/reports.py compares with the shipped one (pyproject's `bench` extra).
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $@

bench: $(STAMP) $(BENCH_STAMP) $(GATEWAY_STAMP) $(KF_STAMP) $(ECHARTS_JS) $(VENDOR_STAMP)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/workdays.py
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/ledger_latency.py
	$(BIN)/python bench/policies_ingest.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/wecom.py
	$(BIN)/python bench/wecom_kf.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/outbox_watch.py
	$(BIN)/python bench/web.py

clean:
	rm -rf $(VENV) data $(VENDOR) web/frontend/node_modules build dist
