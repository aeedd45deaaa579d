"""Stage 3: offline checks of an SFDX project: the fast check (pure Python) and the deep check (Salesforce's own tools)."""
