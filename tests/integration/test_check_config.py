"""tailkitd --check-config: every error listed as file:line, exit 1."""

import os
import subprocess
from pathlib import Path

import pytest

from conftest import MODE


def tailkitd_bin(node):
    return "tailkitd" if MODE == "system" else str(node.bin["tailkitd"])


def check(node, root):
    return subprocess.run([tailkitd_bin(node), "--check-config", "--root", str(root)],
                          capture_output=True, text=True)


def write(root, rel, text):
    p = Path(root) / "etc/tailkitd" / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_valid_configuration_passes(node, tmp_path):
    write(tmp_path, "tailkitd.conf", '[caps]\ndomains = ["example.com"]  # ours\n[server]\nidle_timeout = 10\n')
    write(tmp_path, "files.toml", '[["/etc/nginx/conf.d/"]]\nread = true\nwrite = true\npost_recv = ["reload-nginx"]\n')
    write(tmp_path, "vars.toml", '[[scope]]\nproject = "myapp"\nread = true\nwrite = true\n')
    write(tmp_path, "integrations/metrics.toml", '[disk]\nenabled = true\npaths = ["/", "/data"]\n')
    write(tmp_path, "tools/devbox.json", (Path(__file__).parent / "data/devbox.json").read_text())
    r = check(node, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "valid" in r.stdout


def test_every_error_is_listed_with_file_and_line(node, tmp_path):
    files = write(tmp_path, "files.toml", '[["/opt/"]]\nread = true\nwirte = true\n')
    vars_ = write(tmp_path, "vars.toml", '[[scope]]\nproject = "myapp"\nread = "yes"\n')
    conf = write(tmp_path, "tailkitd.conf", '[server]\nidle_timeout = { a = 1 }\n')
    systemd = write(tmp_path, "integrations/systemd.toml", '[units]\nread = true\n# x\nallow = ["' + "a" * 300 + '"]\n')
    metrics = write(tmp_path, "integrations/metrics.toml", '[gpu]\nenabled = true\n')
    docker = write(tmp_path, "integrations/docker.toml", '[permissions]\ncontainers_read = true\njust words\n')
    tool = write(tmp_path, "tools/broken.json", '{\n  "name": "broken",\n  "commands": [\n')
    r = check(node, tmp_path)
    assert r.returncode == 1
    err = r.stderr
    for needle in (f"{files}:3:", f"{vars_}:3:", f"{conf}:2:", f"{systemd}:4:",
                   f"{metrics}:1:", f"{docker}:3:", f"{tool}:"):
        assert needle in err, (needle, err)
    assert "wirte" in err
    assert "too long" in err


def test_missing_files_are_fine(node, tmp_path):
    (tmp_path / "etc/tailkitd").mkdir(parents=True)
    r = check(node, tmp_path)
    assert r.returncode == 0, r.stderr
