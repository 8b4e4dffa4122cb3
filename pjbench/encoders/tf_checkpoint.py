"""Reading a TensorFlow checkpoint (the tensor-bundle format, `<prefix>.index` + `<prefix>.data-00000-of-0000N`)
without TensorFlow: the variables' values as numpy arrays.

The ``.index`` file is a LevelDB-style sorted table: data blocks of prefix-compressed key/value entries, an index block
pointing to them, and a 48-byte footer (the two block handles and a magic number). Its keys are the variables'
names; each value is a ``BundleEntryProto`` (protocol buffers: dtype, shape, shard, offset and size in the shard,
a masked CRC32C of the bytes); the empty key holds the ``BundleHeaderProto`` (number of shards, endianness). A
variable's bytes are ``size`` bytes at ``offset`` of its shard, little-endian, row-major.

Everything is checked as it is read: block trailers, handles inside the file, shapes against sizes, offsets inside
the shard, and (when an expected digest is given) the files' sha256; a cut or altered file is one ``ValueError``
naming the file and what is wrong.
"""

from __future__ import annotations

import struct
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..hashing import file_sha256

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_BYTES = 48
BLOCK_TRAILER_BYTES = 5  # compression type (1 byte) and a masked CRC32C (4)
# TensorFlow's DataType enum -> numpy (little-endian); the types a trained network's variables use
DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 6: "i1", 9: "<i8", 10: "?", 19: "<f2"}


@dataclass(frozen=True)
class Entry:
    """Where one variable lies: its dtype, shape, shard and byte range."""

    dtype: int
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    has_slices: bool = False


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise ValueError("a varint runs past the end")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("a varint is longer than 10 bytes")


def _fields(message: bytes) -> list[tuple[int, int, int | bytes]]:
    """A protocol-buffer message as (field number, wire type, value): varints as ints, length-delimited as bytes,
    fixed32/fixed64 as ints."""
    out: list[tuple[int, int, int | bytes]] = []
    pos = 0
    while pos < len(message):
        tag, pos = _varint(message, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(message, pos)
            out.append((number, wire, value))
        elif wire == 2:
            length, pos = _varint(message, pos)
            if pos + length > len(message):
                raise ValueError("a length-delimited field runs past the end")
            out.append((number, wire, message[pos : pos + length]))
            pos += length
        elif wire == 5:
            out.append((number, wire, struct.unpack_from("<I", message, pos)[0]))
            pos += 4
        elif wire == 1:
            out.append((number, wire, struct.unpack_from("<Q", message, pos)[0]))
            pos += 8
        else:
            raise ValueError(f"unsupported protocol-buffer wire type {wire}")
    return out


def _shape(message: bytes) -> tuple[int, ...]:
    dims = []
    for number, _, value in _fields(message):
        if number == 2:  # repeated Dim {int64 size = 1; string name = 2}
            size = next((int(v) for n, _, v in _fields(bytes(value)) if n == 1), 0)
            dims.append(size)
        elif number == 3 and value:
            raise ValueError("a variable of unknown rank")
    return tuple(dims)


def _entry(message: bytes) -> Entry:
    values: dict[int, int | bytes] = {}
    slices = False
    for number, _, value in _fields(message):
        if number == 7:
            slices = True
        else:
            values[number] = value
    shape = _shape(bytes(values[2])) if 2 in values else ()
    return Entry(int(values.get(1, 0)), shape, int(values.get(3, 0)), int(values.get(4, 0)), int(values.get(5, 0)), slices)


def _block(data: bytes, offset: int, size: int, where: str) -> list[tuple[bytes, bytes]]:
    """The (key, value) entries of the table block at ``offset`` (``size`` bytes, then its trailer)."""
    if offset + size + BLOCK_TRAILER_BYTES > len(data):
        raise ValueError(f"{where}: a block runs past the end of the file (cut short?)")
    if data[offset + size] != 0:
        raise ValueError(f"{where}: a compressed block (type {data[offset + size]}); only uncompressed tables are read")
    block = data[offset : offset + size]
    if size < 4:
        raise ValueError(f"{where}: a block too short for its restart count")
    restarts = struct.unpack_from("<I", block, size - 4)[0]
    end = size - 4 - 4 * restarts
    if end < 0:
        raise ValueError(f"{where}: a block's restart array is larger than the block")
    entries, pos, key = [], 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        length, pos = _varint(block, pos)
        if shared > len(key) or pos + unshared + length > end:
            raise ValueError(f"{where}: a damaged block entry")
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + length]))
        pos += length
    return entries


def read_index(index_path: Path) -> tuple[int, dict[str, Entry]]:
    """The number of shards and each variable's entry, from a checkpoint's ``.index`` file."""
    data = index_path.read_bytes()
    where = str(index_path)
    if len(data) < FOOTER_BYTES or struct.unpack_from("<Q", data, len(data) - 8)[0] != TABLE_MAGIC:
        raise ValueError(f"{where}: not a TensorFlow checkpoint index (no table footer: cut short or another file)")
    footer = data[len(data) - FOOTER_BYTES :]
    _, pos = _varint(footer, 0)  # the meta-index block: empty in checkpoints
    _, pos = _varint(footer, pos)
    index_offset, pos = _varint(footer, pos)
    index_size, _ = _varint(footer, pos)
    n_shards, entries = 1, {}
    for _, handle in _block(data, index_offset, index_size, where):
        offset, pos = _varint(handle, 0)
        size, _ = _varint(handle, pos)
        for key, value in _block(data, offset, size, where):
            if key == b"":  # the header
                header = {n: v for n, _, v in _fields(value)}
                n_shards = int(header.get(1, 1))
                if int(header.get(2, 0)) != 0:
                    raise ValueError(f"{where}: a big-endian checkpoint")
                continue
            entries[key.decode()] = _entry(value)
    return n_shards, entries


def read_checkpoint(prefix: str | Path, expected_sha256: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Every variable of the checkpoint at ``prefix`` (``prefix.index`` and its data shards; a folder stands for the
    prefix "folder/", as musicnn's ``MTT_musicnn/.index``). ``expected_sha256``: file suffix (".index",
    ".data-00000-of-00001") -> the sha256 the file must have."""
    if Path(prefix).is_dir():
        prefix = f"{Path(prefix)}/"
    index_path = Path(f"{prefix}.index")
    if not index_path.is_file():
        raise ValueError(f"{index_path}: no checkpoint index there")
    for suffix, expected in (expected_sha256 or {}).items():
        path = Path(f"{prefix}{suffix}")
        if not path.is_file():
            raise ValueError(f"{path}: missing")
        if file_sha256(path) != expected:
            raise ValueError(f"{path}: its sha256 is not the published file's (altered or cut short)")
    n_shards, entries = read_index(index_path)
    shards = [Path(f"{prefix}.data-{k:05d}-of-{n_shards:05d}") for k in range(n_shards)]
    for shard in shards:
        if not shard.is_file():
            raise ValueError(f"{shard}: the checkpoint's data shard is missing")
    sizes = [shard.stat().st_size for shard in shards]
    out = {}
    with ExitStack() as stack:
        handles = [stack.enter_context(open(shard, "rb")) for shard in shards]
        for name, entry in sorted(entries.items()):
            if entry.has_slices:
                raise ValueError(f"{index_path}: {name} is stored in slices (a partitioned variable), which is not read")
            if entry.dtype not in DTYPES:
                raise ValueError(f"{index_path}: {name} has TensorFlow dtype {entry.dtype}, which is not read")
            dtype = np.dtype(DTYPES[entry.dtype])
            count = int(np.prod(entry.shape)) if entry.shape else 1
            if count * dtype.itemsize != entry.size:
                raise ValueError(f"{index_path}: {name}'s shape {entry.shape} does not match its {entry.size} bytes")
            if not 0 <= entry.shard < n_shards or entry.offset + entry.size > sizes[entry.shard]:
                raise ValueError(f"{shards[min(entry.shard, n_shards - 1)]}: {name} lies past the end of the data (cut short?)")
            fh = handles[entry.shard]
            fh.seek(entry.offset)
            out[name] = np.frombuffer(fh.read(entry.size), dtype=dtype).reshape(entry.shape).copy()
    return out
