"""Records of other apps that follow a boundary change.

grids places buildings, organisations, facilities and what hangs on them itself (services.regrid,
by table name: they are all placed by point). Records it does not own and that are routed by
grid — open events, handled by a grid's leader — follow through a `Follower` their app
registers at start-up (AppConfig.ready), so grids never imports them:
- `preview(cursor, changed_ids)`: counts and lists for the impact preview, with the temp table
  `_proposed (code, grid_id, boundary)` holding the primary layer's grids as proposed;
- `follow(redraw, changed_ids, policy)`: inside the commit's transaction, after the new
  boundaries are written; returns what it did, stored on the Redraw.
"""
from dataclasses import dataclass
from typing import Callable

# What happens to open records handled in a changed grid (a choice at commit).
POLICIES = {
    "default": "move the ones not yet accepted to the new grid's leader, keep the accepted ones",
    "keep": "keep every one with its handler",
    "move": "move every one to the new grid's leader",
}


@dataclass(frozen=True)
class Follower:
    name: str
    preview: Callable
    follow: Callable


FOLLOWERS: dict[str, Follower] = {}


def register(follower: Follower) -> None:
    FOLLOWERS[follower.name] = follower
