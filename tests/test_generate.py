"""apexgen init / generate: safe regeneration, hand edits never lost, atomic writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from apexgen.errors import ExitCode
from apexgen.generate import write
from apexgen.generate.manifest import read_manifest
from tests.conftest import REPO, tree

CLASSES = "force-app/main/default/classes"


def planned_count(project) -> int:
    from apexgen.generate.plan import render_plan
    from apexgen.spec.load import load_spec

    return len(render_plan(load_spec(project / "apexgen.toml")))


def generated(cli, project):
    result = cli("generate", cwd=project)
    assert result.exit_code == 0, result.output
    return result


def test_init_writes_a_project_and_refuses_to_overwrite(tmp_path, cli):
    root = tmp_path / "demo"
    first = cli("init", str(root))
    assert first.exit_code == 0, first.output
    assert sorted(tree(root)) == [
        ".forceignore",
        ".gitignore",
        ".prettierrc",
        ".vscode/apexgen.schema.json",
        ".vscode/extensions.json",
        ".vscode/tasks.json",
        "apexgen.toml",
        "eslint.config.js",
        "jest.config.js",
        "package.json",
        "sfdx-project.json",
    ]
    (root / "apexgen.toml").write_text("# mine\n")

    again = cli("init", str(root))

    assert again.exit_code == 2
    assert "already has sfdx-project.json" in again.output and "nothing was written" in again.output
    assert (root / "apexgen.toml").read_text() == "# mine\n"


def test_init_rejects_a_bad_api_version(tmp_path, cli):
    result = cli("init", str(tmp_path / "x"), "--api-version", "60")
    assert result.exit_code == 2
    assert "--api-version: '60'" in result.output
    assert not (tmp_path / "x").exists()


def test_second_generate_with_unchanged_spec_changes_nothing(cli, project):
    generated(cli, project)
    before = {p: (project / p).stat().st_mtime_ns for p in tree(project)}

    result = generated(cli, project)

    count = planned_count(project)
    # the test data factory (class and meta file) is written once and is the project's own since
    assert f"Generated {count} files: 2 owned, {count - 2} unchanged" in result.output
    assert {p: (project / p).stat().st_mtime_ns for p in tree(project)} == before


def test_edited_file_is_named_nothing_is_written_exit_3(cli, project):
    generated(cli, project)
    edited = project / CLASSES / "SummarizeCaseService.cls"
    edited.write_text(edited.read_text() + "// my change\n")
    spec = project / "apexgen.toml"
    spec.write_text(spec.read_text().replace("in three bullets", "in two bullets"))
    before = tree(project)

    result = cli("generate", cwd=project)

    assert result.exit_code == 3
    assert f"{CLASSES}/SummarizeCaseService.cls" in result.output
    assert "nothing was written" in result.output and "--force" in result.output
    assert tree(project) == before


def test_force_overwrites_the_edited_file(cli, project):
    generated(cli, project)
    edited = project / CLASSES / "AiVectors.cls"
    original = edited.read_text()
    edited.write_text(original + "// my change\n")

    result = cli("generate", "--force", cwd=project)

    assert result.exit_code == 0, result.output
    assert edited.read_text() == original
    assert f"overwrite {CLASSES}/AiVectors.cls (edited by hand)" in result.stderr and "conflict" not in result.stderr


def test_generate_check_exits_1_when_files_would_change_and_writes_nothing(cli, project):
    stale = cli("generate", "--check", cwd=project)
    assert stale.exit_code == 1 and "not up to date with the spec" in stale.stderr
    assert not (project / CLASSES).exists()
    generated(cli, project)
    assert cli("generate", "--check", cwd=project).exit_code == 0
    spec = project / "apexgen.toml"
    spec.write_text(spec.read_text().replace("in three bullets", "in two bullets"))
    document = json.loads(cli("generate", "--check", "--json", cwd=project).stdout)
    assert document["status"] == 1 and document["result"]["written"] is False


def test_existing_file_not_written_by_apexgen_is_a_conflict(cli, project):
    mine = project / CLASSES / "AiVectors.cls"
    mine.parent.mkdir(parents=True)
    mine.write_text("public class AiVectors {}\n")

    result = cli("generate", cwd=project)

    assert result.exit_code == 3
    assert "AiVectors.cls (exists and was not written by apexgen)" in result.output
    assert mine.read_text() == "public class AiVectors {}\n"
    assert not (project / ".apexgen").exists()


def test_dry_run_and_diff_write_nothing(cli, project):
    before = tree(project)

    dry = cli("generate", "--dry-run", cwd=project)
    diff = cli("generate", "--diff", cwd=project)

    assert dry.exit_code == 0 and diff.exit_code == 0
    count = planned_count(project)
    assert f"Would change {count} files: {count} create" in dry.output
    assert f"+++ b/{CLASSES}/SummarizeCaseService.cls" in diff.output
    assert "+public with sharing class SummarizeCaseService {" in diff.output
    assert tree(project) == before


def test_json_lists_every_file_with_its_action(cli, project):
    result = cli("generate", "--dry-run", "--json", cwd=project)
    document = json.loads(result.stdout)["result"]
    assert document["written"] is False
    assert len(document["files"]) == planned_count(project)
    assert {f["action"] for f in document["files"]} == {"create"}


def test_removing_a_prompt_removes_its_unedited_files(cli, project):
    generated(cli, project)
    spec = project / "apexgen.toml"
    text = spec.read_text()
    start, end = text.index('[[prompt]]\nname = "CompareTexts"'), text.index('[[prompt]]\nname = "RateAnswer"')
    spec.write_text(text[:start] + text[end:])

    result = cli("generate", cwd=project)

    assert result.exit_code == 0, result.output
    assert "remove" in result.output
    assert not list((project / CLASSES).glob("CompareTexts*"))
    assert not (project / "force-app/main/default/flows/CompareTextsFlow.flow-meta.xml").exists()
    assert (project / CLASSES / "SummarizeCaseService.cls").exists()


def test_removing_a_prompt_keeps_its_edited_files(cli, project):
    generated(cli, project)
    edited = project / CLASSES / "CompareTextsService.cls"
    edited.write_text(edited.read_text() + "// keep me\n")
    spec = project / "apexgen.toml"
    text = spec.read_text()
    start, end = text.index('[[prompt]]\nname = "CompareTexts"'), text.index('[[prompt]]\nname = "RateAnswer"')
    spec.write_text(text[:start] + text[end:])
    before = tree(project)

    result = cli("generate", cwd=project)

    assert result.exit_code == 3
    assert "CompareTextsService.cls (edited by hand; no longer generated)" in result.output
    assert tree(project) == before


def test_a_crash_mid_write_leaves_every_file_whole(cli, project, monkeypatch):
    generated(cli, project)
    spec = project / "apexgen.toml"
    spec.write_text(
        spec.read_text().replace("in three bullets", "in two bullets").replace("Drafts a reply", "Writes a reply")
    )
    before = tree(project)
    calls = {"n": 0}
    real_replace = os.replace

    def crash_on_third(src, dst):  # the journal's rename, a file's, then the next file's fails
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(write.os, "replace", crash_on_third)
    crashed = cli("generate", cwd=project)
    monkeypatch.undo()
    assert crashed.exit_code == ExitCode.USAGE, crashed.output
    assert "disk full" in crashed.output and "Traceback" not in crashed.output

    after = {path: content for path, content in tree(project).items() if path != ".apexgen/journal.json"}
    from apexgen.generate.plan import render_plan
    from apexgen.spec.load import load_spec

    planned = {f.path: f.content for f in render_plan(load_spec(spec))}
    changed = [p for p in after if after[p] != before.get(p)]
    assert changed, "the writes before the failure happened"
    assert all(after[p] == planned[p] for p in changed), "a file was left half-written"
    assert len(changed) < len([p for p in planned if planned[p] != before.get(p)]), "the failure stopped the run"
    assert not [p for p in after if p.endswith(".apexgen-tmp")]
    # the manifest was not updated, the journal says what was under way: the half-applied change is redone,
    # not mistaken for a hand edit
    assert after[".apexgen/manifest.json"] == before[".apexgen/manifest.json"]
    assert (project / ".apexgen/journal.json").is_file()
    check = cli("check", "--project-dir", str(project))  # without the journal, the files written were hand edits
    assert check.exit_code == ExitCode.INCOMPLETE and "edited" not in check.output, check.output
    assert cli("generate", cwd=project).exit_code == 0


def test_files_removed_before_a_crash_are_in_the_journal(cli, project, monkeypatch):
    """A generate that removes files and stops before the manifest: the journal records the removals, so
    check does not call the removed files missing and the next generate finishes."""
    generated(cli, project)
    spec = project / "apexgen.toml"
    lwc_exposed = 'expose = ["flow", "lwc"]\nflows = ["autolaunched"]\ndescription = "Tells how similar'
    assert lwc_exposed in spec.read_text()
    spec.write_text(spec.read_text().replace(lwc_exposed, lwc_exposed.replace('"flow", "lwc"', '"flow"')))
    removed = f"{CLASSES}/CompareTextsController.cls"
    real_write_json = write.write_json

    def crash_on_the_manifest(root, name, files):
        if name == write.MANIFEST:
            raise OSError(28, "No space left on device", str(root / name))
        real_write_json(root, name, files)

    monkeypatch.setattr(write, "write_json", crash_on_the_manifest)
    assert cli("generate", cwd=project).exit_code == ExitCode.USAGE
    monkeypatch.undo()

    assert not (project / removed).exists()
    journal = json.loads((project / ".apexgen/journal.json").read_text())["files"]
    assert journal[removed] == [None]
    assert dict(write.generated_file_states(project))[removed] == "ok"
    check = cli("check", "--project-dir", str(project))
    assert "missing" not in check.output, check.output
    generated(cli, project)
    assert removed not in read_manifest(project)


def test_generated_files_get_the_usual_permissions(cli, project):
    generated(cli, project)
    mode = (project / CLASSES / "AiVectors.cls").stat().st_mode & 0o777
    assert mode == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_reference_project_equals_a_fresh_generation(tmp_path, cli):
    """force-app/ is what apexgen.toml generates: regenerate after changing templates or spec."""
    from apexgen.generate.plan import render_plan
    from apexgen.spec.load import load_spec

    files = render_plan(load_spec(REPO / "apexgen.toml"))
    plan = {f.path: f.content for f in files}
    committed = {f"force-app/{p}": c for p, c in tree(REPO / "force-app").items()}
    assert committed == plan
    recorded = read_manifest(REPO)
    assert recorded == {f.path: write.digest(f.content) for f in files if not f.once}


def test_reference_spec_is_the_example_init_writes():
    from apexgen.generate.scaffold import EDITOR_FILES, SCHEMA_COPY, project_files

    example = {f.path: f.content for f in project_files("apexgen")}
    for name in ("apexgen.toml", "sfdx-project.json", ".prettierrc", ".forceignore", *EDITOR_FILES, SCHEMA_COPY):
        assert (REPO / name).read_text() == example[name], name


def test_init_and_generate_work_outside_the_source_checkout(tmp_path):
    """The templates are found from the apexgen package, not from a 'generator' folder in the working directory."""
    for command, cwd in ((["init", "demo"], tmp_path), (["generate"], tmp_path / "demo")):
        ran = subprocess.run([sys.executable, "-m", "apexgen", *command], cwd=cwd, capture_output=True, text=True)
        assert ran.returncode == 0, ran.stderr


def test_every_generated_file_says_it_is_generated_from_which_prompt_in_its_own_comment_form(cli, project):
    from apexgen.generate.plan import render_plan
    from apexgen.spec.load import load_spec

    plan = render_plan(load_spec(project / "apexgen.toml"))
    by_path = {file.path: file.content for file in plan}
    summarize = "Generated by apexgen from apexgen.toml, prompt SummarizeCase: edit the spec, not this file."
    shared = "Generated by apexgen from apexgen.toml: edit the spec, not this file."
    assert by_path[f"{CLASSES}/SummarizeCaseService.cls"].startswith(f"// {summarize}\n/**")
    assert by_path[f"{CLASSES}/AiModels.cls"].startswith(f"// {shared}\n")
    assert by_path[f"{CLASSES}/SummarizeCaseService.cls-meta.xml"].splitlines()[1] == f"<!-- {summarize} -->"
    once = [file.path for file in plan if file.once]  # the test data factory: the project's own once written
    assert by_path[f"{CLASSES}/AiTestData.cls"].startswith(
        "// Written once by apexgen from apexgen.toml: yours to edit"
    )
    unmarked = [
        path
        for path, content in by_path.items()
        if "by apexgen from apexgen.toml" not in content.split("\n", 2)[1 if path.endswith((".xml", ".html")) else 0]
        and not path.endswith((".json", ".gitattributes"))
    ]
    assert unmarked == []
    attributes = by_path["force-app/.gitattributes"].splitlines()
    assert "/main/default/classes/AiModels.cls linguist-generated=true" in attributes
    assert not any(path.split("/", 1)[1] in line for path in once for line in attributes)
    assert len(attributes) == len(plan) - len(once)  # a comment line, and one line per other generated file


def test_a_format_on_save_keeps_the_header_and_force_says_overwrite(cli, project):
    generated(cli, project)
    edited = project / CLASSES / "SummarizeCaseService.cls"
    edited.write_text(edited.read_text().replace("    ", "  "))  # an editor with another indentation
    assert edited.read_text().startswith("// Generated by apexgen from apexgen.toml, prompt SummarizeCase")
    result = cli("generate", "--force", cwd=project)
    assert f"overwrite {CLASSES}/SummarizeCaseService.cls (edited by hand)" in result.stderr
