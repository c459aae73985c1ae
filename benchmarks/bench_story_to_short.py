"""Story to finished short, end to end through the Dagster job, on the default offline stack.

Runs the `production` job for a ~60 s story (one part) in a temporary PELLACIA_HOME, three times, and
prints the wall time of each asset step (median), the whole run, and the process's peak RSS (this
process plus its ffmpeg children). The voice pace is measured once before timing, as in production.

    python benchmarks/bench_story_to_short.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

STORY = """# The bakery that opened at midnight

Every night at twelve, the bakery on Rowan Street turned its lights on. There was no sign and no menu,
just a bell above the door and a woman named Ines who baked whatever the first customer asked for.
I found it during a week of insomnia. The first night I asked for cinnamon rolls. The second night a nurse
asked for rye bread, and we waited together while it baked. By the third week there were twelve of us:
nurses, a taxi driver, a student, a man who fixed the trams. Nobody talked much. We just waited for the
bread and watched the ovens glow. When the building was sold in March, Ines gave each of us a jar of
her starter dough. Mine lives on my kitchen counter now. Every Friday at midnight I bake two loaves,
and I leave one on the step of whoever in my building has their lights on.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        os.environ["PELLACIA_HOME"] = str(home)
        import dagster as dg

        from pellacia_assets.cli import add_story
        from pellacia_assets.definitions import defs
        from pellacia_assets.instance import prepare_dagster_home
        from pellacia_assets.manifests import load_video
        from pellacia_assets.settings import Settings
        from resources.media_store.store import MediaStore
        from resources.tts.resource import TTSResource

        settings = Settings.from_env()
        prepare_dagster_home(settings)
        story_file = Path(scratch) / "bakery.md"
        story_file.write_text(STORY)
        key = add_story(settings, story_file, key="bakery")
        TTSResource(
            engine=settings.tts_engine, voice=settings.tts_voice, cache_dir=str(settings.cache_dir)
        ).words_per_minute()
        job = defs().resolve_job_def("production")
        steps: dict[str, list[float]] = defaultdict(list)
        totals = []
        with dg.DagsterInstance.get() as instance:
            for run in range(args.runs):
                started = time.monotonic()
                result = job.execute_in_process(partition_key=key, instance=instance)
                totals.append(time.monotonic() - started)
                starts: dict[str, float] = {}
                for record in instance.all_logs(result.run_id):
                    event = record.dagster_event
                    if event is None or not event.step_key:
                        continue
                    if event.is_step_start:
                        starts[event.step_key] = record.timestamp
                    elif event.is_step_success:
                        steps[event.step_key].append(record.timestamp - starts[event.step_key])
                print(f"run {run + 1}: {totals[-1]:.1f} s", flush=True)
        summary = load_video(MediaStore(settings.media_dir), key).part(1)
        print(f"\nvideo: {summary.duration_s:.1f} s, {summary.size_bytes / 1e6:.1f} MB")
    print("\n| step | median wall (s) |\n|---|---|")
    for step, values in steps.items():
        print(f"| {step} | {statistics.median(values):.2f} |")
    print(f"| **whole run** (first run included: {totals[0]:.1f} s) | **{statistics.median(totals):.2f}** |")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS: python {own:.0f} MB, largest child (ffmpeg/espeak) {children:.0f} MB")


if __name__ == "__main__":
    main()
