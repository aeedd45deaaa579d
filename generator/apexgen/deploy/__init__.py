"""Stage 5: deploy a converted project and run its Apex tests, through the org clients of ``apexgen.org``."""
