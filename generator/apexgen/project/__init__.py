"""The SFDX project on disk: sfdx-project.json (read and written in one place) and .forceignore."""
