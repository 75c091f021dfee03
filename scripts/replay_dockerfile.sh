#!/usr/bin/env bash
# Replays the Dockerfile's install steps without a Docker engine, then runs the connector through
# its ENTRYPOINT as the platform would:
#
#   * parses the Dockerfile (one stage; FROM, or the default of the ARG it names, pinned by digest; exec-form ENTRYPOINT equal to
#     AIRBYTE_ENTRYPOINT; a non-root USER) - any instruction it cannot replay faithfully fails;
#   * creates a fresh venv with the base image's Python version (3.11 for python-connector-base 4.0.x)
#     standing in for the image's /usr/local, maps container paths into a temp "rootfs", performs
#     each COPY (honouring .dockerignore) and RUN (only pip/python -m pip and file commands confined
#     to the rootfs or the image's site-packages, i.e. the venv's; anything else fails) in order;
#   * runs `<ENTRYPOINT> spec` in an empty folder with a clean HOME and validates every stdout line
#     with the installed airbyte-cdk's AirbyteMessageSerializer (exactly one SPEC), then `check` on a
#     Milvus Lite file with the offline local model (must be SUCCEEDED).
#
# RUN --mount flags are dropped: the only one, the proxy CA secret, is the host's own CA bundle here.
# One deliberate difference: `--no-cache-dir` is dropped from pip commands, so the replay reuses the
# pip cache (same packages, fetched faster); pass --keep-cache-flags to keep it.
#
# Usage: scripts/replay_dockerfile.sh [--dockerfile PATH] [--context DIR] [--python PYTHON]
#                                     [--keep] [--keep-cache-flags] [--no-check]
set -euo pipefail
cd "$(dirname "$0")/.."
REPLAYER_PYTHON=${REPLAYER_PYTHON:-python3}
exec "$REPLAYER_PYTHON" - "$@" <<'PY'
import argparse
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ALLOWED_RUN = {"pip", "pip3", "python", "python3", "rm", "mkdir", "cp", "mv", "ln", "chmod", "true", "echo", "test"}
FILE_COMMANDS = {"rm", "mkdir", "cp", "mv", "ln", "chmod"}
BASE_PYTHON = {"docker.io/airbyte/python-connector-base:4.0": "3.11", "airbyte/python-connector-base:4.0": "3.11"}


class ReplayError(Exception):
    pass


def log(message: str) -> None:
    print(f"replay: {message}", flush=True)


# --- parsing --------------------------------------------------------------------------------------

def instructions(text: str):
    """(line number, INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    out, buf, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue
        if not buf:
            start = number
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.partition(" ")
        if "<<" in rest and word.upper() in ("RUN", "COPY"):
            raise ReplayError(f"line {start}: heredocs are not replayed")
        out.append((start, word.upper(), rest.strip()))
        buf = ""
    if buf:
        raise ReplayError("the Dockerfile ends inside a line continuation")
    return out


def parse_env(rest: str) -> dict:
    parts = shlex.split(rest)
    if parts and "=" not in parts[0]:  # legacy `ENV KEY value with spaces`
        return {parts[0]: " ".join(parts[1:])}
    return dict(p.split("=", 1) for p in parts)


def _pattern(pattern: str):
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex over context-relative paths."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "$")


def dockerignore(context: Path):
    """`ignored(rel)`: whether .dockerignore excludes the path (or a folder it is in)."""
    rules = []
    path = context / ".dockerignore"
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                negate = line.startswith("!")
                rules.append((negate, _pattern(os.path.normpath(line.lstrip("!").lstrip("/")))))

    def ignored(rel: str) -> bool:
        parts = rel.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        hit = False
        for negate, regex in rules:
            if any(regex.match(p) for p in prefixes):
                hit = not negate
        return hit

    return ignored


# --- the replay -----------------------------------------------------------------------------------

class Replay:
    def __init__(self, args):
        self.args = args
        self.context = Path(args.context).resolve()
        self.dockerfile = Path(args.dockerfile).resolve()
        self.tmp = Path(tempfile.mkdtemp(prefix="dockerfile-replay-"))
        self.rootfs = self.tmp / "rootfs"
        self.venv = self.tmp / "venv"
        self.workdir = "/"
        self.env: dict = {}
        self.user = None
        self.entrypoint = None
        self.base = None
        self.mapped: set = set()
        self.ignored = dockerignore(self.context)

    def host(self, container_path: str) -> Path:
        path = container_path if container_path.startswith("/") else os.path.join(self.workdir, container_path)
        path = os.path.normpath(path)
        return self.rootfs / path.lstrip("/")

    def map_paths(self, text: str) -> str:
        # the image's site-packages (/usr/local/lib/python3.X/{site,dist}-packages) is the venv's
        site = str(next((self.venv / "lib").glob("python3*/site-packages"), self.venv / "lib/site-packages"))
        text = re.sub(r"/usr/local/lib/python3[^/\s]*/[^/\s]*-packages(?=$|[/\s])", lambda _: site, text)
        for prefix in sorted(self.mapped, key=len, reverse=True):
            text = re.sub(rf"(?<![\w/.-]){re.escape(prefix)}(?=$|[/\s\"'])", str(self.host(prefix)), text)
        return text

    def python_version(self) -> str:
        for prefix, version in BASE_PYTHON.items():
            if self.base.startswith(prefix):
                return version
        return ""

    def run(self) -> None:
        steps = instructions(self.dockerfile.read_text())
        self.validate(steps)
        python = self.args.python or (f"python{self.python_version()}" if self.python_version() and
                                      shutil.which(f"python{self.python_version()}") else "python3")
        version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        if self.python_version() and version != self.python_version():
            log(f"WARNING: the base image has Python {self.python_version()}, replaying with {version}")
        log(f"fresh venv with {python} (Python {version}) in {self.venv}")
        subprocess.run([python, "-m", "venv", str(self.venv)], check=True)
        self.rootfs.mkdir(parents=True)
        for number, word, rest in steps:
            getattr(self, f"do_{word.lower()}")(number, rest)
        self.run_entrypoint()

    def validate(self, steps) -> None:
        froms = [rest for _, word, rest in steps if word == "FROM"]
        if len(froms) != 1:
            raise ReplayError(f"exactly one FROM expected (multi-stage builds are not replayed), found {len(froms)}")
        args = {}  # ARGs declared before FROM, with their defaults (what `docker build` uses without --build-arg)
        for _, word, rest in steps:
            if word == "FROM":
                break
            if word == "ARG":
                name, _, default = rest.partition("=")
                args[name.strip()] = default.strip().strip('"')
        self.base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), ""),
                           froms[0].split()[0])
        if not self.base:
            raise ReplayError(f"FROM {froms[0]}: the ARG it names has no default")
        if not re.search(r"@sha256:[0-9a-f]{64}$", self.base):
            raise ReplayError(f"FROM {self.base} is not pinned by digest (@sha256:<64 hex>)")
        users = [rest for _, word, rest in steps if word == "USER"]
        if not users or users[-1].split(":")[0] in ("root", "0"):
            raise ReplayError("the image must end with a non-root USER")
        entry = [rest for _, word, rest in steps if word == "ENTRYPOINT"]
        if not entry:
            raise ReplayError("no ENTRYPOINT")
        try:
            entrypoint = json.loads(entry[-1])
        except json.JSONDecodeError:
            raise ReplayError("ENTRYPOINT must be in exec form, e.g. [\"python\", \"/airbyte/integration_code/main.py\"]")
        env = {}
        for _, word, rest in steps:
            if word == "ENV":
                env.update(parse_env(rest))
        if env.get("AIRBYTE_ENTRYPOINT") != " ".join(entrypoint):
            raise ReplayError(f"ENV AIRBYTE_ENTRYPOINT={env.get('AIRBYTE_ENTRYPOINT')!r} differs from "
                              f"ENTRYPOINT {' '.join(entrypoint)!r}")
        for number, word, rest in steps:  # everything checkable up front fails before any install
            if not hasattr(self, f"do_{word.lower()}"):
                raise ReplayError(f"line {number}: {word} is not replayed here")
            if word == "COPY":
                self.copy_sources(number, rest)
            if word == "RUN":
                self.check_run(number, rest)

    # --- instructions ----------------------------------------------------------------------------

    def do_from(self, number, rest):
        log(f"FROM {self.base} (stood in for by the venv)")

    def do_workdir(self, number, rest):
        self.workdir = os.path.normpath(os.path.join(self.workdir, rest))
        self.mapped.add(self.workdir)
        self.host(self.workdir).mkdir(parents=True, exist_ok=True)
        log(f"WORKDIR {self.workdir}")

    def copy_sources(self, number, rest):
        """(sources in the context, container destination) of a COPY; fails on what Docker would."""
        parts = shlex.split(rest)
        flags = [p for p in parts if p.startswith("--")]
        if any(f.startswith("--from") for f in flags):
            raise ReplayError(f"line {number}: COPY --from (multi-stage) is not replayed")
        paths = [p for p in parts if not p.startswith("--")]
        if len(paths) < 2:
            raise ReplayError(f"line {number}: COPY needs a source and a destination")
        sources: list = []
        for source in paths[:-1]:
            matches = sorted(glob.glob(str(self.context / source)))
            if not matches:
                raise ReplayError(f"line {number}: COPY source {source!r} does not exist in the context")
            for match in matches:
                src = Path(match)
                rel = src.relative_to(self.context).as_posix()
                if rel != "." and self.ignored(rel):
                    raise ReplayError(f"line {number}: COPY source {rel!r} is excluded by .dockerignore")
                sources.append(src)
        return sources, paths[-1], len(paths) > 2

    @staticmethod
    def strip_mounts(rest: str) -> str:
        """RUN --mount=... flags dropped: a secret mount (the proxy CA) is the host's own file here."""
        while rest.startswith("--mount="):
            rest = rest.split(None, 1)[1] if " " in rest else ""
        return rest

    def check_run(self, number, rest):
        rest = self.strip_mounts(rest)
        command = shlex.join(json.loads(rest)) if rest.startswith("[") else rest
        for segment in re.split(r"&&|\|\||;", command):
            words = shlex.split(segment)
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", words[0]):
                words = words[1:]  # `VAR=value command`: the command is what is checked
            if not words:
                continue
            if words[0] not in ALLOWED_RUN:
                raise ReplayError(f"line {number}: RUN `{words[0]}` cannot be replayed outside Docker "
                                  f"(replayable: {', '.join(sorted(ALLOWED_RUN))})")
            if words[0] in ("python", "python3") and words[1:3] != ["-m", "pip"]:
                raise ReplayError(f"line {number}: only `python -m pip` is replayed, not {segment.strip()!r}")
        return command

    def do_copy(self, number, rest):
        sources, dest, several = self.copy_sources(number, rest)
        target = self.host(dest)
        many = several or dest.endswith("/")
        for src in sources:
            if src.is_dir():
                self._copy_tree(src, target)
            else:
                dst = target / src.name if (many or target.is_dir()) else target
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
        container_dest = os.path.normpath(dest if dest.startswith("/") else os.path.join(self.workdir, dest))
        self.mapped.add(container_dest)
        log(f"COPY {' '.join(p.relative_to(self.context).as_posix() for p in sources)} -> {container_dest}")

    def _copy_tree(self, src: Path, target: Path) -> None:
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(self.context).as_posix()
            if self.ignored(rel):
                continue
            dst = target / path.relative_to(src)
            if path.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dst)

    def do_run(self, number, rest):
        command = self.check_run(number, rest)
        if not self.args.keep_cache_flags:
            command = re.sub(r"\s--no-cache-dir\b", "", command)
        command = self.map_paths(command)
        for segment in re.split(r"&&|\|\||;", command):
            words = shlex.split(segment)
            if words and words[0] in FILE_COMMANDS:
                for word in words[1:]:
                    if word.startswith("/") and not word.startswith((str(self.rootfs), str(self.venv))):
                        raise ReplayError(f"line {number}: `{words[0]}` on {word}, outside the replayed rootfs")
        log(f"RUN {command}")
        env = self.step_env()
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=self.host(self.workdir), env=env)
        if result.returncode != 0:
            raise ReplayError(f"line {number}: RUN failed with exit code {result.returncode}: {rest}")

    def do_env(self, number, rest):
        self.env.update(parse_env(rest))
        log(f"ENV {rest}")

    def do_user(self, number, rest):
        self.user = rest
        log(f"USER {rest} (the replay runs as the current user)")

    def do_entrypoint(self, number, rest):
        self.entrypoint = json.loads(rest)

    def do_label(self, number, rest):
        pass

    def do_arg(self, number, rest):
        pass  # resolved in validate(); only the ARGs FROM uses are supported

    def do_cmd(self, number, rest):
        pass

    def do_expose(self, number, rest):
        pass

    def step_env(self, home: Path | None = None) -> dict:
        path = f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update({"PATH": path, "VIRTUAL_ENV": str(self.venv), "PYTHONNOUSERSITE": "1", "PIP_NO_INPUT": "1",
                    "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
        env.update(self.env)
        if home is not None:
            env["HOME"] = str(home)
        return env

    # --- running the image ---------------------------------------------------------------------

    def run_entrypoint(self) -> None:
        entry = [self.map_paths(part) for part in self.entrypoint]
        for part in entry[1:]:
            if part.startswith(str(self.rootfs)) and not Path(part).exists():
                raise ReplayError(f"ENTRYPOINT file {part} was not created by the replayed steps")
        run_dir, home = self.tmp / "run", self.tmp / "home"
        run_dir.mkdir()
        home.mkdir()
        env = self.step_env(home)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}/usr/local/bin:/usr/bin:/bin"
        env.pop("VIRTUAL_ENV", None)

        log(f"ENTRYPOINT {' '.join(self.entrypoint)} spec")
        spec = subprocess.run(entry + ["spec"], cwd=run_dir, env=env, capture_output=True, text=True, timeout=300)
        self.validate_output("spec", spec, expect="SPEC")

        if self.args.no_check:
            return
        config = {"processing": {"chunk_size": 500, "text_fields": ["body", "title", "description", "subject"]},
                  "embedding": {"mode": "local"},
                  "indexing": {"host": str(run_dir / "replay.db"), "collection": "zendesk", "create_collection": True}}
        (run_dir / "config.json").write_text(json.dumps(config))
        log(f"ENTRYPOINT {' '.join(self.entrypoint)} check --config config.json  (Milvus Lite, local model)")
        check = subprocess.run(entry + ["check", "--config", "config.json"], cwd=run_dir, env=env,
                               capture_output=True, text=True, timeout=300)
        self.validate_output("check", check, expect="CONNECTION_STATUS")

    def validate_output(self, command: str, result, expect: str) -> None:
        if result.returncode != 0:
            raise ReplayError(f"`{command}` exited with {result.returncode}\nstdout: {result.stdout[-3000:]}\n"
                              f"stderr: {result.stderr[-3000:]}")
        out_file = self.tmp / f"{command}.stdout"
        out_file.write_text(result.stdout)
        validator = (
            "import json, sys\n"
            "from airbyte_cdk.models import AirbyteMessageSerializer, Status, Type\n"
            "kinds = []\n"
            "for n, line in enumerate(open(sys.argv[1], encoding='utf-8'), 1):\n"
            "    m = AirbyteMessageSerializer.load(json.loads(line))\n"
            "    kinds.append(m.type.value)\n"
            "    if m.type == Type.SPEC:\n"
            "        props = m.spec.connectionSpecification.get('properties')\n"
            "        assert isinstance(props, dict) and {'embedding', 'indexing'} <= set(props), 'spec lacks fields'\n"
            "    if m.type == Type.CONNECTION_STATUS:\n"
            "        assert m.connectionStatus.status == Status.SUCCEEDED, m.connectionStatus.message\n"
            "assert kinds.count(sys.argv[2]) == 1, f'expected one {sys.argv[2]} message, got {kinds}'\n"
            "print(', '.join(kinds))\n"
        )
        checked = subprocess.run([str(self.venv / "bin" / "python"), "-c", validator, str(out_file), expect],
                                 capture_output=True, text=True, env=self.step_env(self.tmp / "home"))
        if checked.returncode != 0:
            raise ReplayError(f"`{command}` did not print valid Airbyte protocol:\n{checked.stderr[-3000:]}\n"
                              f"stdout was:\n{result.stdout[-2000:]}")
        if result.stderr.strip():
            raise ReplayError(f"`{command}` wrote outside the protocol (stderr):\n{result.stderr[-2000:]}")
        log(f"OK `{command}`: {checked.stdout.strip()} (every stdout line an Airbyte message)")


def main() -> int:
    parser = argparse.ArgumentParser(prog="replay_dockerfile.sh")
    parser.add_argument("--dockerfile", default="Dockerfile")
    parser.add_argument("--context", default=".")
    parser.add_argument("--python", help="interpreter for the venv (default: the base image's version)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--keep-cache-flags", action="store_true", help="do not drop pip's --no-cache-dir")
    parser.add_argument("--no-check", action="store_true", help="run only `spec`")
    args = parser.parse_args()
    replay = Replay(args)
    try:
        replay.run()
    except ReplayError as exc:
        print(f"replay: FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if args.keep:
            log(f"kept {replay.tmp}")
        else:
            shutil.rmtree(replay.tmp, ignore_errors=True)
    log("Dockerfile replayed: install steps and ENTRYPOINT work")
    return 0


sys.exit(main())
PY
