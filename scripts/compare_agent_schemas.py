"""Apply apexgen's Apex-to-schema mapping to the Apex classes behind a project's agent actions and compare the
result with the project's committed ``input/schema.json`` and ``output/schema.json``.

    python scripts/compare_agent_schemas.py PROJECT_DIR

For each GenAiFunction whose invocationTargetType is apex, prints every keyword whose value differs (path,
committed value, mapped value) and the keywords one side has and the other lacks. The mapping is the one
``apexgen generate`` writes schemas with (``apexgen.generate.agent_schema``): inputs are user input, outputs are
displayable and used by the planner, no variable is marked PII or long text (the class cannot say so).
Exit status: 0 when every schema is reproduced, 1 when some keyword differs, 2 when the comparison cannot run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lxml import etree

from apexgen.generate.agent_schema import SchemaVariable, class_type_namer, input_schema, output_schema
from apexgen.generate.invocable import ApexClass, element_type, read_apex
from apexgen.salesforce import METADATA_NAMESPACE


def _variables(owner: ApexClass) -> list[SchemaVariable]:
    return [SchemaVariable(v.name, v.type, v.label, v.description, v.required) for v in owner.variables]


def _differences(path: str, committed: Any, mapped: Any) -> list[str]:
    if isinstance(committed, dict) and isinstance(mapped, dict):
        found = []
        for key in sorted(set(committed) | set(mapped)):
            if key not in mapped:
                found.append(f"{path}/{key}: committed {json.dumps(committed[key])}, not mapped")
            elif key not in committed:
                found.append(f"{path}/{key}: mapped {json.dumps(mapped[key])}, not committed")
            else:
                found += _differences(f"{path}/{key}", committed[key], mapped[key])
        return found
    return [] if committed == mapped else [f"{path}: committed {json.dumps(committed)}, mapped {json.dumps(mapped)}"]


def compare(root: Path) -> tuple[int, list[str]]:
    """(the number of actions compared, every difference found)."""
    classes = {p.stem.lower(): p for p in root.rglob("*.cls") if "node_modules" not in p.parts}
    differences: list[str] = []
    compared = 0
    for meta in sorted(root.rglob("*.genAiFunction-meta.xml")):
        xml = etree.parse(str(meta)).getroot()
        if xml.findtext(f"{{{METADATA_NAMESPACE}}}invocationTargetType") != "apex":
            continue
        target = (xml.findtext(f"{{{METADATA_NAMESPACE}}}invocationTarget") or "").strip()
        source = read_apex(classes[target.lower()].read_text("utf-8"))
        method = source.methods[0]
        inner = {name.split(".", 1)[1] for name in source.classes if "." in name}
        namer = class_type_namer(method.owner, inner, "")
        sides = {
            "input": (method.parameter_type, input_schema),
            "output": (method.return_type, output_schema),
        }
        compared += 1
        for part, (list_type, mapping) in sides.items():
            owner = source.resolve(element_type(list_type) or "", method.owner)
            if owner is None:
                raise SystemExit(f"{target}: {list_type} is not a class of {target}.cls")
            committed = json.loads((meta.parent / part / "schema.json").read_text("utf-8"))
            mapped = mapping(_variables(owner), namer)
            name = meta.parent.name
            differences += _differences(f"{name}/{part}", committed, mapped)
    return compared, differences


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: compare_agent_schemas.py PROJECT_DIR", file=sys.stderr)
        return 2
    compared, differences = compare(Path(argv[0]))
    for line in differences:
        print(line)
    print(f"{compared} apex action(s) compared, {len(differences)} difference(s)")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
