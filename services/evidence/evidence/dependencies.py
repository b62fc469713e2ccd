"""The object store (MinIO, or any S3 server) as a nameko dependency."""
from __future__ import annotations

from minio import Minio
from nameko import config
from nameko.extensions import DependencyProvider


def make_client(settings) -> Minio:
    return Minio(settings.s3_endpoint, access_key=settings.s3_access_key,
                 secret_key=settings.s3_secret_key, secure=settings.s3_secure,
                 region=settings.s3_region)


def ensure_bucket(client: Minio, bucket: str) -> None:
    """Create the private evidence bucket if it is missing (never public)."""
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)


class ObjectStore(DependencyProvider):
    def setup(self):
        settings = config["C2P_SETTINGS"]
        self.bucket = settings.evidence_bucket
        self.client = make_client(settings)

    def start(self):
        ensure_bucket(self.client, self.bucket)

    def get_dependency(self, worker_ctx):
        return self
