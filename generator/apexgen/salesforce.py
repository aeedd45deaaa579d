"""Facts of the Salesforce platform that more than one stage needs; each is written here and nowhere else."""

from __future__ import annotations

# The API version apexgen writes into new projects and uses where a project names none (no
# sourceApiVersion in sfdx-project.json, no project at all for a 1GP upload).
API_VERSION = "65.0"
# The oldest API version a spec may ask for: the Models API's aiplatform namespace needs API 61.0 (Summer '24)
# or later; no source gives an official minimum, 61.0 is the oldest version that public Models API code compiles with.
MIN_API_VERSION = 61
METADATA_NAMESPACE = "http://soap.sforce.com/2006/04/metadata"
# Source format keeps each component's metadata beside its source in a file of this suffix.
META_SUFFIX = "-meta.xml"
SFDX_PROJECT_FILE = "sfdx-project.json"
