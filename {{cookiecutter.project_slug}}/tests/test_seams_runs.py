"""runs.py with damaged runs beside good ones: a config.yaml that is not a mapping,
a test_metrics.json that is null or a list, a section of the wrong kind. Each damaged
run is listed and marked; the others are listed as usual."""

import csv
import io

import runs


def write_run(folder, config: str, test: str | None = None, metrics: str | None = None):
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(config)
    (folder / "metrics.csv").write_text(metrics or "epoch,val_loss\n1,0.5\n2,0.4\n")
    if test is not None:
        (folder / "test_metrics.json").write_text(test)


def test_one_damaged_run_does_not_break_the_table(tmp_path, capsys):
    good = "trainer:\n  epochs: 2\n  checkpoint: {monitor: val_loss, mode: min}\n"
    write_run(tmp_path / "a_good", good, '{"test_accuracy": 0.9}')
    write_run(tmp_path / "b_list_config", "- just\n- a list\n", '{"test_accuracy": 0.8}')
    write_run(tmp_path / "c_null_test", good, "null")
    write_run(tmp_path / "d_scalar_section", "trainer: 5\n", '["not", "a", "mapping"]')
    write_run(tmp_path / "e_odd_values", "trainer: {checkpoint: 3}\n", '{"test_accuracy": "x"}')
    assert runs.main([str(tmp_path), "--csv", "-", "--sort", "best"]) == 0
    rows = {row["run"]: row for row in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert sorted(rows) == [
        "a_good",
        "b_list_config",
        "c_null_test",
        "d_scalar_section",
        "e_odd_values",
    ]
    assert rows["a_good"]["status"] == "finished" and rows["a_good"]["test_accuracy"] == "0.9"
    assert rows["b_list_config"]["status"] == "finished (unreadable: config.yaml)"
    assert rows["b_list_config"]["test_accuracy"] == "0.8"
    assert rows["c_null_test"]["status"] == "finished (unreadable: test_metrics.json)"
    assert "unreadable: test_metrics.json" in rows["d_scalar_section"]["status"]
    assert rows["e_odd_values"]["test_accuracy"] == ""
    assert all(row["best"] == "0.4" for row in rows.values())
