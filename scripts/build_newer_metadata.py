"""Build generator/apexgen/check/schemas/newer_metadata.json from npm's @salesforce/types (lib/metadata.d.ts).

    npm install --prefix DIR @salesforce/types@1.9.0
    python scripts/build_newer_metadata.py DIR/node_modules/@salesforce/types

@salesforce/types holds TypeScript definitions generated from the newest Metadata API WSDL (the forcedotcom/wsdl
repository keeps it). The file written here keeps what the check needs of them: every metadata type with the
names of its elements (its base types' included) and the type of each, and every enumeration with its values.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "generator" / "apexgen" / "check" / "schemas" / "newer_metadata.json"
_ENUM = re.compile(r"^export type (\w+) = ('.*');$")
_TYPE = re.compile(r"^export type (\w+) = ((?:\w+ & )*)\{$")
_FIELD = re.compile(r"^\s+(\w+)\??: ([\w]+)(?:\[\])?;$")


def main() -> int:
    package = Path(sys.argv[1])
    version = json.loads((package / "package.json").read_text("utf-8"))["version"]
    enums: dict[str, list[str]] = {}
    bases: dict[str, list[str]] = {}
    fields: dict[str, dict[str, str]] = {}
    current = None
    for line in (package / "lib" / "metadata.d.ts").read_text("utf-8").splitlines():
        if current is not None:
            if line.startswith("};"):
                current = None
            elif match := _FIELD.match(line):
                fields[current][match[1]] = match[2]
            continue
        if match := _ENUM.match(line):
            enums[match[1]] = re.findall(r"'([^']*)'", match[2])
        elif match := _TYPE.match(line):
            current = match[1]
            bases[current] = [b.strip() for b in match[2].split("&") if b.strip()]
            fields[current] = {}

    def all_fields(name: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        for base in bases.get(name, []):
            merged.update(all_fields(base))
        merged.update(fields.get(name, {}))
        return merged

    types = {name: all_fields(name) for name in fields}
    document = {"source": f"@salesforce/types {version} (lib/metadata.d.ts)", "types": types, "enums": enums}
    OUT.write_text(json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n", "utf-8")
    print(f"{len(types)} types, {len(enums)} enumerations -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
