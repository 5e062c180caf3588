"""The OpenAPI document tells the truth: schemathesis generates requests for every documented
operation of a running server (valid and invalid ones) and checks that no answer is a server
error and that every status, media type and JSON body is the one documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import Server

pytestmark = pytest.mark.slow
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")


def test_every_operation_is_documented_with_what_it_answers(server: Server) -> None:
    spec = server.get(server.base + "/openapi.json").json()
    operations = [(path, method) for path, item in spec["paths"].items() for method in item]
    assert len(operations) > 60
    # A GET never takes a body: a published body once let a caller replace a named query.
    assert not [path for path, item in spec["paths"].items()
                if "get" in item and "requestBody" in item["get"]]


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
        server: Server, tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [str(st), "run", server.base + "/openapi.json", "--checks", ",".join(CHECKS),
         "--phases", "examples,coverage,fuzzing", "--max-examples", "10", "--seed", "7",
         "--workers", "2", "--request-timeout", "40", "--no-shrink",
         "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary
    assert " passed" in summary and "failures" not in summary, summary
    assert server.log_text().count("Traceback") == 0, server.log_text()[-4000:]
