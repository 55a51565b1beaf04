"""``python -m local_aws``: run the endpoint (see ``local_aws.server``)."""

from local_aws.server import main

if __name__ == "__main__":
    raise SystemExit(main())
