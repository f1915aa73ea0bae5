"""Forms, example files and failures as a person meets them, through the installed `cordon`.

Every command runs the real executable in its own process with the global options on the command
line (`cordon --home DIR [--server URL] …`) and answers on stdin, against a real uvicorn.
Prompts re-ask a wrong answer with one line naming the field; nothing reaches the server until
every answer fits. Failures are one line on stderr and exit status 1; `--debug` shows the
traceback.
"""

import asyncio
import json
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.e2e.server import Server
from tests.e2e.test_domain_cli import _group
from tests.e2e.typed import cordon, ok

pytestmark = pytest.mark.e2e

# The 14 prompts of `cordon cases create`, right answers (a person's spelling, not codes only).
ANSWERS = [
    "be",
    "H1",
    "b",
    "2",
    "2026-11-04",
    "airport",
    "import",
    "India",
    "BE",
    "air",
    "medicines",
    "3004",
    "4,800",
    "pce",
]


def _one_line_failure(done: subprocess.CompletedProcess[str], *texts: str) -> str:
    """Exit 1, exactly one line on stderr holding `texts` and a hint, no traceback."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for text in texts:
        assert text in lines[0], lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


def _cases(home: Path, gid: uuid.UUID) -> list[dict]:
    return list(json.loads(ok(cordon(home, "cases", "export", str(gid), "--format", "json"))))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_case_prompts_re_ask_each_wrong_answer_and_send_only_when_all_fit(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """`cases create` lists codes with labels, re-asks a wrong code and "4,8" with one line
    naming the field, takes "4,800" as 4800, and sends nothing while an answer is wrong."""
    p = await _group(server, session, tmp_path, ["alice"])
    home, gid = p["alice"].home, p["alice"].group_id

    def flow() -> tuple[subprocess.CompletedProcess[str], ...]:
        wrong = [*ANSWERS[:12], "4,8"]  # then stdin ends: the person gave up
        given_up = cordon(home, "cases", "create", str(gid), stdin="\n".join(wrong) + "\n")
        after_giving_up = _cases(home, gid)
        answers = ["XX", *ANSWERS[:3], "7", *ANSWERS[3:12], "4,8", "0", *ANSWERS[12:]]
        typed = "\n".join(answers) + "\n"
        english = cordon(home, "cases", "create", str(gid), stdin=typed)
        french = cordon(home, "cases", "create", str(gid), "--lang", "fr", stdin=typed)
        arabic = cordon(home, "cases", "create", str(gid), "--lang", "ar", stdin=typed)
        german = cordon(home, "cases", "create", str(gid), "--lang", "de", stdin=typed)
        return given_up, after_giving_up, english, french, arabic, german  # type: ignore[return-value]

    given_up, after_giving_up, english, french, arabic, german = await asyncio.to_thread(flow)
    assert given_up.returncode == 1
    assert "Quantity: '4,8' is not a number; allowed: a number > 0" in given_up.stdout
    assert after_giving_up == []  # nothing was sent

    shown = ok(english)
    assert "Reporting country: 'XX' is not an allowed code" in shown
    assert "Information accuracy: '7' is not an allowed code; allowed: one of 1, 2, 3, 4" in shown
    assert "Quantity: '4,8' is not a number" in shown
    assert "Quantity: must be greater than 0" in shown
    assert "H0       Use in any proceedings" in shown  # codes listed with their labels
    assert shown.count("posted case #") == 1

    shown_fr = ok(french)
    assert "Code de traitement" in shown_fr and "Utilisable dans toute procédure" in shown_fr
    assert "Pays déclarant: 'XX' is not an allowed code" in shown_fr

    shown_ar = ok(arabic)  # labels in Arabic; "India" and "air" still match in any language
    assert "رمز التداول" in shown_ar and "يجوز استخدامها في أي إجراءات" in shown_ar
    assert "البلد المُبلِّغ: 'XX' is not an allowed code" in shown_ar
    _one_line_failure(german, "'de': choose one of en, fr, es, ru, ar, pt", "hint:")

    cases = await asyncio.to_thread(_cases, home, gid)
    assert len(cases) == 3
    for case in cases:
        report = case["data"]["reports"][0]
        assert report["items"][0]["quantity"] == 4800
        assert report["departure_country"] == "IN"
        assert case["data"]["information_accuracy"] == 2


async def test_example_files_are_sent_as_documented(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """docs/examples/prenotification.json, and the files `prenotifications template` and
    `cases template` print in Portuguese, Arabic and Russian, are accepted by `--file` exactly
    as they are."""
    p = await _group(server, session, tmp_path, ["sender", "destination"])
    sender, dest = p["sender"], p["destination"]
    gid = str(sender.group_id)

    examples: dict[str, str] = {}

    def flow() -> list[str]:
        sent = [
            ok(
                cordon(
                    sender.home,
                    "prenotifications",
                    "send",
                    gid,
                    "--file",
                    "docs/examples/prenotification.json",
                    "--destination",
                    str(dest.id),
                )
            )
        ]
        pn_yaml = tmp_path / "pn.yaml"
        examples["pt"] = ok(cordon(sender.home, "prenotifications", "template", "--lang", "pt"))
        pn_yaml.write_text(examples["pt"])
        sent.append(
            ok(
                cordon(
                    sender.home,
                    "prenotifications",
                    "send",
                    gid,
                    "--file",
                    str(pn_yaml),
                    "--destination",
                    str(dest.id),
                )
            )
        )
        for form, lang in (("full", "ar"), ("simplified", "ru")):
            case_yaml = tmp_path / f"case-{form}.yaml"
            examples[lang] = ok(
                cordon(sender.home, "cases", "template", "--form", form, "--lang", lang)
            )
            case_yaml.write_text(examples[lang])
            sent.append(
                ok(
                    cordon(
                        sender.home,
                        "cases",
                        "create",
                        gid,
                        "--file",
                        str(case_yaml),
                        "--form",
                        form,
                    )
                )
            )
        return sent

    sent = await asyncio.to_thread(flow)
    assert all(line.startswith("sent pre-notification") for line in sent[:2]), sent
    assert all(line.startswith("posted case #") for line in sent[2:]), sent
    assert "# Cadeia de frio" in examples["pt"]
    assert "# البلد المُبلِّغ" in examples["ar"] and "# Сообщающая страна" in examples["ru"]
    listed = ok(await asyncio.to_thread(cordon, dest.home, "prenotifications", "list", gid))
    assert listed.count("BE→GH") == 2


async def test_failures_are_one_line_with_a_hint_and_debug_shows_the_traceback(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """An unreachable server, a problem+json refusal, a wrong passphrase and a broken file
    each end with one line on stderr and status 1; `--debug` shows the traceback."""
    p = await _group(server, session, tmp_path, ["alice"])
    home, gid = p["alice"].home, str(p["alice"].group_id)
    dead = f"http://127.0.0.1:{_free_port()}"
    broken = tmp_path / "broken.json"
    broken.write_text('{"reporting_country": "BE",')

    def flow() -> dict[str, subprocess.CompletedProcess[str]]:
        return {
            "unreachable": cordon(home, "--server", dead, "groups"),
            "debug": cordon(home, "--server", dead, "--debug", "groups"),
            "refused": cordon(home, "prenotifications", "show", gid, str(uuid.uuid4())),
            "lock": cordon(home, "lock"),  # else the unlock file serves, no passphrase asked
            "passphrase": cordon(home, "groups", passphrase="not the passphrase"),
            "file": cordon(home, "cases", "create", gid, "--file", str(broken)),
        }

    done = await asyncio.to_thread(flow)
    _one_line_failure(
        done["unreachable"], f"cannot reach the server at {dead}", "hint: check --server"
    )
    assert done["unreachable"].stdout == ""
    assert done["debug"].returncode == 1
    assert "Traceback (most recent call last)" in done["debug"].stderr
    assert "httpx.ConnectError" in done["debug"].stderr
    _one_line_failure(done["refused"], "[prenotification.not_found]", "hint:")
    assert done["lock"].returncode == 0, done["lock"]
    _one_line_failure(done["passphrase"], "keystore passphrase is wrong", "CORDON_PASSPHRASE")
    _one_line_failure(done["file"], "not valid JSON", "line 1")
