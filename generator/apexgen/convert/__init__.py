"""Stage 4: source format -> metadata format, as the sf CLI converts, driven by the sf CLI's own registry.

The registry of @salesforce/source-deploy-retrieve (SDR, Apache-2.0) ships in ``sdr/`` with its license and
version. The modules port SDR's resolver and converter: ``resolve`` and ``adapters`` find each source file's
component, ``transform`` writes the metadata-format files (merging decomposed children the way SDR writes XML,
``sdr_xml``), ``project`` runs it over a project's package directories. No Node, no sf CLI.
"""

from apexgen.convert.components import ConvertError
from apexgen.convert.project import Conversion, ConvertedProject, convert_project, deploy_zip

__all__ = ["Conversion", "ConvertError", "ConvertedProject", "convert_project", "deploy_zip"]
