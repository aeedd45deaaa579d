"""The wheel as users install it: the import package apexgen with its templates and data, nothing else.

A source checkout finds its templates at the top of the repository; an installed wheel must carry them
inside the package, so this test builds the wheel and runs apexgen from a venv that has only the wheel.
"""

from __future__ import annotations

import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.tools  # pip builds and installs the wheel: the full tier


def test_the_wheel_holds_apexgen_and_its_data_and_runs_from_a_venv(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("apexgen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "apexgen",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }
    for data in (
        "apexgen/templates/apex/shared/Generation.cls.jinja",
        "apexgen/spec/schema.json",
        "apexgen/generate/display_width.json",
        "apexgen/check/JorjeBatch.java",
        "apexgen/check/CheckDaemon.java",
        "apexgen/check/prettier_format.mjs",
        "apexgen/check/schemas/sfdx-project.schema.json",
    ):
        assert data in names

    # The venv sees the dependencies installed in the environment running the tests, and apexgen only from the
    # wheel. system_site_packages would show the base interpreter's packages instead, which a virtual environment
    # does not share: a plain path line in a .pth file adds this environment's folders without running the .pth
    # files inside them (so not the editable apexgen of `pip install -e`).
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=False)
    own_site = Path(sysconfig.get_path("purelib", vars={"base": str(environment), "platbase": str(environment)}))
    (own_site / "test-environment.pth").write_text("\n".join(site.getsitepackages()) + "\n", "utf-8")
    python = environment / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    where = subprocess.run(
        [python, "-c", "import apexgen; print(apexgen.__file__)"], capture_output=True, text=True, cwd=tmp_path
    )
    assert where.stdout.startswith(str(environment)), where
    assert subprocess.run([python, "-c", "import generator"], capture_output=True, cwd=tmp_path).returncode != 0
    apexgen = environment / "bin" / "apexgen"
    subprocess.run([apexgen, "init", "demo"], check=True, capture_output=True, cwd=tmp_path)
    generated = subprocess.run([apexgen, "generate"], capture_output=True, text=True, cwd=tmp_path / "demo")
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "demo" / "force-app" / "main" / "default" / "classes" / "AiGeneration.cls").is_file()
