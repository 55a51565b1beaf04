"""S3 extensions: object bodies on disk (written on PUT) and bucket/object state that survives restarts.

``install(options)`` patches moto's S3 backend in-process; ``local_aws.s3.access`` gives other
in-process services (the Glue crawler, Athena) direct, zero-copy access to object bodies.
"""

from __future__ import annotations

from local_aws.options import EndpointOptions
from local_aws.s3 import store


def install(options: EndpointOptions) -> None:
    """Hook the disk store into moto's S3 models when a state dir is configured."""
    if options.state_dir is not None:
        store.install(options.state_dir / "s3", options.account_id)
