"""The airbyte-cdk internals cdk_adapter relies on are still there and still do what it needs:
these tests fail loudly when a CDK upgrade changes them."""

from __future__ import annotations

import io
import json
import threading

from airbyte_cdk.logger import LOGGING_CONFIG, PRINT_BUFFER
from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, Level, Type

from destination_milvus_zendesk.cdk_adapter import ProtocolDestination, stdout_lock
from destination_milvus_zendesk.destination import DestinationMilvusZendesk


def test_the_cdk_write_path_takes_its_input_from_the_strict_parser(tmp_path):
    seen = []

    class Probe(ProtocolDestination):
        def spec(self, logger):  # pragma: no cover - not reached
            raise NotImplementedError

        def check(self, logger, config):  # pragma: no cover - not reached
            raise NotImplementedError

        def parse_input(self, input_stream):
            seen.append(input_stream.read())
            yield AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="parsed strictly"))

        def write(self, config, configured_catalog, input_messages):
            yield from input_messages

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"streams": []}))
    out = list(Probe()._run_write(config={}, configured_catalog_path=str(catalog),
                                  input_stream=io.TextIOWrapper(io.BytesIO(b"not json\n"))))
    assert seen == ["not json\n"] and [m.log.message for m in out] == ["parsed strictly"]
    assert issubclass(DestinationMilvusZendesk, ProtocolDestination)


def test_the_stdout_lock_is_the_one_the_cdk_log_handler_writes_under():
    assert LOGGING_CONFIG["handlers"]["console"]["stream"] is PRINT_BUFFER
    logged = threading.Event()

    def log_line():
        PRINT_BUFFER.write("")  # what the handler calls for each record
        logged.set()

    with stdout_lock():
        thread = threading.Thread(target=log_line)
        thread.start()
        assert not logged.wait(0.3), "the CDK's print buffer no longer writes under the lock we hold"
    assert logged.wait(5)
    thread.join()
