"""[[index]], search prompts and grounded prompts: what the spec accepts, what it refuses (one line naming the
key and the rule), and what an index generates: its chunk object, its classes and its permissions."""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from apexgen.generate.plan import render_plan
from apexgen.spec.load import parse_spec
from tests.conftest import tree, write_spec
from tests.test_spec import HEADER as MODELS

HEADER = (
    MODELS
    + """
[[index]]
name = "SimilarCases"
object = "Case"
fields = ["Subject", "Description"]
model = "vectors"
"""
)
SEARCH = """
[[prompt]]
name = "FindCases"
capability = "search"
index = "SimilarCases"
k = 3
"""
GROUNDED = """
[[prompt]]
name = "Answer"
capability = "generate"
model = "fast"
template = "Cases:\\n{context}\\n\\nQuestion: {question}"
inputs = [{ name = "question", required = true }]
ground = { index = "SimilarCases", query = "question", k = 4 }
"""
META = "{http://soap.sforce.com/2006/04/metadata}"


def files_of(text: str) -> dict[str, str]:
    return {f.path: f.content for f in render_plan(parse_spec(text))}


def test_an_index_reads_its_keys_and_defaults() -> None:
    spec = parse_spec(HEADER + SEARCH + GROUNDED)
    index = spec.indexes[0]
    assert (index.object, index.fields, index.condition) == ("Case", ("Subject", "Description"), None)
    assert (index.chunk_size, index.chunk_overlap, index.chunk_object) == (1000, 100, "AiSimilarCasesChunk")
    search, grounded = spec.prompts
    assert search.index == index and search.k == 3 and search.model == index.model
    assert grounded.ground is not None and (grounded.ground.query, grounded.ground.k) == ("question", 4)


BAD = [
    (
        "unknown index",
        SEARCH.replace('index = "SimilarCases"', 'index = "Nope"'),
        "prompt[0].index",
        "not an [[index]]",
    ),
    ("search without index", SEARCH.replace('index = "SimilarCases"\n', ""), "prompt[0].index", "is required"),
    ("search with a model", SEARCH.replace("k = 3", 'k = 3\nmodel = "fast"'), "prompt[0].model", "not used"),
    ("k too large", SEARCH.replace("k = 3", "k = 51"), "prompt[0].k", "at most 50"),
    (
        "prompt named as an index",
        SEARCH.replace('name = "FindCases"', 'name = "SimilarCases"'),
        "index[0].name",
        "prompt[0]",
    ),
    (
        "ground on embed",
        '\n[[prompt]]\nname = "E"\ncapability = "embed"\nmodel = "vectors"\n'
        'ground = { index = "SimilarCases", query = "q" }\n',
        "prompt[0].ground",
        "not used",
    ),
    (
        "ground query not an input",
        GROUNDED.replace('query = "question"', 'query = "other"'),
        "prompt[0].ground.query",
        "String input",
    ),
    ("ground without {context}", GROUNDED.replace("{context}", "cases"), "prompt[0].template", "{context}"),
    (
        "context as an input",
        GROUNDED.replace(
            'inputs = [{ name = "question", required = true }]',
            'inputs = [{ name = "question", required = true }, { name = "context" }]',
        ),
        "prompt[0].inputs[1].name",
        "reserved",
    ),
    (
        "context without ground",
        GROUNDED.replace('ground = { index = "SimilarCases", query = "question", k = 4 }\n', ""),
        "prompt[0].template",
        "placeholder {context}",
    ),
]
INDEX_BAD = [
    ("index model cannot embed", HEADER.replace('model = "vectors"', 'model = "fast"'), "index[0].model", "can embed"),
    ("index on User", HEADER.replace('object = "Case"', 'object = "User"'), "index[0].object", "not User or Lead"),
    ("bad field", HEADER.replace('"Description"', '"Description; DROP"'), "index[0].fields[1]", "field API name"),
    ("condition with a semicolon", HEADER + "condition = \"Status = 'Closed'; x\"\n", "index[0].condition", "one SOQL"),
    ("overlap over half", HEADER + "chunk = { size = 400, overlap = 300 }\n", "index[0].chunk.overlap", "half"),
    ("chunk too small", HEADER + "chunk = { size = 100 }\n", "index[0].chunk.size", "at least 200"),
    ("repeated index", HEADER + HEADER.split("\n[[index]]")[1].join(["\n[[index]]", ""]), "index[1].name", "repeats"),
]


@pytest.mark.parametrize("problem, prompt, key, rule", BAD, ids=[case[0] for case in BAD])
def test_bad_search_and_ground_keys_are_one_clear_line(project, cli, problem, prompt, key, rule) -> None:
    assert_refused(project, cli, HEADER + prompt, key, rule)


@pytest.mark.parametrize("problem, header, key, rule", INDEX_BAD, ids=[case[0] for case in INDEX_BAD])
def test_bad_indexes_are_one_clear_line(project, cli, problem, header, key, rule) -> None:
    assert_refused(project, cli, header + SEARCH, key, rule)


def test_an_index_name_too_long_for_its_classes_is_one_clear_line(project, cli) -> None:
    long_name = "A" + "b" * 30
    text = (HEADER + SEARCH).replace('"SimilarCases"', f'"{long_name}"')
    assert_refused(project, cli, text, "index[0].name", "Apex allows at most 40")


def assert_refused(project, cli, text: str, key: str, rule: str) -> None:
    write_spec(project, text)
    before = tree(project)
    result = cli("generate", cwd=project)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and re.match(rf"error: apexgen\.toml(:\d+:\d+)?: {re.escape(key)}:", lines[0]), result.output
    assert rule in lines[0], lines[0]
    assert tree(project) == before


def test_an_index_generates_its_chunk_object_classes_and_read_only_permissions() -> None:
    files = files_of(HEADER + SEARCH)
    folder = "force-app/main/default/objects/AiSimilarCasesChunk__c"
    fields = sorted(path.rsplit("/", 1)[1] for path in files if path.startswith(f"{folder}/fields/"))
    assert fields == [
        f"{name}.field-meta.xml"
        for name in sorted(
            [
                "ChunkKey__c",
                "ChunkNumber__c",
                "Model__c",
                "Source__c",
                "Text__c",
                "TextHash__c",
                "Vector__c",
                "VectorNorm__c",
            ]
        )
    ]
    source = etree.fromstring(files[f"{folder}/fields/Source__c.field-meta.xml"].encode())
    assert source.findtext(f"{META}type") == "MasterDetail" and source.findtext(f"{META}referenceTo") == "Case"
    chunk = etree.fromstring(files[f"{folder}/AiSimilarCasesChunk__c.object-meta.xml"].encode())
    assert chunk.findtext(f"{META}sharingModel") == "ControlledByParent"
    assert chunk.findtext(f"{META}enableSearch") == "true"
    classes = {path.rsplit("/", 1)[1] for path in files if path.endswith(".cls")}
    assert {
        "SimilarCasesRetriever.cls",
        "SimilarCasesIndexer.cls",
        "AiVectorCodec.cls",
        "AiSearchTerms.cls",
        "AiTextChunks.cls",
        "AiSearchResult.cls",
        "FindCasesService.cls",
        "FindCasesController.cls",
    } <= classes
    assert not any("/lwc/findCases/" in path for path in files)  # search: the controller, no component
    permissions = etree.fromstring(
        files["force-app/main/default/permissionsets/AiModelsAccess.permissionset-meta.xml"].encode()
    )
    objects = {o.findtext(f"{META}object"): o for o in permissions.findall(f"{META}objectPermissions")}
    # the chunks read only; the run log of the job that indexes, in user mode, as for every job's work. Not the
    # indexed object: a search reads its results' records in user mode to leave out those the user cannot read,
    # and granting that read would widen what the user can read.
    assert sorted(objects) == ["AiModelRun__c", "AiSimilarCasesChunk__c"]
    chunks = objects["AiSimilarCasesChunk__c"]
    assert (chunks.findtext(f"{META}allowRead"), chunks.findtext(f"{META}allowEdit")) == ("true", "false")
    assert chunks.findtext(f"{META}allowCreate") == "false"
    granted = {f.findtext(f"{META}field") for f in permissions.findall(f"{META}fieldPermissions")}
    chunk_fields = {name for name in granted if name.startswith("AiSimilarCasesChunk__c.")}
    assert "AiSimilarCasesChunk__c.Vector__c" in chunk_fields and "AiSimilarCasesChunk__c.Source__c" not in granted
    assert len(chunk_fields) == 7
    classes_granted = {c.findtext(f"{META}apexClass") for c in permissions.findall(f"{META}classAccesses")}
    assert "SimilarCasesIndexer" in classes_granted  # the Flow action of the index's record-triggered Flow


def test_without_an_index_nothing_of_retrieval_is_generated() -> None:
    files = files_of(
        HEADER.split("\n[[index]]")[0]
        + GROUNDED.replace("{context}", "x").replace(
            'ground = { index = "SimilarCases", query = "question", k = 4 }\n', ""
        )
    )
    assert not any("SearchResult" in path or "Chunk__c" in path for path in files)
    generation = next(text for path, text in files.items() if path.endswith("/AiGeneration.cls"))
    assert "sources" not in generation


def test_a_grounded_prompt_searches_its_index_and_carries_the_sources() -> None:
    files = files_of(HEADER + GROUNDED)
    service = next(text for path, text in files.items() if path.endswith("/AnswerService.cls"))
    assert "String admitted = AiModelControls.admit(PROMPT_NAME, question);" in service
    assert "AiRetriever retriever = SimilarCasesRetriever.forSettings(client);" in service  # Apex or Data Cloud
    assert "return retriever.search(admitted, GROUND_K);" in service
    assert "values.put('context', context);" in service
    action = next(text for path, text in files.items() if path.endswith("/AnswerAction.cls"))
    assert "List<Id> sourceIds" in action
    generation = next(text for path, text in files.items() if path.endswith("/AiGeneration.cls"))
    assert "public List<AiSearchResult> sources" in generation


def test_the_condition_filters_the_indexed_records() -> None:
    files = files_of(HEADER + "condition = \"Status = 'Closed'\"\n" + SEARCH)
    indexer = next(text for path, text in files.items() if path.endswith("/SimilarCasesIndexer.cls"))
    assert "WHERE Id IN :recordIds AND Status = 'Closed'" in indexer
    assert "WHERE Status = 'Closed'" in indexer


def test_an_index_is_work_of_the_durable_job_queued_by_a_record_triggered_flow() -> None:
    files = files_of(HEADER + SEARCH)
    job = next(text for path, text in files.items() if path.endswith("/AiModelJob.cls"))
    assert "'SimilarCases' => new SimilarCasesIndexer()" in job
    indexer = next(text for path, text in files.items() if path.endswith("/SimilarCasesIndexer.cls"))
    assert "implements AiModelWork, Database.Batchable<SObject>" in indexer
    assert "AiModelJob.enqueue(INDEX_NAME, new Set<Id>(recordIds));" in indexer  # the Flow action
    assert "AiModelJob.enqueue(INDEX_NAME, new Map<Id, SObject>(scope).keySet());" in indexer  # the batch
    assert "AiModelControls.admit(INDEX_NAME, texts)" in indexer  # the admin's switch, length and hourly cap
    setting = etree.fromstring(
        files["force-app/main/default/customMetadata/AiModelSetting.SimilarCases.md-meta.xml"].encode()
    )
    values = {v.findtext(f"{META}field"): v.find(f"{META}value") for v in setting.findall(f"{META}values")}
    assert values["RunOnRecords__c"].text == "true" and values["Enabled__c"].text == "true"
    flow = etree.fromstring(files["force-app/main/default/flows/SimilarCasesIndexFlow.flow-meta.xml"].encode())
    start = flow.find(f"{META}start")
    assert (start.findtext(f"{META}object"), start.findtext(f"{META}recordTriggerType")) == ("Case", "CreateAndUpdate")
    assert start.findtext(f"{META}scheduledPaths/{META}pathType") == "AsyncAfterCommit"
    action = flow.find(f"{META}actionCalls")
    assert action.findtext(f"{META}actionName") == "SimilarCasesIndexer"
    assert action.findtext(f"{META}inputParameters/{META}name") == "recordIds"  # the invocable's parameter
    assert action.findtext(f"{META}inputParameters/{META}value/{META}elementReference") == "$Record.Id"


def test_with_an_index_and_no_record_prompt_the_job_and_its_test_run_the_index() -> None:
    files = files_of(HEADER + SEARCH)
    classes = {path.rsplit("/", 1)[1] for path in files if path.endswith(".cls")}
    assert {"AiModelJob.cls", "AiModelWork.cls", "AiModelRunRetry.cls", "AiModelRunSweep.cls"} <= classes
    assert "AiRecordWrites.cls" not in classes  # nothing writes answers to records
    job_test = next(text for path, text in files.items() if path.endswith("/AiModelJobTest.cls"))
    assert "private static final String PROMPT = 'SimilarCases';" in job_test
    assert "AiModelJob.works.put(PROMPT, new SimilarCasesIndexer(stub.client()));" in job_test
    assert "valueAPersonSetAfterTheSaveIsKept" not in job_test
    for case in ("budgetStopsByCountAndTheChainCarriesTheRest", "hourlyCapDelaysTheWork", "switchedOffRunIsSkipped"):
        assert case in job_test


def test_the_indexer_test_covers_each_case_through_the_job() -> None:
    files = files_of(HEADER + SEARCH)
    test = next(text for path, text in files.items() if path.endswith("/SimilarCasesIndexerTest.cls"))
    for case, assertion in [
        ("indexingStoresEveryChunkWithItsVectorInOneCall", "'Expected the pieces embedded in one call'"),
        ("unchangedTextIsNeverEmbeddedTwice", "'Expected no attempt counted without a call'"),
        ("aChangedEndReembedsOnlyTheChangedChunks", "'Expected only the changed chunks embedded: '"),
        ("shortenedTextAndDeletedRecordsLeaveTheIndex", "'Expected a deleted record to take its chunks with it'"),
        ("recordsPastTheCalloutBudgetWaitForTheNextExecution", "'Expected the run to wait'"),
        (
            "aRecordWhoseChunksTheHeapCannotHoldWaitsForTheNextExecution",
            "'Expected one record indexed and the other to wait'",
        ),
        ("aFailedSaveIsLoggedOnTheRun", "'Expected the chunk and its save error logged'"),
        (
            "aRecordNeedingMoreCallsThanAnExecutionMayMakeIsIndexedOverSeveralExecutions",
            "'Expected no chunk embedded twice'",
        ),
        ("noCallStartsOnceTheExecutionsCalloutTimeIsSpent", "'Expected the calls the time budget allows'"),
        ("theHourlyCapMidRecordKeepsTheChunksEmbeddedSoFar", "'Expected the chunks embedded before the cap saved'"),
        ("aFailedCallKeepsTheChunksEmbeddedBeforeIt", "'Expected the chunks embedded before the failed call saved'"),
        ("aFailedCallKeepsTheChunksEmbeddedBeforeIt", "'Expected one attempt counted for the failure'"),
        ("aFailedCallKeepsTheChunksEmbeddedBeforeIt", "'Expected the kept chunks not embedded again'"),
        ("theBatchQueuesExistingRecordsForTheJob", "'Expected the existing record indexed'"),
        ("nothingIsIndexedWhileTheIndexIsSwitchedOff", "'Expected nothing queued'"),
    ]:
        body = test.split(f"static void {case}()")[1].split("@IsTest")[0]
        assert assertion in body, case


def test_an_index_setting_chooses_apex_or_data_cloud_without_new_code() -> None:
    files = files_of(HEADER + SEARCH)
    setting = etree.fromstring(
        files["force-app/main/default/customMetadata/AiModelSetting.SimilarCases.md-meta.xml"].encode()
    )
    values = {v.findtext(f"{META}field"): v.findtext(f"{META}value") for v in setting.findall(f"{META}values")}
    assert values["SearchWith__c"] == "Apex"  # the default: the Apex retriever
    fields = "force-app/main/default/objects/AiModelSetting__mdt/fields"
    search_with = etree.fromstring(files[f"{fields}/SearchWith__c.field-meta.xml"].encode())
    assert [v.findtext(f"{META}fullName") for v in search_with.iter(f"{META}value")] == ["Apex", "DataCloud"]
    assert search_with.findtext(f"{META}fieldManageability") == "SubscriberControlled"
    for name in ("DataCloudIndex__c", "DataCloudChunks__c", "DataCloudRecordField__c"):
        assert f"{fields}/{name}.field-meta.xml" in files
    retriever = next(text for path, text in files.items() if path.endswith("/SimilarCasesRetriever.cls"))
    assert "public with sharing class SimilarCasesRetriever implements AiRetriever {" in retriever
    assert "if (AiDataCloudSearch.isChosenBy(setting)) {" in retriever
    data_cloud = next(text for path, text in files.items() if path.endswith("/AiDataCloudSearch.cls"))
    assert "UNVERIFIED" in data_cloud and "ConnectApi.CdpQuery.queryAnsiSqlV2(" in data_cloud
    assert "AccessLevel.USER_MODE" in data_cloud  # only records the user can read come back
    service = next(text for path, text in files.items() if path.endswith("/FindCasesService.cls"))
    assert "this.retriever = SimilarCasesRetriever.forSettings(client);" in service


def test_without_an_index_the_settings_have_no_search_fields() -> None:
    files = files_of(HEADER.split("\n[[index]]")[0] + GROUNDED.replace("{context}", "x").split("ground =")[0])
    assert not any("SearchWith__c" in path or "DataCloud" in path for path in files)


@pytest.mark.parametrize(
    "condition, printed",
    [
        ("Status = 'Closed'", "Status = 'Closed'"),
        ("Status = 'Closed' AND Origin = 'Web'", "Status = 'Closed' AND Origin = 'Web'"),
        ("Status = 'Closed' OR IsEscalated = TRUE", "(Status = 'Closed' OR IsEscalated = TRUE)"),
        (
            "Status = 'Closed' AND (Origin = 'Web' OR Origin = 'Email')",
            "Status = 'Closed' AND (Origin = 'Web' OR Origin = 'Email')",
        ),
        ("Subject = 'this OR that'", "Subject = 'this OR that'"),
    ],
)
def test_a_condition_after_and_is_parenthesized_as_prettier_prints_it(condition: str, printed: str) -> None:
    """prettier-plugin-apex keeps parentheses only where precedence needs them (checked with the real tool)."""
    index = parse_spec(HEADER + f"condition = {json.dumps(condition)}\n" + SEARCH).indexes[0]
    assert index.and_condition == printed


def test_a_grounded_prompt_component_links_the_source_records_of_its_answer() -> None:
    files = files_of(HEADER + GROUNDED + 'expose = ["lwc"]\n')
    html = files["force-app/main/default/lwc/answer/answer.html"]
    script = files["force-app/main/default/lwc/answer/answer.js"]
    assert '<template for:each={sources} for:item="source">' in html
    assert "<a href={source.url} title={source.title}>{source.label}</a>" in html
    assert "url: `/lightning/r/${source.recordId}/view`" in script
    jest = files["force-app/main/default/lwc/answer/__tests__/answer.test.js"]
    assert "it('links each source record of the answer, numbered as the context numbers them'" in jest
    ungrounded = files_of(
        HEADER
        + GROUNDED.replace("{context}", "x").replace(
            'ground = { index = "SimilarCases", query = "question", k = 4 }\n', ""
        )
        + 'expose = ["lwc"]\n'
    )
    assert "sources" not in ungrounded["force-app/main/default/lwc/answer/answer.html"]


def method_body(source: str, signature: str) -> str:
    """The body of one method of a generated class: from the brace after its signature to the brace that closes
    it (braces in Apex string literals do not count)."""
    start = source.index("{", source.index(signature))
    depth, quoted, i = 0, False, start
    while True:
        char = source[i]
        if quoted and char == "\\":
            i += 1
        elif char == "'":
            quoted = not quoted
        elif not quoted and char in "{}":
            depth += 1 if char == "{" else -1
            if depth == 0:
                return source[start : i + 1]
        i += 1


def test_the_indexer_takes_each_embeddings_call_from_the_budget_and_splits_a_long_record() -> None:
    files = files_of(HEADER + "chunk = { size = 200, overlap = 100 }\n" + SEARCH)
    indexer = next(text for path, text in files.items() if path.endswith("/SimilarCasesIndexer.cls"))
    # The job takes only the first call of a record from its budget: the record's total is not known to fit.
    needed = method_body(indexer, "public Integer callsNeeded(AiModelRun__c run)")
    assert re.findall(r"return (\w+);", needed) == ["0", "WAIT_FOR_THE_NEXT_EXECUTION", "1"]
    # Every call after the first asks first; a refusal splits the run instead of calling.
    call = method_body(indexer, "public void call(AiModelJob.Outcome outcome)")
    loop = call.split("for (Integer first = 0; first < numbers.size(); first += textsPerCall) {", 1)[1]
    ask, embed = loop.index("waitReason(outcome, last - first)"), loop.index("client.embed(")
    assert ask < embed and loop.index("outcome.split(reason);\n                return;") < embed
    wait = method_body(indexer, "private String waitReason(AiModelJob.Outcome outcome, Integer texts)")
    assert "outcome.takeCall()" in wait  # callouts left and time left, from the job's budget
    assert "callsLeft = AiModelControls.callsLeftThisHour(INDEX_NAME);" in wait and "heapHolds(texts)" in wait
    comment = indexer.split("private String waitReason(")[0].rsplit("\n\n", 1)[1]
    for cited in (
        '"Execution Governors and Limits"',
        '"Callout Limits and Limitations"',
        "100 callouts",
        "120 seconds",
    ):
        assert cited in comment
    # The worst case the spec allows over a 131,072-character field, as the comment states it.
    assert "A text of 131,072 characters needs 82 calls" in indexer


def test_a_split_run_is_written_continued_at_once_and_counts_no_attempt() -> None:
    job = next(text for path, text in files_of(HEADER + SEARCH).items() if path.endswith("/AiModelJob.cls"))
    call_with = method_body(job, "public void callWith(AiModelWork work, Integer calls)")
    split = call_with.index("if (isSplit()) {\n                    continued();\n                    return;")
    assert split < call_with.index("counted();")  # a split returns before an attempt is counted
    continued = method_body(job, "private void continued()")
    assert "run.Status__c = QUEUED;" in continued and "run.NextAttemptAt__c = null;" in continued
    assert "Attempts__c" not in continued and "run.CalledAt__c = AiCalloutBudget.now();" in continued
    write_answers = method_body(job, "private static void writeAnswers(List<Outcome> outcomes)")
    assert "if (outcome.hasAnswers()) {" in write_answers
    has_answers = method_body(job, "public Boolean hasAnswers()")
    assert "run.Status__c == SUCCEEDED || isSplit()" in has_answers
    # Each call the work asks for comes out of the execution's budget (count and time), one at a time.
    assert "new Outcome(run, prompt, budget)" in job
    take_call = method_body(job, "public Boolean takeCall()")
    assert "Boolean taken = budget.tryTake();" in take_call and "callsMade++;" in take_call
    # The hourly cap sums each run's calls: a run split over executions counts every call, not once.
    assert "run.Calls__c = (run.Calls__c ?? 0) + callsMade;" in continued
    counted = method_body(job, "public void counted()")
    assert "run.Calls__c = (run.Calls__c ?? 0) + Math.max(1, callsMade);" in counted
    controls = next(text for path, text in files_of(HEADER + SEARCH).items() if path.endswith("/AiModelControls.cls"))
    calls_left = method_body(controls, "public static Integer callsLeftThisHour(String prompt)")
    assert "SUM(Calls__c) calls" in calls_left and "SELECT COUNT()" not in calls_left


def test_a_failed_call_keeps_the_chunks_embedded_before_it_and_is_retried_as_any_failure() -> None:
    files = files_of(HEADER + SEARCH)
    indexer = next(text for path, text in files.items() if path.endswith("/SimilarCasesIndexer.cls"))
    job = next(text for path, text in files.items() if path.endswith("/AiModelJob.cls"))
    # The indexer keeps its chunks after each call that answered, so a later call's failure does not drop them.
    call = method_body(indexer, "public void call(AiModelJob.Outcome outcome)")
    loop = call.split("for (Integer first = 0; first < numbers.size(); first += textsPerCall) {", 1)[1]
    assert loop.index("client.embed(") < loop.index("chunks.add(") < loop.index("outcome.keepAnswers();")
    # A failed run that keeps answers goes to the work's write, which runs after the execution's last call.
    has_answers = method_body(job, "public Boolean hasAnswers()")
    assert (
        "Boolean keptFromAFailure = callFailed && keepsAnswers;" in has_answers and "keptFromAFailure;" in has_answers
    )
    fail = method_body(job, "public void fail(\n            String message,")
    assert fail.index("callFailed = true;") < fail.index("run.Status__c = RETRYING;")
    execute = method_body(job, "public void execute(QueueableContext context)")
    assert execute.index("callModels(runs);") < execute.index("writeAnswers(outcomes);")
    # The failure itself is handled as before: an attempt counted, and the retry with its backoff.
    call_with = method_body(job, "public void callWith(AiModelWork work, Integer calls)")
    assert (
        "keepAnswers" not in call_with and "catch (AiModelsException e) {\n                failedCall(e);" in call_with
    )
    counted_then_retried = (
        "counted();\n                Integer code = e.responseCode;\n"
        "                Boolean passing = code == 429 || code >= 500;\n"
        "                fail(e.getMessage(), code, passing);"
    )
    assert counted_then_retried in job
    written = method_body(job, "public void written(String written, Boolean saved)")
    assert "} else if (callFailed) {\n                logged = 'Before the failed call: ' + written;" in written
