"""Stage 4: source format to metadata format: the package.xml and files (or zip) the Metadata API deploys."""
