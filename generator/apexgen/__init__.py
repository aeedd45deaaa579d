"""apexgen: turn a short spec into a tested Salesforce Models API integration.

The library core never imports click and never prints; ``apexgen.cli`` turns results into output and
exit codes. Data flows one way: spec -> model -> render plan -> write -> check -> convert -> deploy -> report.
"""

__version__ = "0.1.0"
