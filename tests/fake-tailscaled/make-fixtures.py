#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerate the fake-tailscaled fixtures, byte for byte.

    tests/fake-tailscaled/make-fixtures.py [--out DIR] [--check]

The bodies mimic what tailscaled's Go code writes (see
/work/shared/reference/tailscale-localapi.md):

* whois (§1.4.7, §2): json.MarshalIndent(res, "", "\\t"): tab-indented, NO
  trailing newline, struct keys in Go declaration order, map keys (CapMap)
  sorted, omitempty fields left out, '<' '>' '&' U+2028 U+2029 escaped.
* status (§4.1): json.Encoder with SetIndent("", "\\t"): the same plus a
  final "\\n".

The fake serves the written files verbatim; this script only exists so that
they are reproducible. --check compares instead of writing (exit 1 on drift).
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SUFFIX = "tail9f2c1.ts.net"
ZERO_TIME = "0001-01-01T00:00:00Z"
VERSION = "1.102.3-t7f2a9c41e-g3b5d1e0a2"

FEATURES = ("tools", "exec", "files", "vars", "docker", "systemd", "metrics")

# The tagged-devices pseudo-user of this made-up tailnet (same ID as the
# daemon's own node in status.json, §4.1).
TAGGED_DEVICES = {"ID": 4873201945510, "LoginName": "tagged-devices", "DisplayName": "Tagged Devices"}


def go_json(obj, trailing_newline=False):
    """Bytes as Go's encoding/json would write obj with a tab indent.

    Python's indent mode already matches MarshalIndent's layout (", " is not
    used, ": " is, empty [] and {} stay compact). What differs is Go's HTML
    escaping, applied here; those characters can only occur inside strings.
    Dicts are emitted in insertion order: callers build struct objects in Go
    field order and sort map keys themselves."""
    text = json.dumps(obj, indent="\t", ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    if trailing_newline:
        text += "\n"
    return text.encode("utf-8")


def hexkey(label):
    """A made-up but stable 32-byte key in hex."""
    return hashlib.sha256(label.encode()).hexdigest()


def sorted_map(d):
    """Go sorts map keys (bytewise) when encoding."""
    if d is None:
        return None
    return {k: d[k] for k in sorted(d, key=lambda s: s.encode())}


def computed_with_host(name, hostname):
    # tailcfg.Node.InitDisplayNames: "name (host)" when the sanitized,
    # lowercased Hostname differs from the MagicDNS short name.
    host = hostname.lower()
    return name if host == name.lower() else f"{name} ({host})"


def node(*, id, stable, short, user, key, machine, disco, v4, v6, endpoints, hostname,
         os_, services, created, cap, name=None, home_derp=None, legacy_derp=None,
         key_expiry=None, zero_key_expiry=False, tags=None, computed=None,
         computed_with_host_=None, online=True):
    """A tailcfg.Node in Go declaration order (tailcfg/tailcfg.go, §2.2).

    Modern (v1.92+, omitzero) unless zero_key_expiry/legacy_derp ask for the
    pre-v1.92 shape."""
    n = {
        "ID": id,
        "StableID": stable,
        "Name": name if name is not None else f"{short}.{SUFFIX}.",
        "User": user,
        "Key": "nodekey:" + key,
    }
    if key_expiry is not None:
        n["KeyExpiry"] = key_expiry
    elif zero_key_expiry:
        n["KeyExpiry"] = ZERO_TIME
    n["Machine"] = "mkey:" + machine
    n["DiscoKey"] = "discokey:" + disco
    n["Addresses"] = [f"{v4}/32", f"{v6}/128"]
    n["AllowedIPs"] = [f"{v4}/32", f"{v6}/128"]
    if endpoints:
        n["Endpoints"] = endpoints
    if legacy_derp is not None:
        n["DERP"] = legacy_derp
    if home_derp is not None:
        n["HomeDERP"] = home_derp
    n["Hostinfo"] = {"OS": os_, "Hostname": hostname, "Services": services}
    n["Created"] = created
    n["Cap"] = cap
    if tags:
        n["Tags"] = tags
    if online is not None:
        n["Online"] = online
    n["MachineAuthorized"] = True
    if computed is None:
        computed = short
    if computed_with_host_ is None:
        computed_with_host_ = computed_with_host(computed, hostname) if computed else ""
    if computed != "":  # omitempty: Go never writes "ComputedName": ""
        n["ComputedName"] = computed
    if computed_with_host_ != "":
        n["ComputedNameWithHost"] = computed_with_host_
    return n


def peerapi(port, dns_proxy=False):
    s = [{"Proto": "peerapi4", "Port": port}, {"Proto": "peerapi6", "Port": port}]
    if dns_proxy:
        s.append({"Proto": "peerapi-dns-proxy", "Port": 1})
    return s


def user(id, login, display, pic=None):
    u = {"ID": id, "LoginName": login, "DisplayName": display}
    if pic:
        u["ProfilePicURL"] = pic
    return u


def whois(n, up, capmap):
    # apitype.WhoIsResponse: exactly Node, UserProfile, CapMap (no omitempty).
    return {"Node": n, "UserProfile": up, "CapMap": sorted_map(capmap)}


def every_feature(domain, value):
    return {f"{domain}/cap/tailkitd-{f}": value for f in FEATURES}


def simple_node(idx, short, hostname, created, **kw):
    """A user-owned linux node with made-up, stable identifiers."""
    v6tail = f"{0x6a00 + idx:x}:{0x1000 + idx * 0x111:x}"
    return node(
        id=3370164282519000 + idx * 7919,
        stable=f"n{hexkey(short)[:10]}{idx:02d}CNTRL",
        short=short,
        user=kw.pop("user_id"),
        key=hexkey("nodekey " + short),
        key_expiry=kw.pop("key_expiry", "2026-11-30T09:15:00Z"),
        machine=hexkey("mkey " + short),
        disco=hexkey("discokey " + short),
        v4=f"100.90.{idx}.{10 + idx}",
        v6=f"fd7a:115c:a1e0::{v6tail}",
        endpoints=[f"198.51.100.{40 + idx}:41641", f"10.20.0.{40 + idx}:41641"],
        home_derp=kw.pop("home_derp", 2),
        hostname=hostname,
        os_="linux",
        services=peerapi(40000 + idx),
        created=created,
        cap=kw.pop("cap", 130),
        **kw,
    )


def fixtures():
    """Returns {filename: (bytes, [lookup keys])}."""
    out = {}

    # 127.0.0.2: alice's laptop, §2.7's node, with every tailkitd feature.
    alice = user(6042118830271, "alice@example.com", "Alice Example",
                 "https://lh3.googleusercontent.com/a/ACg8ocJ-example=s96-c")
    n = node(
        id=3370164282519804, stable="nZ7bH4cJ9t11CNTRL", short="alice-laptop", user=alice["ID"],
        key="e4a1c7f3b9d5e1a7c3f9b5d1e7a3c9f5b1d7e3a9c5f1b7d3e9a5c1f7b3d9e5a1",
        key_expiry="2026-12-18T10:42:09Z",
        machine="6f2a8c4e0b6d2f8a4c0e6b2d8f4a0c6e2b8d4f0a6c2e8b4d0f6a2c8e4b0d6f2a",
        disco="1b7d3f9a5c1e7b3d9f5a1c7e3b9d5f1a7c3e9b5d1f7a3c9e5b1d7f3a9c5e1b7d",
        v4="100.72.210.9", v6="fd7a:115c:a1e0::6a01:d209",
        endpoints=["192.0.2.77:41641", "192.168.1.23:41641"], home_derp=4,
        os_="macOS", hostname="Alices-MacBook-Pro", services=peerapi(60112),
        created="2024-11-04T18:22:10.481392Z", cap=125)
    caps = every_feature("tailscale.com", [{"read": True, "write": True}])
    caps["tailscale.com/cap/devbox"] = [{}]
    caps["https://tailscale.com/cap/file-send"] = None
    out["user-node.json"] = (whois(n, alice, caps), ["127.0.0.2"])

    # 127.0.0.3: ci-runner-3, §2.6's tagged node, read-only everywhere.
    n = node(
        id=6213894027134562, stable="nQ4wT7pX2k11CNTRL", short="ci-runner-3", user=TAGGED_DEVICES["ID"],
        key="7d3f0c5b1a9e48d2c6b0f1e3a5d7c9b2e4f6a8c0d2e4f6a8b0c2d4e6f8a0b2c4",
        machine="2b4d6f8a0c2e4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c",
        disco="9e1c3a5b7d9f1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d",
        v4="100.87.12.45", v6="fd7a:115c:a1e0::e001:c2d",
        endpoints=["198.51.100.23:41641", "10.20.0.14:41641"], home_derp=2,
        os_="linux", hostname="ci-runner-3", services=peerapi(51821, dns_proxy=True),
        created="2025-09-02T14:07:31.52814Z", cap=130, tags=["tag:ci"])
    out["tagged-readonly.json"] = (
        whois(n, dict(TAGGED_DEVICES), every_feature("tailscale.com", [{"read": True, "write": False}])),
        ["127.0.0.3"])

    # 127.0.0.4: a peer without any app capability: "CapMap": null.
    guest = user(6042118830301, "guest@example.com", "Guest User")
    n = simple_node(4, "guest-box", "guest-box", "2025-03-14T07:01:44.9Z", user_id=guest["ID"])
    out["no-caps.json"] = (whois(n, guest, None), ["127.0.0.4"])

    # 127.0.0.5: grants under the operator's own domain only ([caps] domains).
    # DisplayName carries Go's \u003c \u003e \u0026 escapes on purpose (§2.1).
    ops = user(6042118830412, "ops@example.com", "Ops & SRE <on-call>")
    n = simple_node(5, "ops-box", "ops-box", "2025-01-20T12:00:03.25Z", user_id=ops["ID"])
    out["custom-domain.json"] = (
        whois(n, ops, every_feature("example.com", [{"read": True, "write": True}])), ["127.0.0.5"])

    # 127.0.0.6: read and write arrive as two separate grants (§3.2 concat).
    carol = user(6042118830523, "carol@example.com", "Carol Example")
    n = simple_node(6, "split-box", "split-box", "2025-05-02T16:45:10.007Z", user_id=carol["ID"])
    out["split-grants.json"] = (
        whois(n, carol, every_feature("tailscale.com", [{"read": True}, {"write": True}])), ["127.0.0.6"])

    # 127.0.0.7: a non-object element: the whole cap must deny (§3.3.3).
    dave = user(6042118830634, "dave@example.com", "Dave Example")
    n = simple_node(7, "odd-box", "odd-box", "2025-06-30T23:59:59.5Z", user_id=dave["ID"])
    out["malformed-cap.json"] = (
        whois(n, dave, {"tailscale.com/cap/tailkitd-tools": [{"read": True}, "oops"]}), ["127.0.0.7"])

    # 127.0.0.8: a pre-v1.92 daemon talking to a pre-v1.80 control server:
    # zero KeyExpiry, legacy "DERP" string, no HomeDERP, ProfilePicURL always
    # written (pre-v1.82), "Roles": [] (<= v1.80).
    erin = {"ID": 6042118830745, "LoginName": "erin@example.com", "DisplayName": "Erin Example",
            "ProfilePicURL": "", "Roles": []}
    n = simple_node(8, "legacy-box", "legacy-box", "2023-08-09T10:11:12.131415Z", user_id=erin["ID"],
                    key_expiry=None, zero_key_expiry=True, home_derp=None, legacy_derp="127.3.3.40:2",
                    cap=95)
    out["old-format.json"] = (
        whois(n, erin, {"tailscale.com/cap/tailkitd-tools": [{"read": True}]}), ["127.0.0.8"])

    # 127.0.0.9: no ComputedName. Go's tag is `json:",omitempty"`, so a real
    # daemon can only leave the key out (never write ""); the client must fall
    # back to Hostinfo.Hostname. Name's label differs on purpose so that a
    # fallback to Name is told apart from one to Hostinfo.Hostname.
    frank = user(6042118830856, "frank@example.com", "Frank Example")
    n = simple_node(9, "node-9", "fallback-host", "2025-07-04T04:04:04Z", user_id=frank["ID"],
                    computed="", computed_with_host_="")
    out["no-computed-name.json"] = (
        whois(n, frank, {"tailscale.com/cap/tailkitd-tools": [{"read": True, "write": True}]}),
        ["127.0.0.9"])

    # ---- extras beyond the brief (§5.7 failure modes) ----

    # 127.0.0.10: literally "ComputedName": "" (not producible by Go's
    # omitempty; for parsers that must treat "" as absent).
    gina = user(6042118830967, "gina@example.com", "Gina Example")
    n = simple_node(10, "node-10", "fallback-host-10", "2025-07-05T05:05:05Z", user_id=gina["ID"])
    n["ComputedName"] = ""
    n["ComputedNameWithHost"] = ""
    out["empty-computed-name.json"] = (
        whois(n, gina, {"tailscale.com/cap/tailkitd-tools": [{"read": True, "write": True}]}),
        ["127.0.0.10"])

    # 127.0.0.11: caps present without parameters: null value, [] value, and
    # a null element (= empty object). None of them grants read or write.
    hank = user(6042118831078, "hank@example.com", "Hank Example")
    n = simple_node(11, "bare-box", "bare-box", "2025-08-01T08:00:00.1Z", user_id=hank["ID"])
    out["null-and-empty-caps.json"] = (
        whois(n, hank, {"tailscale.com/cap/tailkitd-tools": None,
                        "tailscale.com/cap/tailkitd-exec": [],
                        "tailscale.com/cap/tailkitd-files": [None]}),
        ["127.0.0.11"])

    # 127.0.0.12: mixed-case parameter keys; Go's encoding/json matches them
    # case-insensitively ("Read" == "read").
    ivy = user(6042118831189, "ivy@example.com", "Ivy Example")
    n = simple_node(12, "case-box", "case-box", "2025-08-02T08:00:00.2Z", user_id=ivy["ID"])
    out["mixed-case-keys.json"] = (
        whois(n, ivy, {"tailscale.com/cap/tailkitd-tools": [{"Read": True, "WRITE": True}]}),
        ["127.0.0.12"])

    # 127.0.0.13: may start exec jobs but not read them: it can still poll
    # the jobs it started itself (the starter rule).
    jay = user(6042118831290, "jay@example.com", "Jay Example")
    n = simple_node(13, "runner-box", "runner-box", "2025-08-03T08:00:00.3Z", user_id=jay["ID"])
    out["exec-write-only.json"] = (
        whois(n, jay, {"tailscale.com/cap/devbox": [{}],
                       "tailscale.com/cap/tailkitd-exec": [{"write": True}]}),
        ["127.0.0.13"])

    # 127.0.0.14: may control systemd units, nothing of exec: it polls and
    # cancels the unit jobs it started through /exec/jobs (the starter rule
    # with the job's own integration cap).
    kay = user(6042118831391, "kay@example.com", "Kay Example")
    n = simple_node(14, "unit-box", "unit-box", "2025-08-04T08:00:00.4Z", user_id=kay["ID"])
    out["systemd-write-only.json"] = (
        whois(n, kay, {"tailscale.com/cap/tailkitd-systemd": [{"read": True, "write": True}]}),
        ["127.0.0.14"])

    # ---- the permission matrix's callers (tests/integration/test_matrix.py) ----

    # 127.0.0.15: write without read on every feature: GETs are 403.
    lee = user(6042118831402, "lee@example.com", "Lee Example")
    n = simple_node(15, "push-box", "push-box", "2025-08-05T08:00:00.5Z", user_id=lee["ID"])
    out["write-only.json"] = (
        whois(n, lee, every_feature("tailscale.com", [{"write": True}])), ["127.0.0.15"])

    # 127.0.0.16: every feature granted, each with one malformed element: a
    # malformed element makes the whole cap deny (SPEC §1.3).
    mia = user(6042118831513, "mia@example.com", "Mia Example")
    n = simple_node(16, "bent-box", "bent-box", "2025-08-06T08:00:00.6Z", user_id=mia["ID"])
    out["malformed-every-cap.json"] = (
        whois(n, mia, every_feature("tailscale.com", [{"read": True, "write": True}, "oops"])), ["127.0.0.16"])

    # 127.0.0.17: read+write on every feature, under a domain tailkitd.conf
    # does not list: no cap at all.
    ned = user(6042118831624, "ned@example.com", "Ned Example")
    n = simple_node(17, "foreign-box", "foreign-box", "2025-08-07T08:00:00.7Z", user_id=ned["ID"])
    out["unlisted-domain.json"] = (
        whois(n, ned, every_feature("unlisted.example.org", [{"read": True, "write": True}])), ["127.0.0.17"])

    # 127.0.0.18: a malformed cap under tailscale.com and read under
    # example.com on every feature: reads pass on example.com's grant while
    # every check meets the malformed one (one warning per request).
    ola = user(6042118831735, "ola@example.com", "Ola Example")
    n = simple_node(18, "half-box", "half-box", "2025-08-08T08:00:00.8Z", user_id=ola["ID"])
    caps = every_feature("tailscale.com", [{"read": True, "write": True}, "oops"])
    caps.update(every_feature("example.com", [{"read": True}]))
    out["malformed-and-custom-read.json"] = (whois(n, ola, caps), ["127.0.0.18"])

    result = {}
    for fname, (obj, lookups) in out.items():
        keys = list(lookups)
        for prefix in obj["Node"]["Addresses"]:
            keys.append(prefix.split("/")[0])
        keys.append(obj["Node"]["Key"])
        result[fname] = (go_json(obj), keys)
    return result


def status_running(tun=True):
    """§4.1's example, field for field (ipnstate.Status, PeerStatus order)."""
    return {
        "Version": VERSION,
        "TUN": tun,
        "BackendState": "Running",
        "HaveNodeKey": True,
        "AuthURL": "",
        "TailscaleIPs": ["100.101.7.12", "fd7a:115c:a1e0::b901:70c"],
        "Self": {
            "ID": "nK8vR2mW5q11CNTRL",
            "NodeID": 5519038841207719,
            "PublicKey": "nodekey:3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c",
            "HostName": "artifacts-1",
            "DNSName": f"artifacts-1.{SUFFIX}.",
            "OS": "linux",
            "UserID": TAGGED_DEVICES["ID"],
            "TailscaleIPs": ["100.101.7.12", "fd7a:115c:a1e0::b901:70c"],
            "AllowedIPs": ["100.101.7.12/32", "fd7a:115c:a1e0::b901:70c/128"],
            "Tags": ["tag:artifacts"],
            "Addrs": ["203.0.113.40:41641", "10.20.0.5:41641"],
            "CurAddr": "",
            "Relay": "fra",
            "PeerRelay": "",
            "RxBytes": 0,
            "TxBytes": 0,
            "Created": "2025-06-11T08:30:02.114Z",
            "LastWrite": ZERO_TIME,
            "LastSeen": ZERO_TIME,
            "LastHandshake": ZERO_TIME,
            "Online": True,
            "ExitNode": False,
            "ExitNodeOption": False,
            "Active": False,
            "PeerAPIURL": ["http://100.101.7.12:39211", "http://[fd7a:115c:a1e0::b901:70c]:39211"],
            "TaildropTarget": 0,
            "NoFileSharingReason": "",
            "Capabilities": [
                "HTTPS://TAILSCALE.COM/s/DEPRECATED-NODE-CAPS#see-https://github.com/tailscale/tailscale/issues/11508",
                "https",
                "https://tailscale.com/cap/file-sharing",
            ],
            "CapMap": {"https": None, "https://tailscale.com/cap/file-sharing": None},
            "InNetworkMap": True,
            "InMagicSock": False,
            "InEngine": False,
        },
        "Health": [],
        "MagicDNSSuffix": SUFFIX,
        "CurrentTailnet": {"Name": "example.com", "MagicDNSSuffix": SUFFIX, "MagicDNSEnabled": True},
        "CertDomains": [f"artifacts-1.{SUFFIX}"],
        "ExtraRecords": None,
        "Peer": None,
        "User": {str(TAGGED_DEVICES["ID"]): dict(TAGGED_DEVICES)},
        "ClientVersion": None,
    }


# tailkitctl --all (tests/integration/test_ctl.py): peers whose address the
# test decides. alpha and beta are the tailkitd under test (127.0.0.1);
# gamma's address gets a listener that never answers; delta is offline;
# laptop runs no tailkitd (nothing listens at its address).
FLEET_PEERS = (
    # hostname, address, online, tags
    ("tailkitd-alpha", "127.0.0.1", True, ["tag:web"]),
    ("tailkitd-beta", "127.0.0.1", True, ["tag:db"]),
    ("tailkitd-gamma", "127.0.0.30", True, ["tag:web"]),
    ("tailkitd-delta", "127.0.0.31", False, ["tag:web"]),
    ("laptop", "127.0.0.32", True, None),
)


def fleet_peer(i, hostname, addr, online, tags):
    """A PeerStatus in §4.1's field order (a full status, not peers=false)."""
    key = "nodekey:" + hexkey("fleet-" + hostname)
    p = {
        "ID": f"nFleet{i}CNTRL",
        "PublicKey": key,
        "HostName": hostname,
        "DNSName": f"{hostname}.{SUFFIX}.",
        "OS": "linux",
        "UserID": TAGGED_DEVICES["ID"],
        "TailscaleIPs": [addr, f"fd7a:115c:a1e0::f1ee:{i}"],
        "AllowedIPs": [f"{addr}/32", f"fd7a:115c:a1e0::f1ee:{i}/128"],
    }
    if tags:
        p["Tags"] = tags
    p.update({
        "Addrs": None, "CurAddr": "", "Relay": "fra", "PeerRelay": "", "RxBytes": 0, "TxBytes": 0,
        "Created": "2025-06-11T08:30:02.114Z", "LastWrite": ZERO_TIME,
        "LastSeen": ZERO_TIME if online else "2025-06-12T08:00:00Z", "LastHandshake": ZERO_TIME,
        "Online": online, "ExitNode": False, "ExitNodeOption": False, "Active": False,
        "PeerAPIURL": None, "TaildropTarget": 0, "NoFileSharingReason": "",
        "InNetworkMap": True, "InMagicSock": True, "InEngine": True,
    })
    return key, p


def status_fleet():
    st = status_running()
    peers = dict(fleet_peer(i + 1, *peer) for i, peer in enumerate(FLEET_PEERS))
    st["Peer"] = sorted_map(peers)
    return st


def status_no_netmap(state, have_node_key):
    """NeedsLogin / Stopped: no netmap, so no IPs (§5.5). The shape of Self
    here is derived from the Running example (zero values, nil slices), not
    captured from a real daemon; NodeID is left out (assumed omitempty)."""
    public_key = ("nodekey:3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c"
                  if have_node_key else "nodekey:" + "0" * 64)
    return {
        "Version": VERSION,
        "TUN": True,
        "BackendState": state,
        "HaveNodeKey": have_node_key,
        "AuthURL": "",
        "TailscaleIPs": None,
        "Self": {
            "ID": "",
            "PublicKey": public_key,
            "HostName": "artifacts-1",
            "DNSName": "",
            "OS": "linux",
            "UserID": 0,
            "TailscaleIPs": None,
            "Addrs": None,
            "CurAddr": "",
            "Relay": "",
            "PeerRelay": "",
            "RxBytes": 0,
            "TxBytes": 0,
            "Created": ZERO_TIME,
            "LastWrite": ZERO_TIME,
            "LastSeen": ZERO_TIME,
            "LastHandshake": ZERO_TIME,
            "Online": False,
            "ExitNode": False,
            "ExitNodeOption": False,
            "Active": False,
            "PeerAPIURL": None,
            "TaildropTarget": 0,
            "NoFileSharingReason": "",
            "InNetworkMap": False,
            "InMagicSock": False,
            "InEngine": False,
        },
        "Health": [],
        "MagicDNSSuffix": "",
        "CurrentTailnet": None,
        "CertDomains": None,
        "ExtraRecords": None,
        "Peer": None,
        "User": None,
        "ClientVersion": None,
    }


def all_files():
    """{filename: bytes} for everything under fixtures/."""
    files = {}
    peers = {}
    for fname, (body, keys) in fixtures().items():
        files[fname] = body
        for k in keys:
            if k in peers and peers[k] != fname:
                raise SystemExit(f"lookup key {k} used by {peers[k]} and {fname}")
            peers[k] = fname
    files["status.json"] = go_json(status_running(), trailing_newline=True)
    files["status-userspace.json"] = go_json(status_running(tun=False), trailing_newline=True)
    files["status-needslogin.json"] = go_json(status_no_netmap("NeedsLogin", False), trailing_newline=True)
    files["status-stopped.json"] = go_json(status_no_netmap("Stopped", True), trailing_newline=True)
    files["status-fleet.json"] = go_json(status_fleet(), trailing_newline=True)
    # peers.json is the fake's own lookup table, not a wire body: plain JSON.
    # Keys: bare IP, "nodekey:<hex>", or "ip:port"/"[v6]:port" (ProxyMapper).
    files["peers.json"] = (json.dumps(dict(sorted(peers.items())), indent=2) + "\n").encode()
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "fixtures", help="output folder (default: fixtures/)")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = ap.parse_args()
    files = all_files()
    if len(files["status.json"]) != 1982:  # the size §4.1 measured
        raise SystemExit(f"status.json is {len(files['status.json'])} bytes, expected 1982")
    if args.check:
        bad = [f for f, b in files.items()
               if not (args.out / f).is_file() or (args.out / f).read_bytes() != b]
        for f in bad:
            print(f"differs: {args.out / f}", file=sys.stderr)
        return 1 if bad else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for f, b in files.items():
        (args.out / f).write_bytes(b)
        print(f"wrote {args.out / f} ({len(b)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
