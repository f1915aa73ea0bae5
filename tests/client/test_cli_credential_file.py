"""`--credential-file` refuses what it cannot use in one line, before any request."""

from pathlib import Path

from cordon_client.cli.main import app
from typer.testing import CliRunner


def _cordon(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_a_missing_or_foreign_credential_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """No file, or a file that is not a service account credential: said, exit 1."""
    home = ["--server", "http://127.0.0.1:9", "--home", str(tmp_path / "h")]
    code, out = _cordon(*home, "--credential-file", str(tmp_path / "absent"), "login")
    assert code == 1 and "cannot read the credential file" in out and out.count("\n") == 1
    wrong = tmp_path / "password.txt"
    wrong.write_text("hunter2\n")
    code, out = _cordon(*home, "login", "--credential-file", str(wrong))
    assert code == 1 and "does not hold a service account credential" in out
    code, out = _cordon(*home, "login")
    assert code == 1 and "give your username (or --credential-file" in out


def test_create_refuses_an_unknown_operation_before_any_request(tmp_path: Path) -> None:
    """The operations are listed in the refusal; nothing is sent to the (absent) server."""
    code, out = _cordon(
        "--server",
        "http://127.0.0.1:9",
        "--home",
        str(tmp_path / "h"),
        "service-account",
        "create",
        "be-import",
        "5f0c8a2e-3b1d-4c6e-9a7f-2d4b6e8f0a1c",
        "--operation",
        "cases.import",
    )
    assert code == 1 and "not one of cases.post, prenotifications.send" in out, out
