"""`chamberbot check` rejects what `chamberbot run` rejects, with the same message and
exit code 2, before anything connects; names written where ids belong are warned about."""

from __future__ import annotations

from pathlib import Path

import pytest

from chamberbot.cli import main

GATEWAY = "wechat:\n  endpoint: 127.0.0.1:8788\n  token: secret\n"
BAD = {
    "empty": ("", "(file): the file is empty"),
    "duplicate_key": (
        f"bot_name: 甲\nbot_name: 乙\n{GATEWAY}",
        "line 2: not valid YAML: duplicate key",
    ),
    "unquoted_time": (
        f"quiet_hours:\n  start: 22:00\n{GATEWAY}",
        'quiet_hours.start: quote the time: write "22:00"',
    ),
    "endpoint_without_port": (
        "wechat:\n  endpoint: 127.0.0.1\n  token: secret\n",
        "wechat.endpoint:",
    ),
}


@pytest.fixture(autouse=True)
def _no_gateway_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_TOKEN", raising=False)


@pytest.mark.parametrize("name", sorted(BAD))
def test_check_and_run_reject_the_same_bad_config_the_same_way(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = BAD[name]
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")

    assert main(["check", "--config", str(config)]) == 2
    checked = capsys.readouterr().err
    assert main(["run", "--config", str(config)]) == 2
    ran = capsys.readouterr().err

    assert checked == ran
    assert checked.startswith(f"{config}: ")
    assert expected in checked
    assert not (tmp_path / "data").exists()  # nothing was opened


def test_names_where_ids_belong_are_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "admins: [陈秘书长, wxid_chen]\nstaff_rooms: [秘书处工作群, 12345@chatroom]\n",
        encoding="utf-8",
    )

    assert main(["check", "--config", str(config)]) == 0

    err = capsys.readouterr().err
    assert "staff_rooms[0]: '秘书处工作群' looks like a group name" in err
    assert "@chatroom" in err
    assert "admins[0]: '陈秘书长' looks like a name" in err
    assert "wxid_" in err
    assert "staff_rooms[1]" not in err
    assert "admins[1]" not in err
