# Two commands do everything on a fresh machine:  make run   and   make test
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# A lean, portable llama.cpp build (no multimodal library, no -march=native): ~40% less compile time.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test install models index serve serve-model serve-embeddings clean chromium dictionaries

run: install dictionaries models index serve

# The environment, re-done only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

install: $(VENV)/.installed

models: install
	$(BIN)/assistant setup-models

index: install dictionaries models
	$(BIN)/assistant index

serve: install
	$(BIN)/assistant serve

# The answer model as an OpenAI-compatible server on 127.0.0.1:8080, for ASSISTANT_LLM_URL=http://127.0.0.1:8080/v1
serve-model: install models
	$(BIN)/assistant serve-model

# The embedding model as an OpenAI-compatible /v1/embeddings server on 127.0.0.1:8081, for
# ASSISTANT_EMBEDDING_URL=http://127.0.0.1:8081/v1 (several indexers and chat servers can share it)
serve-embeddings: install models
	$(BIN)/assistant setup-models --model e5-gguf
	$(BIN)/assistant serve-embeddings

# Danish and English word resources from Debian (read where Debian puts them; settings name the paths): FreeDict's
# Danish-English and English-Danish dictionaries translate English questions word by word, the word lists split
# Danish compounds and tell Danish words in English answers.
DICTIONARIES := dict-freedict-dan-eng dict-freedict-eng-dan wdanish wbritish
dictionaries:
	@test -f /usr/share/dictd/freedict-dan-eng.index -a -f /usr/share/dictd/freedict-eng-dan.index -a -f /usr/share/dict/danish -a -f /usr/share/dict/british-english || \
	  { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(DICTIONARIES); } \
	  || echo "warning: could not install $(DICTIONARIES); English questions are translated by the glossary alone"

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline).
chromium:
	@command -v chromium >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium chromium-driver; } \
	  || echo "warning: could not install chromium; the browser test will be skipped"

test: install chromium dictionaries
	$(BIN)/assistant setup-models --model 1.5b --model 0.5b --model e5-gguf
	$(BIN)/python -m pytest -q -p no:warnings

clean:
	rm -rf index index.building index.old
