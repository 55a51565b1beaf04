"""S3: moto's S3, with object bodies on disk (written on PUT) and buckets and objects that survive
restarts.

Layout, as for every service here: ``models`` (the disk store's state), ``bodies`` (the file-backed
bodies), ``patches`` (on moto's S3 models), ``responses`` (ranged GETs), ``persist`` (sidecars,
bucket list, restore); :func:`install` wires them in.
"""

from __future__ import annotations

from local_aws import hooks, persistence
from local_aws.options import EndpointOptions
from local_aws.s3 import patches, persist, responses
from local_aws.s3.models import STORE


def install(options: EndpointOptions) -> None:
    """Keep bodies and metadata under ``<state_dir>/s3``; without a state dir S3 is plain moto."""
    if options.state_dir is None:
        return
    STORE.configure(options.state_dir / "s3", options.account_id)
    patches.install()
    responses.install()
    persistence.register_state_hook(persist.STATE_NAME, dump=persist.dump_buckets, load=persist.load_buckets)
    hooks.register_after_write(lambda _environ: persist.flush())
    hooks.register_shutdown(persist.shutdown)
