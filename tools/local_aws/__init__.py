"""A local AWS endpoint (S3, Glue with a crawler that really crawls, Athena, STS) built on moto.

Start it with ``python -m local_aws --port 4566 --state-dir .state/aws``. It is a development
stand-in for AWS, installed from tools/ with the dev dependency group, and imports nothing of the
product (tests/unit/test_devtools_boundary.py). ``server`` runs moto's WSGI app and installs each
service (``s3``, ``glue``, ``athena``) the same way; ``persistence`` and ``hooks`` are what the
services share, ``catalog_types`` how Glue describes Parquet for both the crawler and Athena.
"""
