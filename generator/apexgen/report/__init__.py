"""Stage 6: reports of deploys and test runs: text and JSON summaries, JUnit and Cobertura files."""
