"""Stage 2: from a validated spec to files: the render plan (Apex, Flows, LWC), new projects, safe writes."""
