"""Nothing lost on kill -9: a burst of 诉求 through the real gateway, the bot killed mid-burst.

    .venv/bin/python bench/chaos.py [--reports 1000] [--kills 3] [--outage 30]

6 members in 3 groups send `--reports` reports (@-mentioning the bot) over the Node test
gateway (tests/gateway, mock WeChat, loopback); the `chamberbot run` process is killed by
PID (`kill -9`) `--kills` times during the burst and restarted on the same database
(tests/chaos_harness.py). Then a gateway outage of `--outage` seconds with replies queued.

Prints: reports lost beyond the 100 ms window (no case), lost inside it, duplicates (a
report with two cases), doubled sends (the same text to the same conversation twice),
acknowledgements of unknown fate (in flight at a kill), the journal's window (frame read →
its batch committed), restart-to-login seconds, and the outage's reconnect and drain
seconds after the gateway returned.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from statistics import quantiles

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chaos_harness import handled, run  # noqa: E402
from tests.gateway_harness import PEOPLE, Gateway, running, wait_for  # noqa: E402


def _pct(values: list[float], p: int) -> float:
    return quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else 0.0


def burst(reports: int, kills: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        began = time.monotonic()
        out = run(Path(scratch), reports, kills)
        seconds = time.monotonic() - began
    strict = {r.tag for r in out.strict()}
    lost = [t for t in strict if not out.cases[t]]
    lost_window = [r.tag for r in out.reports if r.tag not in strict and not out.cases[r.tag]]
    lead = [
        min(k for k in out.kills if k >= r.said_at) - r.said_at
        for r in out.reports
        if r.tag not in strict and not out.cases[r.tag]
    ]
    duplicates = sum(1 for numbers in out.cases.values() if len(numbers) > 1)
    unknown = sum(1 for s in out.ack_status.values() if s == "unknown")
    missing_ack = [t for t in strict if out.acks[t] != 1 and out.ack_status[t] != "unknown"]
    print(
        f"chaos bench: {reports} reports, 6 members, 3 groups, {kills} kill -9 ({seconds:.1f} s)"
    )
    print(f"  reports on the stream > 100 ms before a kill: {len(strict)}")
    print(f"  lost beyond the window:           {len(lost)}")
    print(
        f"  lost inside the 100 ms window:    {len(lost_window)}"
        f" of {len(out.reports) - len(strict)}"
        + (f" (said at most {max(lead) * 1000:.0f} ms before a kill)" if lead else "")
    )
    print(f"  duplicates (two cases):           {duplicates}")
    print(f"  doubled sends:                    {out.doubled()}")
    print(f"  acks missing (not unknown):       {len(missing_ack)}")
    print(f"  acks of unknown fate (未确认送达): {unknown}; staff told {out.unknown_notices},"
          f" false 未能送达 {out.failed_notices}")  # fmt: skip
    print(f"  integrity_check:                  {out.integrity}")
    w = out.windows_ms
    print(f"  journal window frame → committed: p50 {_pct(w, 50):.1f} ms, p99 {_pct(w, 99):.1f}"
          f" ms, max {max(w):.1f} ms ({len(w)} rows)")  # fmt: skip
    print(f"  restart → logged in:              {', '.join(f'{s:.2f} s' for s in out.reconnects)}")


def outage(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with running(folder) as (gw, bot):
            gw.post("/logout")
            bot.wait_log("logged out of WeChat")
            for contact in PEOPLE:
                gw.say(contact, "帮助")
            db = folder / "data" / "chamberbot.db"
            wait_for(lambda: handled(db) == len(PEOPLE), "the messages handled", timeout=30)
            gw.kill()
            time.sleep(seconds)  # the outage itself
            back = Gateway(folder / "gateway.log", grpc_port=gw.grpc_port,
                           control_port=gw.control_port)  # fmt: skip
            try:
                back.populate()
                returned = time.monotonic()
                connected = bot.log().count("connected to the gateway")
                wait_for(lambda: bot.log().count("connected to the gateway") > connected,
                         "the reconnect", timeout=60, every=0.01)  # fmt: skip
                reconnect = time.monotonic() - returned
                for contact in PEOPLE:
                    back.wait_sent(contact, 1, timeout=60)
                drained = time.monotonic() - returned
                doubled = sum(len(back.sent_to(c)) - 1 for c in PEOPLE)
            finally:
                back.close()
    print(f"outage bench: gateway down {seconds:g} s, {len(PEOPLE)} replies queued")
    print(f"  reconnected after the gateway returned: {reconnect:.2f} s")
    print(f"  last queued reply delivered:            {drained:.2f} s; doubled {doubled}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--outage", type=float, default=30.0)
    args = parser.parse_args()
    burst(args.reports, args.kills)
    outage(args.outage)


if __name__ == "__main__":
    main()
