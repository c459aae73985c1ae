"""Upload speed and memory of the six platform clients, against plain `curl --upload-file` to the same server.

Issue 3's goal: every client reaches at least 80 % of curl's throughput, and its memory stays flat in the
file's size. For each platform, per run:
  - its sandbox starts in a child process of its own (so the client's RSS and CPU are the client's alone),
    with the sandbox's size limits raised where it has a knob (X max_video_bytes, LinkedIn max_file_bytes);
  - (a) `curl --upload-file <video> <sandbox>/__sink`: a raw PUT into the same HTTP server, stored and hashed
    like every sandbox upload; the ceiling of this server on this machine;
  - (b) the real client, in a fresh child process, publishing the same file end to end through the
    platform's documented protocol (`client.publish(post, journal)`, a real LedgerJournal on SQLite,
    processing polled with no pause), timed around publish(); its peak RSS is that process's ru_maxrss.
Both uploads are verified: the sandbox's stored sha256 and size equal the file's. The client is run once
more on a small file: the same peak RSS there shows memory does not grow with the file.

The video is one real 10 s 1080x1920 H.264/AAC MP4 from ffmpeg, padded to the target size with an MP4
`free` box at the end (still a valid MP4, checked with probe()). Where the client's own size limit is below
the file's size, check() is skipped so the transfer itself is measured; the table says so.
Server CPU is the sandbox process's CPU seconds during the transfer: near the wall time it means the
(Python) sandbox is the bottleneck, not the client. "File-less calls" is the time the sandbox spent
answering requests that carry no part of the file (initialize, finalize, status): work the client can only
wait for, e.g. the X and LinkedIn sandboxes join or re-hash the whole file inside finalize; "client MB/s
without it" leaves that time out. The machine's load average is printed: other jobs on its 2 cores make
single runs vary. Linux only (peak RSS from /proc/self).

    python benchmarks/bench_upload.py [--size-mb 1024] [--small-mb 50] [--runs 3] [--platforms youtube,x]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pellacia_assets.rendering.probe import probe
from pellacia_assets.stories.loading import SourceRecord
from resources.database.engine import open_database, transaction
from resources.database.ledger import LedgerTarget, open_entry
from resources.database.stories import save_source
from resources.platforms import PLATFORMS, platform_named
from resources.platforms.base import PlatformClient, VideoPost, sha256_of
from resources.platforms.clients import CLIENT_CLASSES
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import EnvironmentOnlyStore
from resources.platforms.video_limits import MB, VIDEO_LIMITS, video_problems

if TYPE_CHECKING:
    from sandbox.common import Request
    from sandbox.facebook import FacebookSandbox
    from sandbox.instagram import InstagramSandbox
    from sandbox.linkedin import LinkedInSandbox
    from sandbox.tiktok import TikTokSandbox
    from sandbox.x import XSandbox
    from sandbox.youtube import YouTubeSandbox

    PlatformSandbox = (
        YouTubeSandbox | TikTokSandbox | InstagramSandbox | FacebookSandbox | XSandbox | LinkedInSandbox
    )

MIB = 1024 * 1024
FREE_BOX_HEADER = 8
FREE_BOX_LARGE_HEADER = 16
RAISED_SANDBOX_LIMIT = 1 << 40
CONTROL_BODY_BYTES = 64 * 1024  # a request with less body than this carries no part of the file
STORY_KEY = "bench-upload"
TITLE = "Upload benchmark"
DESCRIPTION = "A padded test video, uploaded to measure the client. #shorts"


# --- the video -------------------------------------------------------------------------------------------


def make_base_video(path: Path) -> None:
    """10 s of real 1080x1920 30 fps H.264 + AAC, moov first: a video every platform accepts."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=1080x1920:r=30",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "10", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip


def pad_video(base: Path, target: Path, size_bytes: int) -> None:
    """Copy `base` and append one MP4 `free` box so the file is exactly `size_bytes`.

    Players and ffprobe skip `free` boxes. Each MiB of filler starts with its own index, so an upload
    that reorders or repeats blocks cannot hash like the file.
    """
    pad = size_bytes - base.stat().st_size
    large = pad >= 1 << 32
    header_size = FREE_BOX_LARGE_HEADER if large else FREE_BOX_HEADER
    if pad < header_size:
        raise SystemExit(f"{size_bytes} bytes is smaller than the base video plus a free box")
    header = (
        (1).to_bytes(4, "big") + b"free" + pad.to_bytes(8, "big")
        if large
        else pad.to_bytes(4, "big") + b"free"
    )
    filler = os.urandom(MIB)
    with target.open("wb") as out:
        out.write(base.read_bytes())
        out.write(header)
        remaining, index = pad - header_size, 0
        while remaining > 0:
            block = (index.to_bytes(8, "big") + filler[8:])[:remaining]
            out.write(block)
            remaining -= len(block)
            index += 1


@dataclass(frozen=True)
class Video:
    path: Path
    size: int
    sha256: str


def prepare_video(base: Path, target: Path, size_bytes: int) -> Video:
    pad_video(base, target, size_bytes)
    info = probe(target)
    if info.width != 1080 or info.height != 1920 or not 9.5 <= info.duration_s <= 10.5:
        raise SystemExit(f"the padded video does not probe as the base video: {info}")
    return Video(target, size_bytes, sha256_of(target))


# --- the sandbox, in its own process ---------------------------------------------------------------------


def build_sandbox(platform: str, data_dir: Path) -> PlatformSandbox:
    """The platform's sandbox as sandbox/platforms.py builds it, with its size limits raised where it can.

    Imported here, in the sandbox's process only, so the client's process never loads the sandboxes.
    """
    from sandbox.facebook import FacebookSandbox
    from sandbox.instagram import InstagramSandbox
    from sandbox.linkedin import LinkedInSandbox
    from sandbox.platforms import ACCOUNT_IDS, CLIENT_ID, CLIENT_SECRET
    from sandbox.tiktok import TikTokSandbox
    from sandbox.x import XSandbox
    from sandbox.youtube import YouTubeSandbox

    secret = CLIENT_SECRET
    if platform == "youtube":
        return YouTubeSandbox(data_dir, client_id=CLIENT_ID, client_secret=secret, processing_polls=1)
    if platform == "tiktok":
        return TikTokSandbox(data_dir, client_key=CLIENT_ID, client_secret=secret, processing_polls=1)
    if platform == "instagram":
        user = ACCOUNT_IDS["instagram"][1]
        return InstagramSandbox(
            data_dir, user_id=user, client_id=CLIENT_ID, client_secret=secret, processing_polls=1
        )
    if platform == "facebook":
        page = ACCOUNT_IDS["facebook"][1]
        return FacebookSandbox(
            data_dir, page_id=page, client_id=CLIENT_ID, client_secret=secret, processing_polls=1
        )
    if platform == "x":
        return XSandbox(
            data_dir, client_id=CLIENT_ID, client_secret=secret, processing_polls=1, check_after_secs=0,
            max_video_bytes=None,
        )  # fmt: skip
    if platform == "linkedin":
        author = ACCOUNT_IDS["linkedin"][1]
        return LinkedInSandbox(
            data_dir, author=author, client_id=CLIENT_ID, client_secret=secret, processing_polls=1,
            max_file_bytes=RAISED_SANDBOX_LIMIT,
        )  # fmt: skip
    raise ValueError(f"unknown platform {platform!r}")


def sandbox_environment(platform: str, server: PlatformSandbox) -> dict[str, str]:
    """PELLACIA_<P>_* for one platform, as sandbox.platforms.environment() writes them for all six."""
    from sandbox.platforms import platform_environment

    return platform_environment(platform, server)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class HandlerClock:
    """Observes a sandbox's requests (SandboxServer.observe) to time the calls that carry no file
    (initialize, finalize, status...).

    That is the sandbox's own work between transfers, which the client waits for: the X and LinkedIn
    sandboxes join or re-hash the whole file inside finalize, where the real platforms answer first.
    """

    def __init__(self) -> None:
        self.control_s = 0.0
        self.slowest = (0.0, "-")

    def __call__(self, request: Request, elapsed: float) -> None:
        if (request.content_length or 0) < CONTROL_BODY_BYTES:
            self.control_s += elapsed
            self.slowest = max(self.slowest, (elapsed, f"{request.method} {request.path}"))


def serve_sandbox(platform: str, data_dir: str, connection: Connection) -> None:
    """Child process: serve the sandbox on 127.0.0.1 and answer 'usage' / 'posts' until 'stop'."""
    from sandbox.common import running

    server = build_sandbox(platform, Path(data_dir))
    clock = HandlerClock()
    server.observe(clock)
    with running(server):
        connection.send(sandbox_environment(platform, server))
        while (command := connection.recv()) != "stop":
            if command == "usage":
                connection.send(SandboxUsage(cpu_seconds(), clock.control_s, *clock.slowest))
                clock.slowest = (0.0, "-")
            elif command == "posts":
                connection.send([{"sha256": p["sha256"], "size": int(p["size"])} for p in server.posts])
            else:
                raise ValueError(f"unknown command {command!r}")


@dataclass(frozen=True)
class SandboxUsage:
    """The sandbox process's CPU seconds and time in file-less calls so far; the slowest since last asked."""

    cpu_s: float
    control_s: float
    slowest_s: float
    slowest_call: str


@dataclass
class Sandbox:
    """The parent's handle on a sandbox process."""

    connection: Connection
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return next(value for name, value in self.env.items() if name.endswith("_API_URL"))

    def ask(self, command: str) -> Any:
        self.connection.send(command)
        return self.connection.recv()

    def usage(self) -> SandboxUsage:
        usage: SandboxUsage = self.ask("usage")
        return usage


@contextmanager
def sandbox_process(platform: str, data_dir: Path) -> Iterator[Sandbox]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=serve_sandbox, args=(platform, str(data_dir), theirs), daemon=True)
    process.start()
    theirs.close()  # only the child holds its end now: if the child dies, recv() fails instead of waiting
    try:
        try:
            env = ours.recv()
        except EOFError:
            raise SystemExit(f"the {platform} sandbox process died (its traceback is above)") from None
        yield Sandbox(ours, env)
        ours.send("stop")
        process.join(30)
    finally:
        if process.is_alive():
            process.terminate()
            process.join()
        shutil.rmtree(data_dir, ignore_errors=True)


# --- the two uploads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """One upload; the client's CPU and memory figures stay 0 for curl."""

    wall_s: float
    server_cpu_s: float = 0.0
    server_control_s: float = 0.0  # the sandbox's time in file-less calls (finalize, status...)
    slowest_control: str = "-"
    client_cpu_s: float = 0.0
    rss_peak_kib: int = 0  # the whole client process: imports, database, publish
    rss_at_publish_kib: int = 0  # resident when publish() began
    rss_publish_peak_kib: int = 0  # the most resident during publish()


def curl_upload(sandbox: Sandbox, video: Video, body: Path) -> Transfer:
    """`curl --upload-file` to the raw sink; curl's own time_total, like the client's time around publish."""
    os.sync()
    before = sandbox.usage()
    result = subprocess.run(
        ["curl", "--silent", "--show-error", "--fail", "--upload-file", str(video.path),
         "--output", str(body), "--write-out", "%{time_total}", f"{sandbox.base_url}/__sink"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    after = sandbox.usage()
    stored = json.loads(body.read_text())
    if (stored["bytes"], stored["sha256"]) != (video.size, video.sha256):
        raise SystemExit(f"curl: the sink stored {stored}, not {video.size} bytes {video.sha256}")
    return with_server_usage(Transfer(float(result.stdout)), before, after)


def _skip_check(post: VideoPost) -> None:
    """Stands in for check() when the file is over the client's own size limit (nothing else is skipped)."""


def resident_kib(name: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in KiB, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {name}")


def publish_in_child(
    platform: str, env: dict[str, str], video: Video, work_dir: str, over_limit: bool
) -> Transfer:
    """Runs in a fresh process: the real client publishes `video`; wall and CPU around publish(), RSS.

    Before publish() the peak RSS is reset (Linux clear_refs 5), so the peak during publish() is told
    apart from the peak of importing the client and migrating the ledger database.
    """
    os.environ.update(env)
    settings = PlatformSettings.from_env(platform)
    client: PlatformClient = CLIENT_CLASSES[platform_named(platform)](
        settings, EnvironmentOnlyStore(), poll_interval_s=0.0
    )
    factory = open_database(f"sqlite:///{work_dir}/ledger.db")
    with transaction(factory) as session:
        save_source(session, SourceRecord(STORY_KEY, "benchmark", "bench_upload", TITLE, DESCRIPTION))
    target = LedgerTarget(STORY_KEY, 1, platform, settings.account, video.sha256)
    journal = open_entry(factory, target, allow_duplicate=True)
    post = VideoPost(video.path, TITLE, DESCRIPTION)
    if over_limit:
        client.check = _skip_check  # type: ignore[method-assign]  # YouTube, LinkedIn: inside publish()
    else:
        client.check(post)
    setup_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    Path("/proc/self/clear_refs").write_text("5")
    at_publish = resident_kib("VmRSS")
    cpu = cpu_seconds()
    started = time.perf_counter()
    published = client.publish(post, journal)
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    publish_peak = resident_kib("VmHWM")
    journal.mark_published(published.post_id, published.url)
    return Transfer(
        wall,
        client_cpu_s=cpu,
        rss_peak_kib=max(setup_peak, publish_peak),
        rss_at_publish_kib=at_publish,
        rss_publish_peak_kib=publish_peak,
    )


def client_upload(platform: str, sandbox: Sandbox, video: Video, work_dir: Path) -> Transfer:
    work_dir.mkdir(parents=True, exist_ok=True)
    os.sync()
    before = sandbox.usage()
    over_limit = video.size > VIDEO_LIMITS[platform].max_bytes
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        run: Transfer = pool.apply(
            publish_in_child, (platform, sandbox.env, video, str(work_dir), over_limit)
        )
    after = sandbox.usage()
    shutil.rmtree(work_dir, ignore_errors=True)
    stored = sandbox.ask("posts")
    if stored != [{"sha256": video.sha256, "size": video.size}]:
        raise SystemExit(f"{platform}: the sandbox holds {stored}, not one post of {video.size} bytes")
    return with_server_usage(run, before, after)


def with_server_usage(transfer: Transfer, before: SandboxUsage, after: SandboxUsage) -> Transfer:
    return dataclasses.replace(
        transfer,
        server_cpu_s=after.cpu_s - before.cpu_s,
        server_control_s=after.control_s - before.control_s,
        slowest_control=f"{after.slowest_call} {after.slowest_s:.2f} s",
    )


# --- the report ------------------------------------------------------------------------------------------


@dataclass
class PlatformResult:
    platform: str
    curl: list[Transfer] = field(default_factory=list)
    client: list[Transfer] = field(default_factory=list)
    small: Transfer | None = None
    notes: list[str] = field(default_factory=list)

    def median_mb_s(self, transfers: list[Transfer], size: int) -> float:
        return size / MB / statistics.median(t.wall_s for t in transfers)


def limit_notes(platform: str, video: Video) -> list[str]:
    """What the benchmark had to bypass: the client's size limit, and (for the record) what check() says."""
    notes = []
    limits = VIDEO_LIMITS[platform]
    if video.size > limits.max_bytes:
        problems = video_problems(platform, probe(video.path), video.size)
        notes.append(f"check() bypassed (client limit {limits.max_bytes / MB:.0f} MB: {'; '.join(problems)})")
    if platform == "x":
        notes.append("sandbox max_video_bytes=None (512 MiB default), check_after_secs=0")
    if platform == "linkedin":
        notes.append("sandbox max_file_bytes raised (500 MB default)")
    return notes


def benchmark_platform(platform: str, video: Video, small: Video, runs: int, folder: Path) -> PlatformResult:
    result = PlatformResult(platform, notes=limit_notes(platform, video))
    for run in range(runs):
        with sandbox_process(platform, folder / f"{platform}-sandbox-{run}") as sandbox:
            curl = curl_upload(sandbox, video, folder / "sink.json")
            (folder / f"{platform}-sandbox-{run}" / "sink.bin").unlink()
            client = client_upload(platform, sandbox, video, folder / f"{platform}-client-{run}")
        result.curl.append(curl)
        result.client.append(client)
        print(
            f"  {platform} run {run + 1}: curl {video.size / MB / curl.wall_s:.0f} MB/s "
            f"(server CPU {curl.server_cpu_s:.1f} s of {curl.wall_s:.1f} s), client "
            f"{video.size / MB / client.wall_s:.0f} MB/s in {client.wall_s:.1f} s (client CPU "
            f"{client.client_cpu_s:.1f} s, server CPU {client.server_cpu_s:.1f} s, of which "
            f"{client.server_control_s:.2f} s in file-less calls, slowest {client.slowest_control}), "
            f"peak RSS {client.rss_peak_kib / 1024:.0f} MiB",
            flush=True,
        )
    with sandbox_process(platform, folder / f"{platform}-sandbox-small") as sandbox:
        result.small = client_upload(platform, sandbox, small, folder / f"{platform}-client-small")
    return result


def print_tables(results: list[PlatformResult], video: Video, small: Video) -> None:
    size = f"{video.size / MIB:.0f} MiB"
    print(
        f"| platform | file size | curl MB/s | client MB/s | client/curl | client peak RSS ({size}) | "
        f"RSS ({small.size / MIB:.0f} MiB) | notes |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        curl = result.median_mb_s(result.curl, video.size)
        client = result.median_mb_s(result.client, video.size)
        peak = max(t.rss_peak_kib for t in result.client) / 1024
        small_peak = result.small.rss_peak_kib / 1024 if result.small else float("nan")
        notes = "; ".join(result.notes) or "-"
        print(
            f"| {result.platform} | {size} | {curl:.0f} | {client:.0f} | {client / curl:.2f} | "
            f"{peak:.0f} MiB | {small_peak:.0f} MiB | {notes} |"
        )
    print(
        "\n| platform | curl wall (server CPU) | client wall | client CPU | server CPU | sandbox time in "
        "file-less calls (slowest) | client MB/s without it | RSS at publish() start -> peak in publish() | "
        f"same, {small.size / MIB:.0f} MiB file |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        small_run = result.small or Transfer(0.0)
        walls = [t.wall_s - t.server_control_s for t in result.client]
        slowest = max(result.client, key=lambda t: t.server_control_s).slowest_control
        print(
            f"| {result.platform} | {_median_of(result.curl, 'wall_s')} "
            f"({_median_of(result.curl, 'server_cpu_s')}) | {_median_of(result.client, 'wall_s')} | "
            f"{_median_of(result.client, 'client_cpu_s')} | {_median_of(result.client, 'server_cpu_s')} | "
            f"{_median_of(result.client, 'server_control_s')} ({slowest}) | "
            f"{video.size / MB / statistics.median(walls):.0f} | "
            f"{max(t.rss_at_publish_kib for t in result.client) / 1024:.0f} -> "
            f"{max(t.rss_publish_peak_kib for t in result.client) / 1024:.0f} MiB | "
            f"{small_run.rss_at_publish_kib / 1024:.0f} -> {small_run.rss_publish_peak_kib / 1024:.0f} MiB |"
        )


def _median_of(transfers: list[Transfer], name: str) -> str:
    return f"{statistics.median(getattr(t, name) for t in transfers):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024, help="the big file, in MiB (default 1024)")
    parser.add_argument("--small-mb", type=int, default=50, help="the file for the RSS comparison, in MiB")
    parser.add_argument(
        "--runs", type=int, default=3, help="big-file uploads per platform, by each of curl and the client"
    )
    parser.add_argument("--platforms", default=",".join(PLATFORMS))
    args = parser.parse_args()
    platforms = args.platforms.split(",")
    unknown = set(platforms) - set(PLATFORMS)
    if unknown:
        parser.error(f"unknown platforms {', '.join(sorted(unknown))}; choose from {', '.join(PLATFORMS)}")
    if shutil.which("curl") is None or shutil.which("ffmpeg") is None:
        raise SystemExit("this benchmark needs curl and ffmpeg on PATH (apt-get install curl ffmpeg)")
    size, small_size = args.size_mb * MIB, args.small_mb * MIB
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        folder = Path(tmp)
        # The file, curl's copy in the sink, and the sandbox's copy (X keeps segments and the joined file).
        needed = 4 * size + 2 * small_size + 512 * MIB
        free = shutil.disk_usage(folder).free
        if free < needed:
            raise SystemExit(f"{folder} has {free / MIB:.0f} MiB free; this run needs {needed / MIB:.0f} MiB")
        base = folder / "base.mp4"
        make_base_video(base)
        video = prepare_video(base, folder / "big.mp4", size)
        small = prepare_video(base, folder / "small.mp4", small_size)
        print(
            f"video: {video.size / MIB:.0f} MiB ({video.size / MB:.1f} MB) and {small.size / MIB:.0f} MiB, "
            f"10 s 1080x1920 H.264/AAC + free box; {os.cpu_count()} CPUs, curl "
            f"{subprocess.run(['curl', '--version'], capture_output=True, text=True).stdout.split()[1]}, "
            f"load average before: {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        results = [benchmark_platform(p, video, small, args.runs, folder) for p in platforms]
        print(f"load average after: {os.getloadavg()[0]:.2f}\n")
        print_tables(results, video, small)
        print(f"\n(MB = 10^6 bytes; medians of {args.runs} run(s); every upload's sha256 and size verified)")


if __name__ == "__main__":
    main()
