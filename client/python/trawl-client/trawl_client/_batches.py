"""Splitting points into batches, and files into chunks, for the clients."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

CHUNK_BYTES = 1 << 20
"""Bytes read or written at a time when a snapshot archive is streamed."""


def chunks(points: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items (the last one shorter), read from ``points`` as they are needed."""
    chunk: list[T] = []
    for point in points:
        chunk.append(point)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_batch_size(batch_size: int) -> None:
    """Refuses a batch size below 1."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")


async def async_chunks(points: Iterable[T] | AsyncIterable[T], size: int) -> AsyncIterator[list[T]]:
    """As :func:`chunks`, from an iterable or an async iterable."""
    if not isinstance(points, AsyncIterable):
        for batch in chunks(points, size):
            yield batch
        return
    chunk: list[T] = []
    async for point in points:
        chunk.append(point)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def read_chunks(path: str | os.PathLike[str]) -> AsyncIterator[bytes]:
    """A file's bytes, :data:`CHUNK_BYTES` at a time (blocking reads)."""
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
