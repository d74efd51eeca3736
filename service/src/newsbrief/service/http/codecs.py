"""Connect codecs and compression that move the heavy work of a body off the event loop.

connectrpc inflates and parses each request message, synchronously, where it reads it: on the
event loop. A 4 KB gzip body that inflates to 4 MB of JSON (a million one-letter strings) held
the loop for about two seconds there. These plug into connectrpc's own extension points (a
codec and a compression are looked up by name) but only *mark* the bytes: decoding returns a
:class:`Raw` message that the HTTP adapter inflates (bounded) and parses in a thread, and the
adapter hands back responses already serialised (:class:`Encoded`), also in a thread.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from newsbrief.service.errors import MessageTooLarge
from newsbrief.service.serving.context import Undecodable

JSON = "json"
PROTO = "proto"


class GzipBytes(bytes):
    """A message body still gzip-compressed (inflated later, in a thread, with a bound)."""


@dataclass(frozen=True)
class Raw:
    """A request message as received: its bytes, its codec and its type."""

    data: bytes
    codec: str
    message_type: type[Message]

    def parse(self, max_bytes: int) -> Message | Undecodable:
        """The message (blocking: call it in a thread). Undecodable when the bytes are not a
        valid message of its type; MessageTooLarge when they inflate past ``max_bytes``."""
        data = inflate(self.data, max_bytes) if isinstance(self.data, GzipBytes) else self.data
        if len(data) > max_bytes:
            raise _too_large(max_bytes)
        name = self.message_type.DESCRIPTOR.full_name
        try:
            if self.codec == JSON:
                message = self.message_type()
                json_format.Parse(data, message, ignore_unknown_fields=True)
                return message
            return self.message_type.FromString(data)
        except (json_format.ParseError, DecodeError, UnicodeDecodeError, ValueError) as exc:
            return Undecodable(name, str(exc))
        except RecursionError:
            return Undecodable(name, "nested too deeply")


@dataclass(frozen=True)
class Encoded:
    """A response message already serialised by the adapter (in a thread)."""

    data: bytes

    @staticmethod
    def of(message: Message, codec: str) -> Encoded:
        if codec == JSON:
            return Encoded(json_format.MessageToJson(message).encode("utf-8"))
        return Encoded(message.SerializeToString())


def inflate(data: bytes, max_bytes: int) -> bytes:
    """``data`` gunzipped, refusing (MessageTooLarge) as soon as the output passes
    ``max_bytes``: a small body cannot inflate into a large allocation."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise MessageTooLarge(f"the gzip body is not valid: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise _too_large(max_bytes)
    return out


def _too_large(max_bytes: int) -> MessageTooLarge:
    return MessageTooLarge(
        f"the request message is larger than {max_bytes} bytes once inflated (max_message_bytes)"
    )


class DeferredCodec:
    """A Connect codec (``json`` or ``proto``) that decodes to :class:`Raw` and encodes
    :class:`Encoded` as it is (other messages, e.g. from connectrpc itself, normally)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name

    def encode(self, message: Any) -> bytes:
        if isinstance(message, Encoded):
            return message.data
        return Encoded.of(message, self._name).data

    def decode(self, data: bytes | bytearray, message_class: type[Any]) -> Any:
        return Raw(data if isinstance(data, GzipBytes) else bytes(data), self._name, message_class)


class DeferredGzip:
    """The ``gzip`` compression: responses are compressed as usual (they are small and ours);
    request messages are only marked (:class:`GzipBytes`) and inflated by :meth:`Raw.parse`."""

    def name(self) -> str:
        return "gzip"

    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        return gzip.compress(bytes(data), compresslevel=6)

    def decompress(
        self, data: bytes | bytearray | memoryview, read_max_bytes: int | None = None
    ) -> bytes:
        if read_max_bytes is not None and len(data) > read_max_bytes:
            raise _too_large(read_max_bytes)
        return GzipBytes(data)
