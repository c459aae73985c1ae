"""A 60 s short published through TikTok's web upload page in headless Chromium, against the same file
through TikTok's Content Posting API: wall time of each, and the memory Chromium takes.

Issue 9 adds the browser path as a fallback for the API. What it costs per post, on this machine:
  - the video: one real 60 s 1080x1920 30 fps short, libx264 veryfast CRF 23 + AAC 48 kHz, faststart, from
    ffmpeg's `testsrc2` (the same file as bench_verify.py: ~45 MB, about 13x the bitrate of the factory's
    own renders, so the transfer is measured pessimistically). It is verified whole once before anything is
    timed (`verify_media`, as `pellacia-dist upload` does before either path); both paths' check() then
    reuse that verdict, so neither time below holds the whole-file check;
  - (a) the browser path: the TikTok web sandbox (sandbox/web/tiktok.py) on 127.0.0.1, a session logged in
    and stored encrypted as `pellacia-dist browser login` leaves it (the sandbox's `sessionid` cookie, as
    the browser tests store it), then `BrowserUploader("tiktok").publish(post, journal)` with no pacing,
    headless: a fresh Chromium per publish (launch, session restored, Playwright trace recorded as in
    production), the upload page, the file picked and sent by the page, the caption typed, visibility and
    AI-content set, Post, the confirmation, then the public profile read for the post's URL, and Chromium
    closed. Timed around publish(); the sandbox's request log splits it into phases;
  - (b) the API path: the TikTok API sandbox (sandbox/tiktok.py, as sandbox/platforms.py builds it:
    processing done at the first status poll) on 127.0.0.1 and the real `TikTokClient` configured through
    PELLACIA_TIKTOK_* (platform_environment), polling with no pause: check() then publish() (creator_info,
    init, the chunks, status), timed around both.
Both journals are in memory (no ledger database on either side). Both sandboxes run in this process; so
does the Playwright client, while Chromium and Playwright's node driver are child processes. Runs alternate
(browser, API, browser, ...) after one untimed warm-up of each, so load from other jobs falls on both.
Every post is checked in its sandbox: one new post per publish, its sha256 and size the file's.

Memory: while the browser runs, a thread samples every process under this one whose name is Chromium's
every ~50 ms and sums their RSS (psutil); the peak of that sum is "Chromium peak RSS". Summed RSS counts
the pages the processes share (the chromium binary, fonts) once per process, so the sum of PSS (each
shared page split between its users, /proc/<pid>/smaps_rollup) is sampled too, every ~250 ms (it costs
more to read), as the fairer total. Playwright's node driver is reported apart; this Python process (the
Playwright client, and the sandboxes) is not counted in either path. Chromium's CPU seconds are its
processes' user + system time as last sampled before they exited. Linux only.

    python benchmarks/bench_browser.py [--runs 3] [--warmup 1] [--keep DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from cryptography.fernet import Fernet

from pellacia_assets.rendering.verify import verify_media
from resources.browser.chromium import DEFAULT_EXECUTABLE
from resources.browser.sessions import SessionStore, StoredSession
from resources.browser.uploader import BrowserUploader
from resources.platforms.base import PublishedPost, VideoPost, sha256_of
from resources.platforms.config import PlatformSettings
from resources.platforms.credentials import SECRET_KEY_VARIABLE, EnvironmentOnlyStore
from resources.platforms.tiktok import TikTokClient

if TYPE_CHECKING:
    from sandbox.common import Request
    from sandbox.tiktok import TikTokSandbox
    from sandbox.web.tiktok import TikTokWebSandbox

MIB = 1024 * 1024
SAMPLE_S = 0.05
PSS_EVERY = 5  # samples: PSS (smaps_rollup) is read every 5th sample, ~250 ms
TITLE = "The lighthouse keeper"
DESCRIPTION = "Part one of the story, told in one minute."
HASHTAGS = ("#story", "#shorts")
# The sandbox's routes that end each phase of a browser publish (see `phases`).
PHASES = (
    ("launch, session, upload page", "upload_page"),
    ("file sent and probed", "upload"),
    ("caption, options, Post", "post"),
    ("confirmation, profile, close", ""),
)


def render_short(path: Path) -> None:
    """The 60 s 1080x1920 short of bench_verify.py: busy test pictures, ~45 MB."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=1080x1920:r=30",
         "-f", "lavfi", "-i", "sine=f=440:r=48000", "-t", "60", "-c:v", "libx264", "-preset", "veryfast",
         "-crf", "23", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
         str(path)],
        check=True,
    )  # fmt: skip


class MemoryJournal:
    """The ledger row's journal in memory (Journal: get/put/set_state), for both paths alike."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.states: list[str] = []

    def get(self, name: str) -> str | None:
        return self.ids.get(name)

    def put(self, name: str, value: str) -> None:
        self.ids[name] = value

    def set_state(self, state: str) -> None:
        self.states.append(state)


# --- Chromium's memory -----------------------------------------------------------------------------------


def is_chromium(process: psutil.Process) -> bool:
    return "chrom" in process.name()


def pss_kib(pid: int) -> int:
    """Pss of one process from /proc/<pid>/smaps_rollup, in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class TreeSample:
    """The peaks over one publish of the processes under this one (sums across Chromium's processes)."""

    rss_peak: int = 0  # bytes, Chromium's processes summed
    pss_peak: int = 0  # bytes, Chromium's processes summed
    driver_rss_peak: int = 0  # bytes, Playwright's node driver
    processes_peak: int = 0
    samples: int = 0
    cpu_s: dict[int, float] = field(default_factory=dict)  # per Chromium pid, as last seen

    @property
    def chromium_cpu_s(self) -> float:
        return sum(self.cpu_s.values())


class TreeSampler:
    """Samples the child processes every SAMPLE_S seconds in a thread, until stopped."""

    def __init__(self) -> None:
        self.me = psutil.Process(os.getpid())
        self.result = TreeSample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        count = 0
        while not self._stop.is_set():
            self.sample(with_pss=count % PSS_EVERY == 0)
            count += 1
            self._stop.wait(SAMPLE_S)

    def sample(self, *, with_pss: bool) -> None:
        rss = pss = driver = chromium = 0
        for process in self.me.children(recursive=True):
            try:
                with process.oneshot():
                    resident = process.memory_info().rss
                    if is_chromium(process):
                        chromium += 1
                        rss += resident
                        times = process.cpu_times()
                        self.result.cpu_s[process.pid] = times.user + times.system
                        if with_pss:
                            pss += pss_kib(process.pid) * 1024
                    elif process.name().startswith("node"):  # "node-MainThread"
                        driver += resident
            except psutil.NoSuchProcess:
                continue
        result = self.result
        result.samples += 1
        result.rss_peak = max(result.rss_peak, rss)
        result.pss_peak = max(result.pss_peak, pss)
        result.driver_rss_peak = max(result.driver_rss_peak, driver)
        result.processes_peak = max(result.processes_peak, chromium)


# --- the two paths ---------------------------------------------------------------------------------------


@dataclass
class Run:
    path: str  # "browser" or "api"
    wall_s: float
    process_cpu_s: float  # this process: the Python client and the in-process sandbox
    phases_s: dict[str, float] = field(default_factory=dict)
    chromium: TreeSample | None = None
    load_average: float = 0.0


class RouteClock:
    """When the sandbox finished answering each route, during one publish (perf_counter)."""

    def __init__(self, web: TikTokWebSandbox) -> None:
        self.web = web
        self.done: dict[str, float] = {}
        web.observe(self._seen)

    def _seen(self, request: Request, _seconds: float) -> None:
        route = self.web.route_name(request)
        if route is not None:
            self.done[route] = time.perf_counter()


def phases(clock: RouteClock, started: float, ended: float) -> dict[str, float]:
    """The publish split at the moments the sandbox answered the upload page, the file and Post."""
    result, previous = {}, started
    for name, route in PHASES:
        moment = clock.done.get(route, ended) if route else ended
        result[name] = moment - previous
        previous = moment
    return result


def check_new_post(posts: list[dict[str, Any]], before: int, video: Path, digest: str, where: str) -> None:
    if len(posts) != before + 1:
        raise SystemExit(f"{where}: the sandbox holds {len(posts)} posts, expected {before + 1}")
    made = posts[-1]
    if (made["sha256"], made["size"]) != (digest, video.stat().st_size):
        raise SystemExit(f"{where}: the sandbox stored {made['size']} bytes {made['sha256']}, not the file")


def browser_publish(
    uploader: BrowserUploader, web: TikTokWebSandbox, clock: RouteClock, post: VideoPost, digest: str
) -> Run:
    before = len(web.posts)
    clock.done.clear()
    cpu = time.process_time()
    with TreeSampler() as sampler:
        started = time.perf_counter()
        published: PublishedPost = uploader.publish(post, MemoryJournal())
        ended = time.perf_counter()
    cpu = time.process_time() - cpu
    check_new_post(web.posts, before, post.video, digest, "browser")
    if published.post_id != web.posts[-1]["id"]:
        raise SystemExit(f"browser: publish() returned {published.post_id}, the profile shows another post")
    return Run(
        "browser",
        ended - started,
        cpu,
        phases(clock, started, ended),
        sampler.result,
        os.getloadavg()[0],
    )


def api_publish(client: TikTokClient, api: TikTokSandbox, post: VideoPost, digest: str) -> Run:
    before = len(api.posts)
    cpu = time.process_time()
    started = time.perf_counter()
    client.check(post)
    client.publish(post, MemoryJournal())
    ended = time.perf_counter()
    cpu = time.process_time() - cpu
    check_new_post(api.posts, before, post.video, digest, "api")
    return Run("api", ended - started, cpu, load_average=os.getloadavg()[0])


@contextmanager
def both_paths(
    folder: Path,
) -> Iterator[tuple[BrowserUploader, TikTokWebSandbox, TikTokClient, TikTokSandbox]]:
    """The two sandboxes running, a stored browser session, and the API client configured for its sandbox."""
    from sandbox.common import running
    from sandbox.platforms import CLIENT_ID, CLIENT_SECRET, platform_environment
    from sandbox.tiktok import TikTokSandbox
    from sandbox.web.tiktok import SESSION_COOKIE, TikTokWebSandbox

    os.environ.setdefault(SECRET_KEY_VARIABLE, Fernet.generate_key().decode())
    with ExitStack() as stack:
        web = stack.enter_context(running(TikTokWebSandbox(folder / "tiktok-web")))
        api = stack.enter_context(
            running(TikTokSandbox(folder / "tiktok-api", client_key=CLIENT_ID, client_secret=CLIENT_SECRET))
        )
        cookie = {
            "name": SESSION_COOKIE,
            "value": web.log_in(),
            "domain": "127.0.0.1",
            "path": "/",
            "expires": -1,
            "httpOnly": True,
            "secure": False,
            "sameSite": "Lax",
        }
        store = SessionStore(folder / "sessions")
        store.save("tiktok", "default", StoredSession({"cookies": [cookie], "origins": []}))
        os.environ.update(platform_environment("tiktok", api))
        uploader = BrowserUploader(
            "tiktok",
            "default",
            store,
            web_url=web.base_url,
            headless=True,
            artifacts_dir=folder / "failures",
            options={"privacy_level": "PUBLIC_TO_EVERYONE", "is_aigc": "true"},
        )
        client = TikTokClient(
            PlatformSettings.from_env("tiktok"), EnvironmentOnlyStore(), poll_interval_s=0.0
        )
        stack.callback(client.close)
        yield uploader, web, client, api


# --- the report ------------------------------------------------------------------------------------------


def seconds_row(name: str, runs: list[Run]) -> str:
    walls = [run.wall_s for run in runs]
    return (
        f"| {name} | {statistics.median(walls):.2f} s | {min(walls):.2f} s | {max(walls):.2f} s | "
        f"{', '.join(f'{wall:.2f}' for wall in walls)} |"
    )


def print_report(browser: list[Run], api: list[Run]) -> None:
    print("\n| path | median | min | max | runs |\n|---|---|---|---|---|")
    print(seconds_row("browser (Chromium, headless, pace 0)", browser))
    print(seconds_row("API (Content Posting API client)", api))
    ratio = statistics.median(r.wall_s for r in browser) / statistics.median(r.wall_s for r in api)
    print(f"\nbrowser / API (medians): {ratio:.1f}x")

    samples = [run.chromium for run in browser if run.chromium is not None]
    rows = (
        ("peak RSS, processes summed", "{:,.0f} MiB", [s.rss_peak / MIB for s in samples]),
        ("peak PSS, processes summed", "{:,.0f} MiB", [s.pss_peak / MIB for s in samples]),
        ("processes at once", "{:.0f}", [float(s.processes_peak) for s in samples]),
        ("CPU (user + system)", "{:.1f} s", [s.chromium_cpu_s for s in samples]),
        ("Playwright node driver peak RSS", "{:,.0f} MiB", [s.driver_rss_peak / MIB for s in samples]),
    )
    print("\n| Chromium, per publish | median | max |\n|---|---|---|")
    for name, form, values in rows:
        print(f"| {name} | {form.format(statistics.median(values))} | {form.format(max(values))} |")
    print(
        "\n| browser phase (from the sandbox's answers) | median |\n|---|---|\n"
        + "\n".join(
            f"| {name} | {statistics.median(run.phases_s[name] for run in browser):.2f} s |"
            for name, _route in PHASES
        )
    )
    print(
        f"\nthis process's CPU per publish (Python client + sandbox), median: browser "
        f"{statistics.median(r.process_cpu_s for r in browser):.2f} s, API "
        f"{statistics.median(r.process_cpu_s for r in api):.2f} s"
    )


def one_line(browser: Run, api: Run) -> str:
    tree = browser.chromium or TreeSample()
    return (
        f"browser {browser.wall_s:.2f} s (Chromium peak RSS {tree.rss_peak / MIB:.0f} MiB, PSS "
        f"{tree.pss_peak / MIB:.0f} MiB, {tree.processes_peak} processes, CPU {tree.chromium_cpu_s:.1f} s), "
        f"API {api.wall_s:.2f} s; load average {api.load_average:.2f}"
    )


def chromium_version() -> str:
    done = subprocess.run([str(DEFAULT_EXECUTABLE), "--version"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="timed publishes by each path")
    parser.add_argument("--warmup", type=int, default=1, help="untimed publishes by each path first")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the short (reused if there)")
    parser.add_argument("--json", type=Path, help="also write every run's measurements to this file")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if shutil.which("ffmpeg") is None or not os.access(DEFAULT_EXECUTABLE, os.X_OK):
        raise SystemExit(f"this benchmark needs ffmpeg on PATH and Chromium at {DEFAULT_EXECUTABLE}")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-browser-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        short = folder / "short-60s.mp4"
        if not short.exists():
            started = time.perf_counter()
            render_short(short)
            print(f"rendered {short.name} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        info = verify_media(short)
        digest = sha256_of(short)
        print(
            f"{short.name}: {short.stat().st_size / 1e6:.1f} MB, {info.duration_s:.1f} s, {info.width}x"
            f"{info.height} {info.video_codec}/{info.audio_codec}; verified whole in "
            f"{time.perf_counter() - started:.2f} s (untimed)"
        )
        print(f"{chromium_version()}; {os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")
        post = VideoPost(short, TITLE, DESCRIPTION, HASHTAGS)
        browser: list[Run] = []
        api_runs: list[Run] = []
        shutil.rmtree(folder / "work", ignore_errors=True)  # a kept folder's sandboxes start empty
        with both_paths(folder / "work") as (uploader, web, client, api):
            clock = RouteClock(web)
            for number in range(args.warmup + args.runs):
                timed = number >= args.warmup
                label = f"run {number - args.warmup + 1}" if timed else "warm-up"
                b = browser_publish(uploader, web, clock, post, digest)
                a = api_publish(client, api, post, digest)
                print(f"  {label}: {one_line(b, a)}", flush=True)
                if timed:
                    browser.append(b)
                    api_runs.append(a)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print_report(browser, api_runs)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "video": {"path": str(short), "bytes": short.stat().st_size, "sha256": digest},
                        "browser": [asdict(run) for run in browser],
                        "api": [asdict(run) for run in api_runs],
                    },
                    indent=2,
                )
            )
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
