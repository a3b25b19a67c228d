"""tests/system/rootfs.sh takes the Debian mirror from the machine's apt
sources only (issue 7): no mirror host is written in the repository, and with
no apt sources it stops with a clear message instead of guessing one."""

import subprocess
import textwrap
from pathlib import Path

from conftest import REPO, host_only

ROOTFS = REPO / "tests" / "system" / "rootfs.sh"

pytestmark = host_only


def mirror(apt_dir):
    return subprocess.run([str(ROOTFS), "--print-mirror"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "TAILKITD_APT_ETC": str(apt_dir)})


def test_no_apt_sources_is_a_clear_error(tmp_path):
    r = mirror(tmp_path)
    assert r.returncode != 0
    assert r.stdout == ""
    assert "no Debian bookworm mirror in this machine's apt sources" in r.stderr
    assert "TAILKITD_TEST_MIRROR" in r.stderr


def test_deb822_sources(tmp_path):
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "debian.sources").write_text(textwrap.dedent("""\
        Types: deb
        URIs: file:///srv/mirror/security
        Suites: bookworm-security
        Components: main

        Types: deb
        URIs: file:///srv/mirror/debian file:///srv/other/debian
        Suites: bookworm bookworm-updates
        Components: main
        """))
    r = mirror(tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "file:///srv/mirror/debian"


def test_one_line_sources_list(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# comment\n"
        "deb [arch=amd64 signed-by=/x.gpg] file:///srv/mirror/debian bookworm main\n")
    r = mirror(tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "file:///srv/mirror/debian"


def test_no_mirror_host_in_the_repository():
    out = subprocess.run(["git", "-C", str(REPO), "grep", "-n", "-I", "-E",
                          r"deb\.debian\.org|ftp\.[a-z]+\.debian\.org|security\.debian\.org",
                          "--", ".", ":!*.md"],
                         capture_output=True, text=True)
    assert out.stdout == "", out.stdout
