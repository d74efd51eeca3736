"""A client that streams articles until it is killed: ``python -m tests.reliability.stream_client
TARGET``. It prints ``answered`` once the first brief is back, so the killer knows the stream is
mid-way (articles in flight both ways)."""

from __future__ import annotations

import itertools
import sys

import grpc

from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.harness.load import ARTICLE


def main(target: str) -> None:
    def articles() -> object:
        for i in itertools.count():
            yield pb.SummarizeStreamRequest(
                request=pb.SummarizeRequest(text=ARTICLE, client_reference=str(i))
            )

    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.SummarizerServiceStub(channel)
        for n, _ in enumerate(stub.SummarizeStream(articles())):
            if n == 0:
                print("answered", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
