import os

import pytest

from textkit import slugify

HERE = os.path.dirname(os.path.abspath(__file__))


def test_write_to_tmp_path(tmp_path):
    """Writes where a test may always write: pytest's tmp_path (under /tmp)."""
    out = tmp_path / (slugify("Report: Q1") + ".txt")
    out.write_text("ok\n")
    assert out.read_text() == "ok\n"


def test_write_to_output_dir(tmp_path):
    """Leaves a file in $HT_OUTPUT_DIR, which hypertest keeps as an artifact."""
    out_dir = os.environ.get("HT_OUTPUT_DIR", str(tmp_path))
    with open(os.path.join(out_dir, "slugs.txt"), "w") as f:
        f.write(slugify("Kept as an artifact") + "\n")


def test_write_next_to_itself():
    """Writes into its own directory, as many real suites do: it needs
    local.writable_task (hypertest.json), else the read-only project makes
    it fail with "Read-only file system"."""
    path = os.path.join(HERE, "generated-%d.tmp" % os.getpid())
    try:
        with open(path, "w") as f:
            f.write("x")
        assert os.path.getsize(path) == 1
    finally:
        if os.path.exists(path):
            os.unlink(path)


def test_attempt_and_id():
    """hypertest tells each test which attempt it is and its id."""
    if "HT_TEST_ID" not in os.environ:
        pytest.skip("not run by hypertest")
    assert int(os.environ["HT_ATTEMPT"]) >= 1
    # t- for a node id run alone, b- for a batch (one pytest, several
    # node ids: docs/runner-pytest.md#batching)
    assert os.environ["HT_TEST_ID"].startswith(("t-", "b-"))
