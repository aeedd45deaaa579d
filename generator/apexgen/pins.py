"""The npm packages apexgen runs and writes into new projects, each at the one version pinned here.

The deep check runs the first set (``apexgen.check.toolchain`` finds or installs them); new projects'
package.json lists the second, to test and lint their Lightning web components. The repository's root
package.json must list the same versions (a test checks it).
"""

from __future__ import annotations

PINNED_PACKAGES = {
    "@salesforce/code-analyzer-pmd-engine": "0.46.0",
    "@salesforce/schemas": "1.10.3",
    "prettier": "3.10.1",
    "prettier-plugin-apex": "2.3.0",
}
# The tools a generated project's package.json installs to test and lint its Lightning web components
# (apexgen's own test command installs them too, from the root package.json).
LWC_TEST_PACKAGES = {
    "@lwc/eslint-plugin-lwc": "3.5.0",
    "@salesforce/eslint-config-lwc": "4.1.2",
    "@salesforce/eslint-plugin-lightning": "2.0.0",
    "@salesforce/sfdx-lwc-jest": "7.9.0",
    "eslint": "9.39.5",
    "eslint-plugin-import": "2.32.0",
    "eslint-plugin-jest": "29.17.0",
}
