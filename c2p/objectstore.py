"""The object store (MinIO, or any S3 server) as the evidence service and the gateway
both reach it: the client from settings, the private bucket, streaming a body of
unknown length in bounded memory. What the evidence service does with its objects
(slots, verification, links) stays in `evidence.dependencies`.
"""
from __future__ import annotations

from minio import Minio

PART_SIZE = 5 * 1024 * 1024  # the smallest S3 multipart part: memory stays bounded


def make_client(settings) -> Minio:
    return Minio(settings.s3_endpoint, access_key=settings.s3_access_key,
                 secret_key=settings.s3_secret_key, secure=settings.s3_secure,
                 region=settings.s3_region)


def ensure_bucket(client: Minio, bucket: str) -> None:
    """Create the private evidence bucket if it is missing (never public)."""
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)


def stream_to_store(client: Minio, bucket: str, key: str, stream, content_type: str,
                    num_parallel_uploads: int = 2):
    """Pipe a stream of unknown length to S3 in multipart parts of PART_SIZE.

    At most `num_parallel_uploads + 1` parts are held in memory at once, whatever
    the stream's size. If the stream raises, minio aborts the multipart upload,
    so nothing half-written stays in the bucket.
    """
    return client.put_object(bucket, key, stream, length=-1, part_size=PART_SIZE,
                             content_type=content_type or "application/octet-stream",
                             num_parallel_uploads=num_parallel_uploads)


def format_size(n: int) -> str:
    """A size as people read it in a limit ("25 MB")."""
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n} bytes"
