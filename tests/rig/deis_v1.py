"""The controller Deis shipped, built here without pulling an image.

Every Deis v1 release (v1.0 to v1.13.4) ran its controller on Python 2.7, Django 1.6 and DRF 3.0
(deis/deis controller/requirements.txt). The rig builds that: a Debian bullseye root filesystem
(the last Debian with `python2.7`) made with debootstrap from this machine's own Debian mirror
(read from its apt sources, never written down here), then pip 20.3.4 (the last for Python 2.7,
run from its wheel) installs Django 1.6.11, djangorestframework 3.0.5, django-guardian 1.2.5 and
psycopg2 inside it, offline, from files this machine's pip downloaded (its index, proxy and
certificates apply). The result is cached as one tar under ~/.cache/deisctl-rig/ (or
$DEISCTL_RIG_CACHE), named by a hash of this recipe, and `docker import`ed into the rig's engine;
the same tree, unpacked, is the root of a node that runs the controller without a container
(`--runtime none`, through chroot).

First build on a new machine: about a minute (debootstrap ~40 s of it); later sessions reuse the
tar (an import takes a few seconds).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

# Everything the image is made of; any change here makes (and caches) a new one.
RECIPE = {
    "suite": "bullseye",
    "variant": "minbase",
    "debs": ["python2.7", "python-is-python2"],
    "pip": "pip==20.3.4",
    "wheels": ["setuptools==44.1.1", "wheel==0.37.1", "six==1.16.0", "Django==1.6.11", "djangorestframework==3.0.5",
               "psycopg2-binary==2.8.6"],
    # Its setup.py needs setuptools before 58 (use_2to3) to be read, here and in the image.
    "sdists": ["django-guardian==1.2.5"],
    "layout": 2,  # bump when the way the tree is made changes
}
WHEEL_TAGS = ["--python-version", "27", "--implementation", "cp", "--abi", "cp27mu",
              "--platform", "manylinux1_x86_64"]
PRUNED = ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt/archives",
          "var/lib/apt/lists"]


def recipe_key() -> str:
    return hashlib.sha256(json.dumps(RECIPE, sort_keys=True).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    base = os.environ.get("DEISCTL_RIG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "deisctl-rig")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def image_tag() -> str:
    return f"deis-rig/controller-v1:{recipe_key()}"


def debian_mirror() -> str:
    """The Debian archive this machine's apt uses (its sources), e.g. http://deb.debian.org/debian."""
    uris = []
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.list")),
               *sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        if path.suffix == ".sources":  # deb822: "URIs: a b"
            uris += [uri for line in text.splitlines() if line.lower().startswith("uris:")
                     for uri in line.split(":", 1)[1].split()]
        else:  # one-line: "deb [options] URI suite components"
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", " ", line).split()
                if words[:1] == ["deb"] and len(words) > 1:
                    uris.append(words[1])
    archives = [uri.rstrip("/") for uri in uris if urlparse(uri).path.rstrip("/").endswith("/debian")]
    if not archives:
        raise RuntimeError("no Debian archive in /etc/apt/sources.list*: cannot debootstrap the Deis-era controller")
    return archives[0]


def _run(argv: list, log: Path, **kwargs) -> None:
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(map(str, argv)) + "\n").encode())
        out.flush()
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"building the Deis-era controller failed: {argv[0]} exited {done.returncode}\n{tail}")


def build_rootfs(root: Path, log: Path) -> None:
    """debootstrap bullseye into root, then pip 20.3.4 installs the Python packages into it."""
    if not shutil.which("debootstrap"):
        raise FileNotFoundError("debootstrap is not installed (Debian package debootstrap)")
    _run(["debootstrap", f"--variant={RECIPE['variant']}", f"--include={','.join(RECIPE['debs'])}",
          RECIPE["suite"], str(root), debian_mirror()], log, timeout=1200)
    dist = root / "tmp" / "dist"
    dist.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", str(dist)]
    _run([*pip, "--only-binary=:all:", *WHEEL_TAGS, RECIPE["pip"], *RECIPE["wheels"]], log, timeout=600)
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as build_constraints:
        build_constraints.write("setuptools<58\n")
        build_constraints.flush()
        _run([*pip, "--no-binary=:all:", *RECIPE["sdists"]], log, timeout=600,
             env=dict(os.environ, PIP_CONSTRAINT=build_constraints.name))
    wheel = next(dist.glob("pip-*.whl")).name
    clean_env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root", "LANG": "C.UTF-8"}
    install = ["chroot", str(root), "python2.7", f"/tmp/dist/{wheel}/pip", "install", "--no-index",
               "--find-links", "/tmp/dist", "--no-cache-dir", "--disable-pip-version-check", "--no-warn-script-location"]
    names = [spec.split("==")[0] for spec in RECIPE["wheels"]]
    _run([*install, *names[:2]], log, env=clean_env, timeout=600)  # setuptools and wheel build the sdists
    _run([*install, *names[2:], *[spec.split("==")[0] for spec in RECIPE["sdists"]]], log, env=clean_env,
         timeout=600)
    shutil.rmtree(dist)
    for name in PRUNED:
        target = root / name
        if target.is_dir():
            shutil.rmtree(target)
            target.mkdir()
    for name in ("app", "controller_app", "var/run/postgresql"):
        (root / name).mkdir(parents=True, exist_ok=True)


def rootfs_tar() -> Path:
    """The cached tar of the root filesystem, built first if missing (one builder at a time)."""
    cache = cache_dir()
    tar = cache / f"controller-v1-{recipe_key()}.tar"
    if tar.exists():
        return tar
    with open(cache / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tar.exists():
            return tar
        work = Path(tempfile.mkdtemp(prefix="deis-v1-build-", dir=cache))
        log = cache / f"controller-v1-{recipe_key()}.log"
        log.write_text(f"building {image_tag()} ({time.strftime('%Y-%m-%d %H:%M:%S')})\n")
        started = time.monotonic()
        try:
            build_rootfs(work / "root", log)
            partial = work / "rootfs.tar"
            _run(["tar", "--numeric-owner", "-C", str(work / "root"), "-cf", str(partial), "."], log)
            os.replace(partial, tar)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with open(log, "a") as out:
            out.write(f"built in {time.monotonic() - started:.0f} s\n")
    return tar


def import_image(engine) -> str:
    """The image in this engine (docker import of the cached tar); its tag."""
    tag = image_tag()
    if engine.docker("image", "inspect", tag, check=False).returncode != 0:
        engine.docker("import", "--change", "WORKDIR /app", "--change", "ENV LANG=C.UTF-8", str(rootfs_tar()), tag,
                      timeout=600)
    return tag


@contextlib.contextmanager
def unpacked_root():
    """The tree unpacked into a temp dir, for a node that runs the controller without a container."""
    root = Path(tempfile.mkdtemp(prefix="deis-v1-node-", dir="/tmp"))
    try:
        subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-xf", str(rootfs_tar())], check=True,
                       capture_output=True, timeout=600)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
