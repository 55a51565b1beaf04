"""A local AWS endpoint (S3, Glue with a crawler that really crawls, Athena, STS) built on moto.

Start it with ``python -m local_aws --port 4566 --state-dir .state/aws``. It imports nothing from
the pipeline packages: it is a stand-in for AWS, not part of the product.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
