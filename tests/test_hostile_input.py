"""Issue 11: hostile input and data safety. Each test reproduced its defect before the fix.

Every bad input ends in one line naming the file (or flag), the key and the rule, with exit 2 (or 3, 4 where
documented); nothing outside the project is touched, nothing edited is lost, nothing half-written is left.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from apexgen.cli import main
from apexgen.errors import SpecError
from apexgen.project.sfdx_project import SfdxProject
from tests.conftest import unplaced
from tests.fakes.models_api import API_PREFIX, CannedReply, FakeModelsApi, serve_models_api
from tests.fakes.org import FakeOrg, running_org, write_sample_project

CLASSES = "force-app/main/default/classes"
MANIFEST = ".apexgen/manifest.json"
# These bounds catch a read that never ends or work that grows with the square of the input (minutes on these
# inputs), not slowness: the refusals take well under a second, and the machines running the suite are shared.
HANG_GUARD_SECONDS = 30


def one_error_line(result: Result, exit_code: int = 2) -> str:
    """The single error line of a refused command: no traceback, nothing else on stderr."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def tree(root: Path) -> dict[str, object]:
    """Every file (content), folder and symlink under root: to show that nothing changed."""
    state: dict[str, object] = {}
    for current, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(current, name)
            rel = str(path.relative_to(root))
            state[rel] = (
                ("link", os.readlink(path)) if path.is_symlink() else ("dir",) if path.is_dir() else path.read_bytes()
            )
    return state


def edit_spec(root: Path, old: str, new: str) -> None:
    spec = root / "apexgen.toml"
    text = spec.read_text()
    assert old in text, old
    spec.write_text(text.replace(old, new, 1))


@pytest.fixture
def generated(cli, project: Path) -> Path:
    assert cli("generate", cwd=project).exit_code == 0
    return project


def generate(project: Path, *args: str) -> Result:
    with contextlib.chdir(project):
        return CliRunner().invoke(main, ["generate", *args])


# --- 1. the manifest cannot reach outside the project ----------------------------------------------


@pytest.mark.parametrize("entry", ["../victim/notes.txt", "ABSOLUTE", "linked/notes.txt", ".git/config"])
def test_a_manifest_entry_outside_the_project_is_refused_and_nothing_is_deleted(generated: Path, entry: str) -> None:
    victim = generated.parent / "victim"
    victim.mkdir()
    (victim / "notes.txt").write_text("precious\n")
    (generated / "linked").symlink_to(victim)
    (generated / ".git").mkdir()
    (generated / ".git/config").write_text("precious\n")
    entry = str(victim / "notes.txt") if entry == "ABSOLUTE" else entry
    manifest = json.loads((generated / MANIFEST).read_text())
    manifest["files"][entry] = hashlib.sha256(b"precious\n").hexdigest()  # the file's real digest
    (generated / MANIFEST).write_text(json.dumps(manifest))
    before = tree(generated.parent)

    line = one_error_line(generate(generated))

    assert line.startswith(f'error: {MANIFEST}: files["{entry}"]: ')
    assert tree(generated.parent) == before


def test_an_apexgen_folder_that_is_a_symlink_out_of_the_project_is_refused(generated: Path) -> None:
    outside = generated.parent / "elsewhere"
    (generated / ".apexgen").rename(outside)
    (generated / ".apexgen").symlink_to(outside, target_is_directory=True)
    edit_spec(generated, "Drafts a reply", "Writes a reply")
    before = tree(generated.parent)

    line = one_error_line(generate(generated))

    assert line.startswith(f"error: {MANIFEST}: '{MANIFEST}' leads outside the project folder")
    assert tree(generated.parent) == before


# --- 2. model aliases -------------------------------------------------------------------------------


def test_model_aliases_that_differ_only_in_case_are_refused(project: Path) -> None:
    edit_spec(
        project,
        'fast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"',
        'gptA = "sfdc_ai__DefaultGPT41"\ngpta = "sfdc_ai__DefaultGPT5"\nfast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"',
    )

    line = one_error_line(generate(project))

    assert unplaced(line) == (
        "error: apexgen.toml: models.gpta: repeats models.gptA ignoring case; prompts name models ignoring "
        "case, so each alias must differ in more than case"
    )
    assert not (project / "force-app/main").exists()


# --- 3. a symlinked spec ----------------------------------------------------------------------------


def test_a_spec_symlinked_from_another_project_is_refused(cli, project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "sfdx-project.json").write_text((project / "sfdx-project.json").read_text())
    (other / "apexgen.toml").symlink_to(project / "apexgen.toml")
    before = tree(tmp_path)

    line = one_error_line(generate(other))

    assert unplaced(line).startswith(
        f"error: apexgen.toml: is a symlink to {project / 'apexgen.toml'}, outside the project folder"
    )
    assert tree(tmp_path) == before


def test_a_spec_symlinked_inside_the_project_is_followed(cli, project: Path) -> None:
    (project / "specs").mkdir()
    (project / "apexgen.toml").rename(project / "specs/apexgen.toml")
    (project / "apexgen.toml").symlink_to("specs/apexgen.toml")

    assert generate(project).exit_code == 0
    assert (project / CLASSES / "AiModelsClient.cls").exists()


# --- 4. --force never deletes a hand edit -----------------------------------------------------------


def test_force_keeps_a_hand_edited_file_of_a_removed_prompt(generated: Path) -> None:
    edited = generated / CLASSES / "CompareTextsService.cls"
    edited.write_text(edited.read_text() + "// keep me\n")
    text = (generated / "apexgen.toml").read_text()
    start, end = text.index('[[prompt]]\nname = "CompareTexts"'), text.index('[[prompt]]\nname = "RateAnswer"')
    (generated / "apexgen.toml").write_text(text[:start] + text[end:])

    result = generate(generated, "--force")

    assert result.exit_code == 0, result.output
    assert "keep " + f"{CLASSES}/CompareTextsService.cls (edited by hand; no longer generated)" in result.stderr
    assert edited.read_text().endswith("// keep me\n")
    assert not (generated / CLASSES / "CompareTextsServiceTest.cls").exists()  # unedited: removed
    manifest = json.loads((generated / MANIFEST).read_text())["files"]
    assert f"{CLASSES}/CompareTextsService.cls" not in manifest  # forgotten: the next generate leaves it alone
    assert generate(generated).exit_code == 0


# --- 5. interrupted writes --------------------------------------------------------------------------


def _change_the_spec(project: Path) -> None:
    edit_spec(project, "in three bullets", "in two bullets")
    edit_spec(project, "Drafts a reply", "Writes a reply")


def test_a_write_that_fails_midway_leaves_files_apexgen_still_recognises(
    cli, generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apexgen.generate import write

    _change_the_spec(generated)
    real_replace, calls = os.replace, []

    def disk_full_on_the_third(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(write.os, "replace", disk_full_on_the_third)
    line = one_error_line(generate(generated))
    monkeypatch.undo()

    assert "No space left on device" in line and "the next 'apexgen generate' finishes the job" in line
    assert (generated / ".apexgen/journal.json").exists()
    check = cli("check", "--project-dir", str(generated))
    assert "edited" not in check.stdout and "interrupted" in check.stdout
    result = generate(generated)
    assert result.exit_code == 0, result.output
    assert not (generated / ".apexgen/journal.json").exists()
    assert cli("check", "--project-dir", str(generated)).stdout == ""


KILL_AT_THE_NTH_RENAME = """
import os, signal, sys
from apexgen.generate import write
from apexgen.cli import main
real, calls, kill_at = os.replace, [], int(sys.argv[1])
def replace(src, dst):
    calls.append(dst)
    if len(calls) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
write.os.replace = replace
sys.argv = ["apexgen", "generate"]
main()
"""


@pytest.mark.parametrize("killed_at", [2, 6, 10])  # renames: the journal, 8 files, the manifest
def test_a_generate_killed_midway_is_finished_by_the_next(cli, generated: Path, killed_at: int) -> None:
    _change_the_spec(generated)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT_THE_NTH_RENAME, str(killed_at)], cwd=generated, capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL

    check = cli("check", "--project-dir", str(generated))
    assert "edited by hand" not in check.stdout, check.stdout
    result = generate(generated)
    assert result.exit_code == 0, result.output
    assert cli("check", "--project-dir", str(generated)).stdout == ""


# --- 6, 7. specs that used to generate broken code --------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_in_the_spec_are_refused(project: Path, value: str) -> None:
    edit_spec(
        project,
        'expected_locales = ["en_US", "fr_FR"] }',
        f'expected_locales = ["en_US"], input_locales = [{{ locale = "en_US", probability = {value} }}] }}',
    )

    line = one_error_line(generate(project))

    assert unplaced(line) == (
        f"error: apexgen.toml: prompt[0].localization.input_locales[0].probability: must be a finite "
        f"number, not {float(value)} (prompt 'SummarizeCase')"
    )


def test_models_try_refuses_a_non_finite_probability_too(project: Path) -> None:
    edit_spec(
        project,
        'expected_locales = ["en_US", "fr_FR"] }',
        'expected_locales = ["en_US"], input_locales = [{ locale = "en_US", probability = nan }] }',
    )
    with contextlib.chdir(project):
        result = CliRunner().invoke(main, ["models", "try", "SummarizeCase", "--dry-run", "-i", "subject=x"])
    assert "must be a finite number" in one_error_line(result)
    assert "NaN" not in result.stdout


def test_a_component_defines_only_the_helpers_it_uses(project: Path) -> None:
    edit_spec(
        project,
        '{ name = "customerName", label = "Customer Name", required = true }',
        '{ name = "customerName", label = "Customer Name" }',
    )
    edit_spec(
        project,
        '{ name = "orderNumber", type = "Integer", label = "Order Number" }',
        '{ name = "orderNumber", label = "Order Number" }',
    )
    assert generate(project).exit_code == 0

    for script in (project / "force-app/main/default/lwc").glob("*/*.js"):
        text = script.read_text()
        for helper in ("isBlank", "toNumber", "messageOf"):
            if f"function {helper}(" in text:
                assert text.count(f"{helper}(") > 1, (
                    f"{script.name} defines {helper} and never calls it (ESLint no-unused-vars)"
                )
    assert "function isBlank(" not in (project / "force-app/main/default/lwc/draftReply/draftReply.js").read_text()


@pytest.mark.parametrize("name", ["constructor", "toString", "valueOf", "hasOwnProperty"])
def test_inputs_named_like_object_members_are_refused(project: Path, name: str) -> None:
    edit_spec(project, 'name = "customerName"', f'name = "{name}"')
    edit_spec(project, "{customerName}", "{" + name + "}")

    line = one_error_line(generate(project))

    assert unplaced(line).startswith(
        f"error: apexgen.toml: prompt[1].inputs[0].name: '{name}' is a member of every JavaScript object"
    )


@pytest.mark.parametrize("name", ["Test", "Spec"])
def test_a_prompt_whose_component_jest_would_run_is_refused(project: Path, name: str) -> None:
    edit_spec(project, 'name = "DraftReply"', f'name = "{name}"')

    line = one_error_line(generate(project))

    assert unplaced(line).startswith(f"error: apexgen.toml: prompt[1].name: '{name}' would make lwc/{name.lower()}/")


def test_a_prefix_that_makes_class_names_too_long_is_refused(project: Path) -> None:
    edit_spec(project, 'prefix = "Ai"', f'prefix = "{"P" * 25}"')

    line = one_error_line(generate(project))

    assert unplaced(line) == (
        "error: apexgen.toml: project.prefix: makes class name '" + "P" * 25 + "ModelsExceptionTest' of 44 "
        "characters; Apex allows at most 40"
    )


@pytest.mark.parametrize("package_dir", ["src", ".", ".git", ".apexgen", "sfdx-project.json"])
def test_package_dir_must_be_a_package_directory_of_sfdx_project(generated: Path, package_dir: str) -> None:
    (generated / ".git").mkdir()
    edit_spec(generated, 'prefix = "Ai"', f'prefix = "Ai"\npackage_dir = "{package_dir}"')
    before = tree(generated)

    line = one_error_line(generate(generated))

    assert unplaced(line).startswith("error: apexgen.toml: project.package_dir: ") and "sfdx-project.json" in line
    assert tree(generated) == before  # force-app/ was not emptied


# --- tracebacks: files and folders in the way -------------------------------------------------------


@pytest.mark.parametrize(
    "obstacle, message",
    [
        ("force-app", "force-app: is a file where apexgen needs a folder"),
        (".apexgen", ".apexgen: is a file where apexgen needs a folder"),
        (f"{CLASSES}/AiModelsClient.cls", f"{CLASSES}/AiModelsClient.cls: is a folder where apexgen writes a file"),
        (MANIFEST, f"{MANIFEST}: cannot be read (Is a directory)"),
    ],
)
def test_files_and_folders_in_the_way_are_named(project: Path, obstacle: str, message: str) -> None:
    target = project / obstacle
    target.parent.mkdir(parents=True, exist_ok=True)
    target.mkdir() if obstacle.endswith((".cls", ".json")) else target.write_text("in the way\n")
    before = tree(project)

    line = one_error_line(generate(project))

    assert line.startswith(f"error: {message}")
    assert tree(project) == before


def test_a_manifest_entry_naming_a_folder_is_refused_by_generate_and_check(cli, generated: Path) -> None:
    manifest = json.loads((generated / MANIFEST).read_text())
    manifest["files"]["force-app/main/default"] = "0" * 64
    (generated / MANIFEST).write_text(json.dumps(manifest))

    line = one_error_line(generate(generated))
    check = cli("check", "--project-dir", str(generated), "--json")

    assert (
        line
        == f"error: {MANIFEST}: files[\"force-app/main/default\"]: 'force-app/main/default' is a folder; the manifest lists files"
    )
    findings = json.loads(check.stdout)["result"]["findings"]
    assert [(f["file"], f["rule"]) for f in findings] == [(MANIFEST, "unreadable")]


def test_a_corrupt_manifest_is_a_finding_and_check_goes_on(cli, generated: Path) -> None:
    (generated / MANIFEST).write_text("{not json")
    (generated / CLASSES / "Orphan.cls").write_text("public class Orphan {}\n")  # no -meta.xml: another finding

    check = cli("check", "--project-dir", str(generated), "--json")

    assert check.exit_code == 1
    rules = {(f["file"], f["rule"]) for f in json.loads(check.stdout)["result"]["findings"]}
    assert (MANIFEST, "unreadable") in rules and (f"{CLASSES}/Orphan.cls", "missing-meta") in rules


def test_deeply_nested_toml_is_refused(project: Path) -> None:
    (project / "apexgen.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")

    line = one_error_line(generate(project))

    assert unplaced(line).startswith("error: apexgen.toml: ")


# --- package directories outside the project (the one sfdx-project.json reader) ---------------------


@pytest.fixture
def outside_package(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    (outside / "main/default/classes").mkdir(parents=True)
    (outside / "main/default/classes/Secret.cls").write_text("public class Secret {}\n")
    return outside


@pytest.mark.parametrize("how", ["dotdot", "symlink"])
def test_a_package_directory_outside_the_project_is_refused(tmp_path: Path, outside_package: Path, how: str) -> None:

    project = write_sample_project(tmp_path / "project")
    data = json.loads((project / "sfdx-project.json").read_text())
    if how == "symlink":
        (project / "linked").symlink_to(outside_package)
    data["packageDirectories"].append({"path": "../outside" if how == "dotdot" else "linked"})
    (project / "sfdx-project.json").write_text(json.dumps(data))

    with pytest.raises(SpecError) as refused:
        SfdxProject.load(project).package_paths()  # what the converter and the package commands call
    check = CliRunner().invoke(main, ["check", "--project-dir", str(project), "--json"])

    assert "packageDirectories[1].path" in str(refused.value) and "project folder" in str(refused.value)
    findings = json.loads(check.stdout)["result"]["findings"]
    assert check.exit_code == 1
    assert any(f["rule"] == "path" and "project folder" in f["message"] for f in findings)
    assert not any("Secret" in f["file"] for f in findings)


# --- the org and the Models API ---------------------------------------------------------------------


@pytest.fixture
def org() -> Iterator[FakeOrg]:
    with running_org() as (fake, server):
        fake.ca_bundle = server.ca_bundle  # type: ignore[attr-defined]
        yield fake


def org_command(org: FakeOrg, project: Path, command: str, *args: str, token: str | None = None) -> Result:
    env = {"REQUESTS_CA_BUNDLE": org.ca_bundle, "SF_ACCESS_TOKEN": token or org.access_token}  # type: ignore[attr-defined]
    login = [] if "--instance-url" in args or "--client-id" in args else ["--instance-url", org.url]
    extra = ["--skip-checks"] if command == "deploy" else []
    return CliRunner().invoke(main, [command, "--project-dir", str(project), *extra, *login, *args], env=env)


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://[::1", "--instance-url: not a valid URL (Invalid IPv6 URL)"),
        ("not a url", "--instance-url: 'not a url' is not an https URL"),
        ("https://me:hunter2@acme.my.salesforce.com", "--instance-url: the URL must not hold a user name or password"),
    ],
)
def test_bad_instance_urls_are_one_line_and_credentials_are_not_echoed(
    org: FakeOrg, tmp_path: Path, url: str, message: str
) -> None:
    project = write_sample_project(tmp_path / "project")
    deploy = org_command(org, project, "deploy", "--instance-url", url)
    models = CliRunner().invoke(
        main,
        ["models", "generate", "-m", "sfdc_ai__DefaultGPT41", "hi", "--instance-url", url, "--client-id", "x"],
        env={"SF_CLIENT_SECRET": "s"},
    )

    for result in (deploy, models):
        assert one_error_line(result).startswith(f"error: {message}")
        assert "hunter2" not in result.output
    assert org.deploys == {}


def test_a_jwt_key_file_that_is_not_pem_is_one_line(org: FakeOrg, tmp_path: Path) -> None:
    project = write_sample_project(tmp_path / "project")
    (tmp_path / "key.txt").write_text("not a key\n")

    result = org_command(
        org,
        project,
        "deploy",
        "--client-id",
        "x",
        "--username",
        "u@example.com",
        "--jwt-key-file",
        str(tmp_path / "key.txt"),
        "--login-url",
        org.url,
    )

    assert one_error_line(result) == "error: --jwt-key-file: not a PEM RSA private key"


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_http_timeouts_must_be_finite_and_positive(org: FakeOrg, tmp_path: Path, value: str) -> None:
    project = write_sample_project(tmp_path / "project")
    deploy = org_command(org, project, "deploy", "--http-timeout", value)
    models = CliRunner().invoke(
        main,
        ["models", "generate", "-m", "sfdc_ai__DefaultGPT41", "hi", "--instance-url", org.url, "--client-id", "x"],
        env={"SF_CLIENT_SECRET": "s", "APEXGEN_HTTP_TIMEOUT": value},
    )

    for result in (deploy, models):
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert f"'{value}' is not a number of seconds above 0" in result.stderr
    assert org.deploys == {}


def test_a_report_path_that_cannot_be_written_stops_before_the_deploy(org: FakeOrg, tmp_path: Path) -> None:
    project = write_sample_project(tmp_path / "project")

    result = org_command(org, project, "deploy", "--junit", str(tmp_path / "missing/junit.xml"))

    assert one_error_line(result).startswith(f"error: {tmp_path / 'missing/junit.xml'}: cannot be written")
    assert org.deploys == {}


def test_an_access_token_is_not_called_connected_before_the_org_accepts_it(org: FakeOrg, tmp_path: Path) -> None:
    project = write_sample_project(tmp_path / "project")

    result = org_command(org, project, "deploy", token="00Dwrong!token")

    assert result.exit_code == 4
    assert "Connected" not in result.stderr
    assert result.stderr.startswith(f"Using the access token for {org.url}")


def test_apexgen_test_exits_4_when_the_connection_fails_or_the_session_expired(org: FakeOrg, tmp_path: Path) -> None:
    project = write_sample_project(tmp_path / "project")

    nobody_listening = org_command(org, project, "test", "--instance-url", "https://127.0.0.1:9")
    expired = org_command(org, project, "test", token="00Dexpired!token")

    assert nobody_listening.exit_code == 4, nobody_listening.output
    assert expired.exit_code == 4, expired.output
    assert "session expired" in expired.stderr


@pytest.fixture
def models_api() -> Iterator[tuple[object, FakeModelsApi]]:
    with serve_models_api() as running:
        yield running


def models(models_api, *args: str, **env: str) -> Result:
    server, fake = models_api
    environment = {
        "REQUESTS_CA_BUNDLE": server.ca_bundle,
        "SF_CLIENT_SECRET": fake.client_secret,
        "APEXGEN_MODELS_API_URL": server.url + API_PREFIX,
        **env,
    }
    return CliRunner().invoke(
        main, ["models", *args, "--instance-url", server.url, "--client-id", fake.client_id], env=environment
    )


def test_a_token_error_that_is_a_json_array_is_reported(models_api) -> None:
    models_api[1].token_replies.append(
        CannedReply(400, b'[{"error": "invalid_grant"}]', {"Content-Type": "application/json"})
    )

    line = one_error_line(models(models_api, "generate", "-m", "sfdc_ai__DefaultGPT41", "hi"), exit_code=4)

    assert "token request to" in line and "failed (400 Bad Request)" in line


def test_embeddings_of_different_lengths_are_reported(models_api) -> None:
    body = {"embeddings": [{"index": 0, "embedding": [1.0, 2.0]}, {"index": 1, "embedding": [1.0, 2.0, 3.0]}]}
    models_api[1].replies.append(CannedReply(200, body))

    result = models(models_api, "embed", "-m", "sfdc_ai__DefaultOpenAITextEmbeddingAda_002", "a", "b")

    assert one_error_line(result, exit_code=1) == (
        "error: the response's embeddings differ in length (2, 3 dimensions); they cannot be compared"
    )


def test_a_retry_after_that_is_not_a_time_is_waited_out_like_none(models_api) -> None:
    models_api[1].replies.append(
        CannedReply(429, {"errorCode": "TOO_MANY_REQUESTS", "message": "slow down"}, {"Retry-After": "soon"})
    )

    result = models(models_api, "generate", "-m", "sfdc_ai__DefaultGPT41", "hi")

    assert result.exit_code == 0, result.output
    assert len(models_api[1].api_requests) == 2


def test_a_prompt_file_that_is_not_utf8_is_named(models_api, tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9\n")

    result = models(models_api, "generate", "-m", "sfdc_ai__DefaultGPT41", "-f", str(tmp_path / "latin1.txt"))

    assert one_error_line(result).startswith(f"error: {tmp_path / 'latin1.txt'}: the prompt is not UTF-8 text")
    assert models_api[1].api_requests == []


# --- unclear messages -------------------------------------------------------------------------------


def test_a_byte_order_mark_in_the_spec_is_not_content(project: Path) -> None:
    (project / "apexgen.toml").write_bytes(b"\xef\xbb\xbf" + (project / "apexgen.toml").read_bytes())

    assert generate(project).exit_code == 0


def test_an_error_inside_a_models_table_names_its_key(project: Path) -> None:
    edit_spec(
        project,
        'fast = "sfdc_ai__DefaultOpenAIGPT4OmniMini"',
        'fast = { configured = "My_Model", capabilities = ["chat"], extra = 1 }',
    )

    line = one_error_line(generate(project))

    assert unplaced(line).startswith("error: apexgen.toml: models.fast.extra: unknown key")


def test_generate_json_prints_its_document_on_exit_3(generated: Path) -> None:
    edited = generated / CLASSES / "DraftReplyService.cls"
    edited.write_text(edited.read_text() + "// mine\n")
    edit_spec(generated, "Drafts a reply", "Writes a reply")

    result = generate(generated, "--json")

    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["name"] == "EditedFilesError" and document["exitCode"] == 3
    assert document["data"]["written"] is False
    assert {"path": f"{CLASSES}/DraftReplyService.cls", "action": "conflict", "reason": "edited by hand"} in document[
        "data"
    ]["files"]


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "huge"])
def test_a_spec_that_is_not_a_small_regular_file_is_refused_at_once(project: Path, kind: str) -> None:
    spec = project / "odd.toml"
    if kind == "fifo":
        os.mkfifo(spec)
    elif kind == "folder":
        spec.mkdir()
    elif kind == "huge":
        spec.write_text("# " + "x" * 2_000_000 + "\n")
    name = "/dev/zero" if kind == "dev-zero" else "odd.toml"

    started = time.monotonic()
    line = one_error_line(generate(project, "--spec", name))

    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert line.startswith(f"error: {name}: is ")


def test_a_huge_input_name_is_refused_quickly(project: Path) -> None:
    name = "a" * 400_000
    edit_spec(project, 'name = "customerName"', f'name = "{name}"')
    edit_spec(project, "{customerName}", "{" + name + "}")

    started = time.monotonic()
    line = one_error_line(generate(project))

    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert (
        unplaced(line)
        == "error: apexgen.toml: prompt[1].inputs[0].name: is 400000 characters long; names have at most 80 "
        "(prompt 'DraftReply')"
    )


def test_control_characters_in_an_echoed_value_stay_on_one_line(project: Path) -> None:
    edit_spec(project, 'api_version = "65.0"', 'api_version = "6\\r\\n5\\u202e"')

    line = one_error_line(generate(project))

    assert (
        unplaced(line)
        == "error: apexgen.toml: project.api_version: '6\\r\\n5\\u202e' does not match an API version such as '65.0'"
    )
