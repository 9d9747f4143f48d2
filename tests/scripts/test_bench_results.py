"""bench/RESULTS.md: each benchmark replaces its own section and keeps the others'."""

from __future__ import annotations

import pytest

from bench.results import write_section


def test_a_section_is_appended_then_replaced_in_place(tmp_path):
    results = tmp_path / "RESULTS.md"
    write_section(results, "# Telemetry overhead\n\nold figures\n")
    write_section(results, "# Synth time\n\n| a | 1 |\n")
    write_section(results, "# Telemetry overhead\n\nnew figures\n")
    text = results.read_text()
    assert text.index("# Telemetry overhead") < text.index("# Synth time")
    assert "new figures" in text and "old figures" not in text
    assert text.count("# Telemetry overhead") == 1 and "| a | 1 |" in text


def test_a_section_must_start_with_its_title(tmp_path):
    with pytest.raises(ValueError, match="starts with '# Title'"):
        write_section(tmp_path / "RESULTS.md", "figures without a title\n")
