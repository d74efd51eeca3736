"""``newsbrief-server models list|download``: the presets, their licences, whether they are
installed, and fetching them at their pinned revision. Imports no torch."""

from __future__ import annotations

from typing import TextIO

from newsbrief.service.models.presets import BUILTIN, PRESETS, Preset, get_preset
from newsbrief.service.models.resolve import configured_presets, download, is_installed
from newsbrief.service.settings import Settings


def _revision(preset: Preset) -> str:
    return preset.revision[:12] if preset.pinned else f"{preset.revision} (unpinned)"


def list_models(settings: Settings, out: TextIO) -> int:
    """One row per preset; ``*`` marks the presets the settings use."""
    configured = {
        settings.models.summarizer.preset: "summarizer",
        settings.models.translator.preset: "translator",
    }
    cache = settings.models.cache_dir
    rows = [("", "preset", "role", "model", "revision", "licence", "languages", "installed")]
    rows.append(
        (
            "*" if configured.get("extractive") else "",
            "extractive",
            "summarizer",
            "(built in)",
            "-",
            "Apache-2.0",
            "any",
            "yes",
        )
    )
    for preset in PRESETS.values():
        rows.append(
            (
                "*" if configured.get(preset.name) == preset.role else "",
                preset.name,
                preset.role,
                preset.hub_id,
                _revision(preset),
                preset.licence,
                ",".join(preset.languages),
                "yes" if is_installed(preset, cache) else "no",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out
        )
    print(
        "\n* = configured. Install with `newsbrief-server models download PRESET` "
        "(or `make models` for the configured ones); non-commercial licences are marked.",
        file=out,
    )
    return 0


def download_models(
    settings: Settings, names: list[str], revision: str, out: TextIO, err: TextIO
) -> int:
    """Fetch the named presets (default: the configured ones) into the Hugging Face cache.
    Exit code 0 when all are installed, 1 when a download failed, 2 for an unknown name."""
    try:
        presets = [get_preset(n) for n in names if n not in BUILTIN]
    except KeyError as exc:
        print(f"newsbrief-server: {exc.args[0]}", file=err)
        return 2
    if not names:
        presets = configured_presets(settings)
        if not presets:
            print("the settings configure no model that needs weights", file=out)
            return 0
    failed = 0
    for preset in presets:
        rev = revision or preset.revision
        print(f"{preset.name}: {preset.hub_id}@{rev} ({preset.licence})", file=out, flush=True)
        try:
            folder = download(preset, revision=revision, cache_dir=settings.models.cache_dir)
        except Exception as exc:  # network, auth, disk: report, go on with the next
            failed += 1
            print(
                f"newsbrief-server: could not download {preset.hub_id}@{rev}: "
                f"{type(exc).__name__}: {exc}\n"
                "  This needs network access to the Hugging Face Hub (HF_HUB_OFFLINE must be "
                "unset). Without it, download on another machine and copy the cache folder, "
                "or point models.<role>.path at a local model directory.",
                file=err,
            )
            continue
        print(f"{preset.name}: installed in {folder}", file=out)
    return 1 if failed else 0
