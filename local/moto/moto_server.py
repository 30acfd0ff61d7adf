"""Serves moto's AWS emulator on HOST PORT, one request at a time.

moto's DynamoDB TransactWriteItems snapshots the tables, applies the items and restores the
snapshot on failure, without a lock; under the stock threaded server, concurrent transactions
overwrite each other's writes, which real DynamoDB (serializable transactions) never does.
Handling requests one at a time gives the tests DynamoDB's semantics for concurrent callers.
"""

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
