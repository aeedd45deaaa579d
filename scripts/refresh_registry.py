"""Refresh the metadata registry apexgen converts with from a release of @salesforce/source-deploy-retrieve.

    python scripts/refresh_registry.py VERSION            # npm pack @salesforce/source-deploy-retrieve@VERSION
    python scripts/refresh_registry.py VERSION --tarball salesforce-source-deploy-retrieve-VERSION.tgz

Copies the package's lib/src/registry/metadataRegistry.json and LICENSE.txt into
generator/apexgen/convert/sdr/ and records VERSION (and the tarball's sha256) in SDR_VERSION, so the wheel
ships the registry with its license and the release it came from. npm is needed here only, never at run time.
Pick the SDR version the sf CLI you compare with bundles (npm ls @salesforce/source-deploy-retrieve in its
install folder). Then run the convert tests: a registry that uses an adapter or transformer apexgen does not
implement is listed below and converts with a clear error for those types, never silently.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@salesforce/source-deploy-retrieve"
TARGET = Path(__file__).resolve().parent.parent / "generator" / "apexgen" / "convert" / "sdr"
MEMBERS = {
    "package/lib/src/registry/metadataRegistry.json": "metadataRegistry.json",
    "package/LICENSE.txt": "LICENSE-source-deploy-retrieve.txt",
}
KNOWN_ADAPTERS = {None, "default", "matchingContentFile", "mixedContent", "bundle", "decomposed", "digitalExperience"}
KNOWN_TRANSFORMERS = {None, "standard", "decomposed", "nonDecomposed", "staticResource"}


def pack(version: str, folder: Path) -> Path:
    completed = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{version}", "--pack-destination", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.exit(f"npm pack {PACKAGE}@{version} failed: {completed.stderr.strip().splitlines()[-1:]}")
    return folder / completed.stdout.strip().splitlines()[-1]


def unsupported_strategies(registry: dict) -> list[str]:
    found = []
    for mdtype in registry["types"].values():
        for member in [mdtype, *((mdtype.get("children") or {}).get("types") or {}).values()]:
            strategies = member.get("strategies") or {}
            if (
                strategies.get("adapter") not in KNOWN_ADAPTERS
                or strategies.get("transformer") not in KNOWN_TRANSFORMERS
            ):
                found.append(f"{member['name']} ({strategies})")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the SDR release, e.g. 12.37.2")
    parser.add_argument("--tarball", type=Path, help="an npm pack of that release, instead of running npm pack")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or pack(args.version, Path(tmp))
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        with tarfile.open(tarball) as archive:
            version = json.load(archive.extractfile("package/package.json"))["version"]  # type: ignore[arg-type]
            if version != args.version:
                sys.exit(f"{tarball}: holds {PACKAGE} {version}, not {args.version}")
            TARGET.mkdir(parents=True, exist_ok=True)
            for member, name in MEMBERS.items():
                (TARGET / name).write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]
    (TARGET / "SDR_VERSION").write_text(f"{args.version}\nsha256 of the npm tarball: {digest}\n", encoding="utf-8")
    registry = json.loads((TARGET / "metadataRegistry.json").read_text(encoding="utf-8"))
    print(f"{PACKAGE} {args.version}: {len(registry['types'])} types written to {TARGET}")
    for line in unsupported_strategies(registry):
        print(f"  not converted by apexgen (a clear error when met): {line}")


if __name__ == "__main__":
    main()
