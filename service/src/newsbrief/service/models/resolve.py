"""Model management: where a configured model's weights are, whether it can run, how to get it.

A model slot (``models.translator``, ``models.summarizer``) resolves to a local directory: the
slot's explicit ``path``, or the preset's snapshot in the Hugging Face cache at its pinned revision
(``snapshot_download(..., local_files_only=True)``: never the network). When it cannot, the
resolution says why and what command installs it; the server stays up and serves the rest.

Nothing here imports torch or transformers; ``huggingface_hub`` is imported inside the functions
that need it.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

from newsbrief.service.models.presets import Preset, get_preset
from newsbrief.service.models.worker import ModelUnavailable
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings, Settings

log = logging.getLogger(__name__)

#: Modules the transformers engine imports; all must be importable for it to run.
HF_MODULES = ("torch", "transformers", "sentencepiece", "huggingface_hub")
HF_EXTRA_HINT = (
    "install the hf extra: pip install 'newsbrief-service[hf]' "
    "(for a CPU-only torch first: pip install torch --index-url "
    "https://download.pytorch.org/whl/cpu)"
)
#: Weight formats newsbrief never loads (they would double a download).
IGNORED_FILES = [
    "*.msgpack",
    "*.h5",
    "*.ot",
    "flax_model*",
    "tf_model*",
    "rust_model*",
    "onnx/*",
    "*.onnx",
    "*.gguf",
]


class ModelLoadError(RuntimeError):
    """A model directory that cannot serve: wrong files, or language codes the tokenizer lacks."""


@dataclass(frozen=True)
class Resolution:
    """Where a slot's model is, or why it cannot be used."""

    preset: Preset
    model_id: str  # Hub id, or the local path when the slot names one
    revision: str
    path: Path | None
    detail: str = ""  # why ``path`` is None, with the fix

    @property
    def ok(self) -> bool:
        return self.path is not None

    @property
    def folder(self) -> Path:
        """The model directory; :class:`ModelUnavailable` with the fix when there is none."""
        if self.path is None:
            raise ModelUnavailable(self.detail)
        return self.path


def install_command(preset: Preset) -> str:
    return f"newsbrief-server models download {preset.name}"


def not_installed_detail(preset: Preset) -> str:
    return (
        f"model {preset.hub_id} is not installed: run `{install_command(preset)}` "
        "(or `make models`)"
    )


def missing_modules(engine: str = "transformers") -> list[str]:
    """The modules ``engine`` needs that cannot be imported here (checked without importing)."""
    needed = HF_MODULES if engine == "transformers" else ("ctranslate2", *HF_MODULES[1:])
    return [name for name in needed if importlib.util.find_spec(name) is None]


def engine_detail(engine: str = "transformers") -> str:
    """Empty when ``engine`` can run here; otherwise what is missing and how to install it."""
    missing = missing_modules(engine)
    if not missing:
        return ""
    hint = HF_EXTRA_HINT if engine == "transformers" else "install the ct2 and hf extras"
    return f"the {engine} engine needs {', '.join(missing)}: {hint}"


def local_snapshot(repo_id: str, revision: str, cache_dir: Path | None) -> Path | None:
    """The complete snapshot of ``repo_id`` at ``revision`` in the local Hugging Face cache, or
    None. Never touches the network."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:  # pragma: no cover - huggingface_hub is a dependency of the extras
        return None
    try:
        folder = snapshot_download(
            repo_id,
            revision=revision or None,
            cache_dir=cache_dir,
            local_files_only=True,
        )
    except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError) as exc:
        log.debug("no local snapshot of %s@%s: %s", repo_id, revision, exc)
        return None
    path = Path(str(folder))
    return path if (path / "config.json").is_file() else None


def resolve_slot(slot: ModelSlotSettings, models: ModelsSettings, role: str) -> Resolution:
    """Resolve a slot to a local model directory (or say why not), without loading anything."""
    preset = get_preset(slot.preset)
    revision = slot.revision or preset.revision
    if slot.path:
        path = Path(slot.path).expanduser()
        if not (path / "config.json").is_file():
            return Resolution(
                preset,
                str(path),
                revision,
                None,
                f"model directory {path} (models.{role}.path) does not exist or holds no "
                "config.json",
            )
        return Resolution(preset, str(path), "local", path)
    path_or_none = local_snapshot(preset.hub_id, revision, models.cache_dir)
    if path_or_none is None:
        return Resolution(preset, preset.hub_id, revision, None, not_installed_detail(preset))
    return Resolution(preset, preset.hub_id, revision, path_or_none)


def download(
    preset: Preset, *, revision: str = "", cache_dir: Path | None = None, progress: bool = True
) -> Path:
    """Fetch ``preset``'s files at its pinned revision into the Hugging Face cache (needs network
    access); returns the snapshot folder. Only one weight format is fetched (safetensors when the
    repository has it)."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    rev = revision or preset.revision
    ignore = list(IGNORED_FILES)
    files = HfApi().list_repo_files(preset.hub_id, revision=rev)
    if any(f.endswith(".safetensors") for f in files):
        ignore.append("*.bin")
    if progress:
        enable_progress_bars()
    else:
        disable_progress_bars()
    folder = snapshot_download(
        preset.hub_id, revision=rev, cache_dir=cache_dir, ignore_patterns=ignore
    )
    return Path(str(folder))


def configured_presets(settings: Settings) -> list[Preset]:
    """The presets the settings use (those that need weights)."""
    out: list[Preset] = []
    for slot in (settings.models.summarizer, settings.models.translator):
        if slot.preset not in ("extractive", "none") and not slot.path:
            out.append(get_preset(slot.preset))
    return out


def is_installed(preset: Preset, cache_dir: Path | None = None) -> bool:
    return local_snapshot(preset.hub_id, preset.revision, cache_dir) is not None


def resolve_or_download(slot: ModelSlotSettings, models: ModelsSettings, role: str) -> Resolution:
    """The slot's resolved model directory (fetched first when absent and
    ``models.download_on_start`` is set); :class:`ModelUnavailable` saying how to install it
    otherwise. Blocking: call it on the model's worker thread."""
    resolution = resolve_slot(slot, models, role)
    if not resolution.ok and models.download_on_start and not slot.path:
        try:
            download(resolution.preset, revision=slot.revision, cache_dir=models.cache_dir)
        except Exception as exc:
            log.warning("could not download %s: %s", resolution.preset.hub_id, exc)
        resolution = resolve_slot(slot, models, role)
    resolution.folder  # noqa: B018 - raises ModelUnavailable with the fix when absent
    return resolution
