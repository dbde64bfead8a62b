"""`skillstack watch`: goals whose Atom feeds the nightly updates."""

from __future__ import annotations

import argparse
import json

from skillstack.commands import UserError
from skillstack.commands.answers import filters_from_args


def cmd_watch_add(args: argparse.Namespace) -> int:
    from recommender import api

    if args.top < 1:
        raise UserError(f"--top must be at least 1, not {args.top}")
    added = api.watch_add(args.goal, top=args.top, filters=filters_from_args(args), occupation_uri=args.occupation)
    print(f"watching {added.id}: {added.goal} ({added.describe()})")
    print(f"feed: {api.watch_feed_path(added.id)}")
    return 0


def cmd_watch_list(args: argparse.Namespace) -> int:
    from recommender import api

    watched = api.watches()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": w.id,
                        "goal": w.goal,
                        "filters": w.describe(),
                        "feed": str(api.watch_feed_path(w.id)),
                        "entries": len(api.watch_feed(w.id)),
                    }
                    for w in watched
                ],
                ensure_ascii=False,
            )
        )
        return 0
    if not watched:
        print('no goal is watched; `skillstack watch add "data analyst"` watches one')
    for w in watched:
        print(f"{w.id}  {w.goal} ({w.describe()})  {len(api.watch_feed(w.id))} entries  {api.watch_feed_path(w.id)}")
    return 0


def cmd_watch_remove(args: argparse.Namespace) -> int:
    from recommender import api

    if not api.watch_remove(args.watch_id):
        raise UserError(f"no watch {args.watch_id}; `skillstack watch list` lists them")
    print(f"no longer watching {args.watch_id}")
    return 0


def cmd_watch_update(args: argparse.Namespace) -> int:
    from recommender import api

    updates = api.update_watch_feeds()
    if args.json:
        print(json.dumps({"feeds": len(updates), "entries": sum(u.entries for u in updates)}))
    else:
        for u in updates:
            print(f"{u.watch_id}: {u.entries} new entries  {u.path}")
    return 0
