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
# The content of each pinned package as npm installs it from the registry (``package_digest`` in
# apexgen.check.toolchain: every file but nested node_modules, by relative path). A project's own
# node_modules runs only when its copies match these, so a project cannot bring other code under the
# pinned names. A test recomputes them from the repository's ``npm ci``: change them with the pins.
PINNED_CONTENT = {
    "@salesforce/code-analyzer-pmd-engine": "b793fed9e24663fada9587171c9e8faba6a758ed17debf9ba0fd8537278e0c6f",
    "@salesforce/schemas": "401fb203e5c88b887951a0bc9daaf24199b989db985ad99f8da3063bc5317f1e",
    "prettier": "a936032fedbd0e2de6963e741d49d7f4466e65f1cfe24c7829d88b5d8c276645",
    "prettier-plugin-apex": "870fe30bc1b4afc7e811ce486ea84082eede3b2ce9ff51f9bc158ee69c5145a0",
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
