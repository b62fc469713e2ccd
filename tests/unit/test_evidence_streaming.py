"""The gateway's cap on a streamed body: whole parts per read, and a hard size limit."""
import io

import pytest

from gateway.routes.evidence import CappedStream, TooLarge


class Trickle(io.RawIOBase):
    """A socket-like body that hands out at most 1000 bytes per read."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def read(self, size=-1):
        size = 1000 if size is None or size < 0 else min(size, 1000)
        chunk = self.data[self.at:self.at + size]
        self.at += len(chunk)
        return chunk


def test_a_read_returns_the_whole_part_asked_for_even_from_small_socket_reads():
    stream = CappedStream(Trickle(b"x" * 12_345), limit=20_000)
    assert len(stream.read(10_000)) == 10_000
    assert len(stream.read(10_000)) == 2_345  # the rest, then the end
    assert stream.read(10_000) == b""
    assert stream.count == 12_345


def test_more_than_the_limit_fails_as_soon_as_it_is_read():
    stream = CappedStream(Trickle(b"x" * 5_000), limit=4_000)
    with pytest.raises(TooLarge):
        stream.read(10_000)
    exact = CappedStream(Trickle(b"x" * 4_000), limit=4_000)
    assert len(exact.read(10_000)) == 4_000 and exact.read(10) == b""
