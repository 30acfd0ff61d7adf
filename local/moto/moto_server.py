"""Serves moto's AWS emulator on HOST PORT, one request at a time.

moto's DynamoDB TransactWriteItems snapshots the tables, applies the items and restores the
snapshot on failure, without a lock; under the stock threaded server, concurrent transactions
overwrite each other's writes, which real DynamoDB (serializable transactions) never does.
Handling requests one at a time gives the tests DynamoDB's semantics for concurrent callers.

moto's CodeBuild ListBuildsForProject ignores `sortOrder` and lists a project's builds oldest
first; the service's default, and what the validate function asks for, is DESCENDING (newest
first). With more builds than validate inspects, the newest smoke build fell off the page. The
patch below lists them as the service does.

moto's KMS picks a random key id for every CreateKey. Terraform would pick one too, but the local
loop evaluates the module before anything exists, with deterministic ids for computed attributes
(local/terraform/computed.ts), and those ARNs are in the functions' environment and policies. A
key created with the tag `suture:local-key-id` gets that id instead, so the key the module
names is the key moto signs with.
"""

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def _list_builds_in_requested_order() -> None:
    from moto.codebuild.responses import CodeBuildResponse

    original = CodeBuildResponse.list_builds_for_project

    def list_builds_for_project(self):  # type: ignore[no-untyped-def]
        descending = (self._get_param("sortOrder") or "DESCENDING") == "DESCENDING"
        backend = self.codebuild_backend
        listed = backend.list_builds_for_project

        def ordered(project_name):  # type: ignore[no-untyped-def]
            ids = list(listed(project_name))
            return list(reversed(ids)) if descending else ids

        backend.list_builds_for_project = ordered
        try:
            return original(self)
        finally:
            del backend.list_builds_for_project

    CodeBuildResponse.list_builds_for_project = list_builds_for_project


LOCAL_KEY_ID_TAG = "suture:local-key-id"


def _kms_keys_with_requested_ids() -> None:
    from moto.kms.models import KmsBackend

    original = KmsBackend.create_key

    def create_key(self, policy, key_usage, key_spec, description, tags, *args, **kwargs):  # type: ignore[no-untyped-def]
        key = original(self, policy, key_usage, key_spec, description, tags, *args, **kwargs)
        wanted = next((t.get("TagValue") for t in tags or [] if t.get("TagKey") == LOCAL_KEY_ID_TAG), None)
        if wanted and wanted != key.id:
            del self.keys[key.id]
            self.tagger.delete_all_tags_for_resource(key.id)
            key.arn = key.arn[: -len(key.id)] + wanted
            key.id = wanted
            self.keys[key.id] = key
            self.tagger.tag_resource(key.id, tags)
        return key

    KmsBackend.create_key = create_key


def main() -> None:
    _list_builds_in_requested_order()
    _kms_keys_with_requested_ids()
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
