#!/usr/bin/env python3
"""Writes the synthesized fixture trees next to this script (deterministic:
run it again and git shows no change):

  many-cpus  64 logical CPUs (2 sockets x 16 cores x 2 threads), cpufreq
             maxima in sysfs, cpu5 offline in the second sample, no swap
  swap       4 CPUs, swap in use (vmstat pswpin/pswpout), huge pages, an LXC
             guest (container=lxc in /proc/1/environ), Ubuntu
  odd-ifaces interface names at IFNAMSIZ's limit, with dots and dashes, a
             /proc/net/dev line whose counter touches the colon, counters
             near 2^64, older /proc/stat lines (8 columns)

Each is consistent in itself: per-CPU ticks add up to the "cpu" line, the
pid directories match "procs", meminfo's fields fit MemTotal. Then
regenerate the goldens: TAILKITD_UPDATE_GOLDEN=1 meson test metrics-golden.
"""

import os
import random
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = 10


def write(root, rel, text, mode="w"):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, mode) as f:
        f.write(text)


def stat_text(cpus, btime, ncols=FIELDS, processes=1000, offline=()):
    """cpus: {index: [ticks...]}; offline: ticks of CPUs that are offline,
    which the kernel leaves out of the per-CPU lines but keeps in the "cpu"
    line (show_stat() sums every possible CPU)."""
    total = [sum(c[i] for c in list(cpus.values()) + list(offline)) for i in range(FIELDS)]
    lines = ["cpu  " + " ".join(str(v) for v in total[:ncols])]
    for i in sorted(cpus):
        lines.append(f"cpu{i} " + " ".join(str(v) for v in cpus[i][:ncols]))
    lines += ["intr 1000 0 0", "ctxt 5000", f"btime {btime}", f"processes {processes}",
              "procs_running 2", "procs_blocked 0", "softirq 100 0 0 0 0 0 0 0 0 0 0"]
    return "\n".join(lines) + "\n"


def cpu_ticks(rng, ncpu, guest=True):
    out = {}
    for i in range(ncpu):
        t = [rng.randrange(1000, 90000), rng.randrange(0, 500), rng.randrange(500, 40000),
             rng.randrange(100000, 900000), rng.randrange(0, 3000), 0, rng.randrange(0, 2000),
             rng.randrange(0, 300), 0, 0]
        if guest and i % 8 == 7:
            t[8] = rng.randrange(0, 500)       # guest time, already counted in user
            t[0] += t[8]
        out[i] = t
    return out


def advance(rng, prev, busy_share):
    """A second sample 1 s later (100 ticks per CPU at USER_HZ 100)."""
    cur = {}
    for i, t in prev.items():
        t = list(t)
        busy = busy_share(i)
        b = round(100 * busy)
        t[0] += b * 3 // 4
        t[2] += b - b * 3 // 4
        t[3] += 100 - b
        cur[i] = t
    return cur


MEMINFO_KEYS = ["MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active", "Inactive",
                "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable", "Mlocked",
                "SwapTotal", "SwapFree", "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable",
                "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables", "NFS_Unstable", "Bounce",
                "WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed", "VmallocChunk",
                "Percpu", "HardwareCorrupted", "AnonHugePages", "ShmemHugePages", "ShmemPmdMapped",
                "FileHugePages", "FilePmdMapped", "HugePages_Total", "HugePages_Free", "HugePages_Rsvd",
                "HugePages_Surp", "Hugepagesize", "Hugetlb", "DirectMap4k", "DirectMap2M", "DirectMap1G"]


def meminfo_text(total, free, buffers, cached, sreclaimable, swap_total=0, swap_free=0, huge=(0, 0, 0, 0)):
    sunreclaim = sreclaimable // 5
    v = {k: 0 for k in MEMINFO_KEYS}
    v.update({
        "MemTotal": total, "MemFree": free, "Buffers": buffers, "Cached": cached,
        "MemAvailable": free + buffers + cached * 9 // 10 + sreclaimable // 2,
        "SwapCached": (swap_total - swap_free) // 50, "Active": (total - free) // 3, "Inactive": (total - free) // 4,
        "Active(anon)": (total - free) // 9, "Inactive(anon)": (total - free) // 11,
        "Active(file)": (total - free) // 3 - (total - free) // 9,
        "Inactive(file)": (total - free) // 4 - (total - free) // 11,
        "SwapTotal": swap_total, "SwapFree": swap_free, "Dirty": 1234, "Writeback": 8, "AnonPages": (total - free) // 5,
        "Mapped": (total - free) // 12, "Shmem": cached // 20, "KReclaimable": sreclaimable, "Slab": sreclaimable + sunreclaim,
        "SReclaimable": sreclaimable, "SUnreclaim": sunreclaim, "KernelStack": 16384, "PageTables": 40960,
        "WritebackTmp": 0, "CommitLimit": total // 2 + swap_total, "Committed_AS": (total - free) * 2,
        "VmallocTotal": 34359738367, "VmallocUsed": 150000, "Percpu": 60000, "AnonHugePages": 204800,
        "HugePages_Total": huge[0], "HugePages_Free": huge[1], "HugePages_Rsvd": huge[2], "HugePages_Surp": huge[3],
        "Hugepagesize": 2048, "Hugetlb": huge[0] * 2048, "DirectMap4k": 500000, "DirectMap2M": 30000000,
        "DirectMap1G": 100663296,
    })
    lines = []
    for k in MEMINFO_KEYS:
        if k.startswith("HugePages_"):
            lines.append(f"{k + ':':<16}{v[k]:>8}")
        else:
            lines.append(f"{k + ':':<16}{v[k]:>8} kB")
    return "\n".join(lines) + "\n"


def vmstat_text(pswpin=0, pswpout=0, pgpgin=100000, pgpgout=200000, pgfault=3000000, pgmajfault=4000):
    return (f"nr_free_pages 1000\nnr_zone_inactive_anon 10\npgpgin {pgpgin}\npgpgout {pgpgout}\n"
            f"pswpin {pswpin}\npswpout {pswpout}\npgalloc_dma 0\npgfault {pgfault}\npgmajfault {pgmajfault}\n"
            "pgrefill 0\nswap_ra 0\n")


def netdev_text(rows):
    out = ["Inter-|   Receive                                                |  Transmit",
           " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed"]
    for name, v, glued in rows:
        sep = "" if glued else " "
        out.append(f"{name:>6}:{sep}" + " ".join(f"{x:>7}" for x in v))
    return "\n".join(out) + "\n"


def pid_files(root, pid, comm, state, ppid, utime, stime, start, rss_pages, cmdline, uid=0, blkio=0):
    stat = (f"{pid} ({comm}) {state} {ppid} {pid} {pid} 0 -1 4194560 1000 0 10 0 {utime} {stime} 0 0 20 0 1 0 "
            f"{start} {rss_pages * 4096 * 3} {rss_pages} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 "
            f"{blkio} 0 0 0 0 0 0 0 0 0\n")
    full = {"R": "R (running)", "S": "S (sleeping)", "D": "D (disk sleep)", "Z": "Z (zombie)", "I": "I (idle)",
            "T": "T (stopped)"}[state]
    status = (f"Name:\t{comm}\nUmask:\t0022\nState:\t{full}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{ppid}\n"
              f"TracerPid:\t0\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n"
              f"VmRSS:\t{rss_pages * 4} kB\nThreads:\t1\n")
    write(root, f"proc/{pid}/stat", stat)
    write(root, f"proc/{pid}/status", status)
    write(root, f"proc/{pid}/cmdline", "".join(a + "\0" for a in cmdline))


def common(root, hostname, kernel, arch, boot_id, os_release, debian_version=None):
    write(root, "proc/sys/kernel/hostname", hostname + "\n")
    write(root, "proc/sys/kernel/osrelease", kernel + "\n")
    write(root, "proc/sys/kernel/arch", arch + "\n")
    write(root, "proc/sys/kernel/random/boot_id", boot_id + "\n")
    write(root, "etc/os-release", os_release)
    if debian_version:
        write(root, "etc/debian_version", debian_version + "\n")
    write(root, "proc/self/mounts",
          "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
          "/dev/nvme0n1p2 / ext4 rw,relatime 0 0\n/dev/nvme0n1p1 /boot/efi vfat rw,relatime 0 0\n"
          "/dev/mapper/data /srv/data xfs rw,noatime 0 0\nserver:/export /srv/data/nfs nfs4 rw,relatime,vers=4.2 0 0\n"
          "tmpfs /run tmpfs rw,nosuid,nodev,size=3274200k,mode=755 0 0\n")
    # path f_frsize f_blocks f_bfree f_bavail f_files f_ffree
    write(root, "statvfs",
          "/ 4096 122076160 80000000 73900000 30531584 29000000\n"
          "/srv/data 4096 2441406250 10 0 1220703125 1220000000\n"
          "/srv/data/nfs/projects 65536 16777216 8388608 8388608 0 0\n"
          "/run 4096 818550 818000 818000 1024000 1023000\n")


def cpuinfo_x86(n, model_name, vendor, family, model, stepping, mhz, cache_kb, sockets, cores_per_socket, flags):
    threads = n // (sockets * cores_per_socket)
    blocks = []
    for i in range(n):
        sock = i // (cores_per_socket * threads)
        core = (i // threads) % cores_per_socket
        blocks.append(
            f"processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\n"
            f"model name\t: {model_name}\nstepping\t: {stepping}\nmicrocode\t: 0xd0003a5\n"
            f"cpu MHz\t\t: {mhz[i % len(mhz)]}\ncache size\t: {cache_kb} KB\nphysical id\t: {sock}\n"
            f"siblings\t: {cores_per_socket * threads}\ncore id\t\t: {core}\ncpu cores\t: {cores_per_socket}\n"
            f"apicid\t\t: {i * 2}\nfpu\t\t: yes\nflags\t\t: {flags}\nbogomips\t: 4800.00\n"
            "clflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 46 bits physical, 57 bits virtual\n"
            "power management:\n")
    return "\n".join(blocks) + "\n"


def many_cpus():
    root = HERE / "many-cpus"
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(64)
    prev = cpu_ticks(rng, 64)
    cur = advance(rng, prev, lambda i: (i % 10) / 10 if i != 9 else 1.0)
    del cur[5]                                   # cpu5 went offline between the samples
    write(root, "stat.prev", stat_text(prev, 1700000000, processes=987654))
    write(root, "proc/stat", stat_text(cur, 1700000000, processes=987660, offline=[prev[5]]))
    write(root, "proc/cpuinfo", cpuinfo_x86(64, "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", "GenuineIntel", 6, 106, 6,
                                            ["2000.000", "3200.125", "800.000"], 49152, 2, 16,
                                            "fpu vme de pse tsc msr pae mce cx8 apic sep avx512f avx512dq"))
    for i in range(64):
        if i != 5:
            write(root, f"sys/devices/system/cpu/cpu{i}/cpufreq/cpuinfo_max_freq", "3200000\n")
    write(root, "proc/meminfo", meminfo_text(527939368, 401234560, 2345678, 98765432, 3456789))
    write(root, "proc/vmstat", vmstat_text())
    write(root, "proc/uptime", "864000.25 54000000.10\n")
    write(root, "proc/loadavg", "31.50 30.10 29.80 33/1204 77777\n")
    write(root, "proc/net/dev", netdev_text([
        ("lo", [1000, 10, 0, 0, 0, 0, 0, 0, 1000, 10, 0, 0, 0, 0, 0, 0], False),
        ("eno1", [987654321098, 765432109, 1, 2, 3, 0, 0, 4567, 123456789012, 98765432, 0, 5, 6, 0, 0, 0], False),
    ]))
    common(root, "compute-17", "6.1.0-18-amd64", "x86_64", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
           'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
           'VERSION="12 (bookworm)"\nID=debian\n', "12.5")
    write(root, "sys/class/dmi/id/product_uuid", "4C4C4544-0042-3910-8056-B7C04F4A4E32\n")
    for j in range(40):
        pid = 1000 + j * 37
        pid_files(root, pid, f"worker-{j}", "R" if j % 3 == 0 else "S", 1, 5000 * (j % 7), 800 * (j % 5),
                  1000 + j * 5000, 1000 + j * 313, [f"/usr/bin/worker", f"--id={j}"], uid=1000 + j % 3)
    pid_files(root, 1, "systemd", "S", 0, 30000, 20000, 2, 3000, ["/sbin/init", "splash"])


def swap():
    root = HERE / "swap"
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(4)
    prev = cpu_ticks(rng, 4)
    cur = advance(rng, prev, lambda i: [0.25, 0.5, 0.0, 1.0][i])
    write(root, "stat.prev", stat_text(prev, 1712345678))
    write(root, "proc/stat", stat_text(cur, 1712345678))
    write(root, "proc/cpuinfo", cpuinfo_x86(4, "AMD Ryzen 5 PRO 4650G with Radeon Graphics", "AuthenticAMD", 23, 96, 1,
                                            ["1397.000", "4300.250"], 512, 1, 2, "fpu vme de pse tsc sse sse2 ht"))
    write(root, "proc/meminfo", meminfo_text(8052436, 153600, 20480, 1536000, 102400, swap_total=4194300,
                                             swap_free=1048572, huge=(64, 32, 4, 0)))
    write(root, "proc/vmstat", vmstat_text(pswpin=123456, pswpout=654321, pgpgin=9876543, pgpgout=8765432,
                                           pgfault=123456789, pgmajfault=98765))
    write(root, "proc/uptime", "3600.99 10000.00\n")
    write(root, "proc/loadavg", "4.01 3.50 2.00 5/321 4321\n")
    write(root, "proc/net/dev", netdev_text([
        ("lo", [5000, 50, 0, 0, 0, 0, 0, 0, 5000, 50, 0, 0, 0, 0, 0, 0], False),
        ("eth0", [123456, 789, 0, 0, 0, 0, 0, 0, 654321, 987, 0, 0, 0, 0, 0, 0], False),
    ]))
    common(root, "lxc-swappy", "5.15.0-105-generic", "x86_64", "11111111-2222-3333-4444-555555555555",
           'NAME="Ubuntu"\nVERSION="22.04.4 LTS (Jammy Jellyfish)"\nID=ubuntu\nID_LIKE=debian\n'
           'VERSION_ID="22.04"\n', "bookworm/sid")
    write(root, "proc/1/environ", "PATH=/usr/bin\0container=lxc\0TERM=linux\0")
    pid_files(root, 1, "systemd", "S", 0, 300, 200, 10, 2500, ["/sbin/init"])
    # Equal CPU shares: ties go by pid.
    pid_files(root, 200, "memhog", "D", 1, 180000, 0, 100, 1500000, ["/usr/local/bin/memhog", "--size", "6G"])
    pid_files(root, 201, "memhog", "D", 1, 180000, 0, 100, 1400000, ["/usr/local/bin/memhog", "--size", "6G"])
    pid_files(root, 300, "kswapd0", "R", 2, 0, 90000, 50, 0, [])
    pid_files(root, 310, "defunct", "Z", 1, 10, 10, 200000, 0, [])
    pid_files(root, 320, "sleepy", "T", 1, 0, 0, 300000, 100, ["sleep", "1000"])
    pid_files(root, 2, "kthreadd", "S", 0, 0, 1, 0, 0, [])


def odd_ifaces():
    root = HERE / "odd-ifaces"
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(11)
    prev = cpu_ticks(rng, 2, guest=False)
    cur = advance(rng, prev, lambda i: 0.33)
    # Kernels before 2.6.33 print 8 columns (no guest, guest_nice).
    write(root, "stat.prev", stat_text(prev, 1600000000, ncols=8))
    write(root, "proc/stat", stat_text(cur, 1600000000, ncols=8))
    write(root, "proc/cpuinfo", cpuinfo_x86(2, "QEMU Virtual CPU version 2.5+", "GenuineIntel", 6, 6, 3,
                                            ["2199.998"], 16384, 2, 1, "fpu de pse tsc msr pae hypervisor"))
    write(root, "proc/meminfo", meminfo_text(2035464, 204800, 65536, 716800, 51200))
    write(root, "proc/vmstat", vmstat_text())
    write(root, "proc/uptime", "59.50 100.00\n")
    write(root, "proc/loadavg", "0.00 0.01 0.05 1/90 600\n")
    near = 2 ** 64 - 1
    write(root, "proc/net/dev", netdev_text([
        ("lo", [0] * 16, False),
        ("eth0", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], False),
        ("veth1a2b.100", [near, near - 1, 0, 0, 0, 0, 0, 0, near - 2, near - 3, 0, 0, 0, 0, 0, 0], False),
        ("wg-ts", [42, 1, 0, 0, 0, 0, 0, 0, 4242, 11, 0, 0, 0, 0, 0, 0], False),
        ("br-0123456789ab", [100, 1, 0, 0, 0, 0, 0, 0, 200, 2, 0, 0, 0, 0, 0, 0], False),   # 15 characters
        ("tailscale0", [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7], False),
        ("eth1", [1234567890123, 9, 0, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0, 0, 0, 0], True),          # "eth1:1234…"
        ("vlan_4094@x", [3, 3, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0], False),
    ]))
    common(root, "router.example-dc1", "4.19.0-26-amd64", "x86_64", "abcdefab-cdef-abcd-efab-cdefabcdefab",
           'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n', "10.13")
    pid_files(root, 1, "init", "S", 0, 100, 100, 1, 500, ["/sbin/init"])
    pid_files(root, 500, "wireguard-go", "S", 1, 1000, 1000, 1000, 3000, ["wireguard-go", "wg-ts"])


if __name__ == "__main__":
    many_cpus()
    swap()
    odd_ifaces()
