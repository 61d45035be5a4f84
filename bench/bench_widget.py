"""Widget size: our voc.js gzipped beside PostHog's surveys extension, measured in the same run.

PostHog's `dist/surveys.js` is fetched from the npm registry (`npm pack posthog-js`) and both
files are gzipped the same way (level 9). Target (DESIGN.md §9): ≤ 10 KB gzipped.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_BYTES = 10 * 1024


def gz_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def posthog_surveys() -> tuple[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["npm", "pack", "posthog-js", "--silent", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            member = tar.getmember("package/dist/surveys.js")
            version = json.load(tar.extractfile("package/package.json"))["version"]
            return version, tar.extractfile(member).read()


def main() -> dict:
    ours = (ROOT / "static" / "widget" / "voc.js").read_bytes()
    version, theirs = posthog_surveys()
    result = {
        "name": "widget_size",
        "voc_js_bytes": len(ours),
        "voc_js_gzip_bytes": gz_size(ours),
        "baseline": f"posthog-js@{version} dist/surveys.js",
        "baseline_gzip_bytes": gz_size(theirs),
        "target_gzip_bytes": TARGET_BYTES,
    }
    result["meets_target"] = result["voc_js_gzip_bytes"] <= TARGET_BYTES
    print(
        f"| widget size (gzip) | {result['voc_js_gzip_bytes'] / 1024:.1f} KB | "
        f"{result['baseline']}: {result['baseline_gzip_bytes'] / 1024:.1f} KB | ≤ 10 KB | "
        f"{'met' if result['meets_target'] else 'MISSED'} |"
    )
    return result


if __name__ == "__main__":
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "widget.json").write_text(json.dumps(main(), indent=2))
    sys.exit(0)
