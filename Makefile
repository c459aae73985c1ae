# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs:
# Debian packages (apt-get), then a virtual environment with the project and its pinned dependencies.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SYSTEM_PACKAGES := ffmpeg espeak-ng fonts-dejavu-core fontconfig chromium postgresql curl microsocks tinyproxy \
	tesseract-ocr

.PHONY: demo test lint typecheck pytest bench serve dev clean

$(STAMPS)/system:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $(SYSTEM_PACKAGES)
	mkdir -p $(STAMPS) && touch $@

$(STAMPS)/venv: pyproject.toml $(STAMPS)/system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $@

# openai-whisper is an optional backend; the tests cover it, so they install it. torch==2.13.0 goes
# first and explicitly: that version is a local CPU wheel here, an unpinned torch pulls CUDA packages.
$(STAMPS)/test-extras: $(STAMPS)/venv
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[dev,openai-whisper]'
	touch $@

demo: $(STAMPS)/venv
	$(BIN)/pellacia-dist demo

serve dev: $(STAMPS)/venv
	$(BIN)/pellacia-dist serve

lint: $(STAMPS)/venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMPS)/venv
	$(BIN)/mypy

# Two workers, each taking whole test files (module-scoped servers stay shared); tests/conftest.py hands
# out the files with end-to-end tests first, so the longest ones never start last. The schemathesis fuzz
# runs in a process of its own: under xdist its operations collapse into one unreported test.
FUZZ := tests/pellacia_assets/api/test_schema_fuzz.py

pytest: $(STAMPS)/test-extras
	$(BIN)/pytest -n 2 --dist loadfile --ignore=$(FUZZ)
	$(BIN)/pytest $(FUZZ)

test: lint typecheck pytest

bench: $(STAMPS)/venv
	$(BIN)/python benchmarks/bench_tts.py
	$(BIN)/python benchmarks/bench_transcribe.py
	$(BIN)/python benchmarks/bench_render.py
	$(BIN)/python benchmarks/bench_story_to_short.py
	$(BIN)/python benchmarks/bench_upload.py
	$(BIN)/python benchmarks/bench_unattended.py
	$(BIN)/python benchmarks/bench_analytics.py
	$(BIN)/python benchmarks/bench_browser.py
	$(BIN)/python benchmarks/bench_reddit.py
	$(BIN)/python benchmarks/bench_feeds.py
	$(BIN)/python benchmarks/bench_api.py

clean:
	rm -rf $(STAMPS) .pellacia tests/artifacts
