"""The object store (MinIO, or any S3 server) as a nameko dependency.

Everything the evidence service does with bytes goes through `Store`: presigned
POST slots bounded in size and type, reading back what landed, short-lived
presigned GETs, removal. The bucket is private: nothing is ever made public.
"""
from __future__ import annotations

from datetime import timedelta

from minio import Minio
from minio.datatypes import PostPolicy
from minio.error import S3Error
from nameko import config
from nameko.extensions import DependencyProvider

# The client and the bucket are made as the gateway makes them for streamed uploads.
from c2p.clock import utcnow
from c2p.objectstore import ensure_bucket, make_client

READ_CHUNK = 256 * 1024


class Store:
    def __init__(self, client: Minio, bucket: str, secure: bool, endpoint: str):
        self.client, self.bucket = client, bucket
        self._base = f"{'https' if secure else 'http'}://{endpoint}"

    def upload_slot(self, key: str, content_type: str, max_bytes: int,
                    expires: timedelta) -> dict:
        """A presigned POST accepting one file at `key`, 1..max_bytes long, of the
        declared type. (Real MinIO enforces the size; moto does not, so the
        service checks the size again when the upload is confirmed.)"""
        expires_at = utcnow() + expires
        policy = PostPolicy(self.bucket, expires_at)
        policy.add_equals_condition("key", key)
        policy.add_equals_condition("Content-Type", content_type)
        policy.add_content_length_range_condition(1, max_bytes)
        form = self.client.presigned_post_policy(policy)
        return {"url": f"{self._base}/{self.bucket}", "method": "POST",
                "fields": {"key": key, "Content-Type": content_type, **form},
                "file_field": "file", "max_bytes": max_bytes,
                "expires_at": expires_at.isoformat()}

    def size(self, key: str) -> int | None:
        """The stored object's size, or None if nothing is there."""
        try:
            return self.client.stat_object(self.bucket, key).size
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return None
            raise

    def read(self, key: str, limit: int):
        """Yield the object's bytes in chunks, stopping after `limit` bytes."""
        response = self.client.get_object(self.bucket, key, length=limit)
        try:
            yield from response.stream(READ_CHUNK)
        finally:
            response.close()
            response.release_conn()

    def copy(self, source: str, target: str) -> None:
        """Server-side copy: the bytes do not pass through this process."""
        from minio.commonconfig import CopySource
        self.client.copy_object(self.bucket, target, CopySource(self.bucket, source))

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        import io
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data),
                               content_type=content_type)

    def remove(self, key: str | None) -> None:
        if key:
            self.client.remove_object(self.bucket, key)

    def download_url(self, key: str, ttl: timedelta, content_type: str = None,
                     filename: str = None) -> str:
        headers = {}
        if content_type:
            headers["response-content-type"] = content_type
        if filename:
            from urllib.parse import quote
            headers["response-content-disposition"] = (
                f"attachment; filename*=UTF-8''{quote(filename)}")
        return self.client.presigned_get_object(self.bucket, key, expires=ttl,
                                                response_headers=headers or None)


class ObjectStore(DependencyProvider):
    def setup(self):
        settings = config["C2P_SETTINGS"]
        self.bucket = settings.evidence_bucket
        self.client = make_client(settings)
        self.store = Store(self.client, self.bucket, settings.s3_secure, settings.s3_endpoint)

    def start(self):
        ensure_bucket(self.client, self.bucket)

    def get_dependency(self, worker_ctx):
        return self.store
