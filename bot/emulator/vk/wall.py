"""The community's wall: the posts a test puts there (wall_post) and wall.get, which reads them.

    post = vk.wall_post(datetime(2025, 3, 4, 10, tzinfo=UTC), "Open day", likes=12, views=340)
    post.comments += 1   # counters are plain fields: change them as people would

VK lets only a user token or an app's service key read a wall (the schema's access_token_type
for wall.get: user, service), so the community's token gets error 27 there and the emulator's
service_token is the key that reads it (it gets error 28 for the community's methods).

wall.get answers like VK: the wall of owner_id (minus the community's id) or domain (its
screen name, club<id> or public<id>); the pinned post (at most one: pinning another unpins
it) first, then the others newest first; `count` (VK's total for the filter) and `items`
from `offset`, at most `count` (default 20) of them. The schema gives count no maximum: VK
documents 100, and the emulator refuses more (error 100), so a client asking for more fails
a test instead of silently getting 100. Filters: all (the default), owner (posts by the
community), others (by users); the emulator holds no postponed, suggested, archived or donut
posts, so those lists are empty. is_pinned is on the pinned post only, as VK sends it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.emulator.vk.profiles import VkProfiles
from bot.emulator.vk.server import endpoint
from bot.emulator.vk.spec import param_error

DEFAULT_COUNT = 20  # wall.get without count


@dataclass
class WallPost:
    """A post on the community's wall. The counters are what VK shows under the post."""

    id: int
    owner_id: int  # minus the community's id
    from_id: int  # the community (owner_id) or the user who wrote it
    date: int  # unixtime of publishing
    text: str = ""
    likes: int = 0
    comments: int = 0
    reposts: int = 0
    views: int = 0
    is_pinned: bool = False

    @property
    def raw(self) -> dict[str, Any]:
        """The post as wall.get's items carry it (wall_wallpost_full), seen with a service key:
        nobody to like, comment or repost as."""
        post: dict[str, Any] = {
            "inner_type": "wall_wallpost",
            "id": self.id,
            "owner_id": self.owner_id,
            "from_id": self.from_id,
            "date": self.date,
            "text": self.text,
            "post_type": "post",
            "attachments": [],
            "post_source": {"type": "vk"},
            "comments": {"can_post": 0, "count": self.comments},
            "likes": {"can_like": 0, "count": self.likes, "user_likes": 0, "can_publish": 0},
            "reposts": {"count": self.reposts, "wall_count": self.reposts, "mail_count": 0, "user_reposted": 0},
            "views": {"count": self.views},
            "marked_as_ads": 0,
            "is_favorite": False,
        }
        if self.is_pinned:
            post["is_pinned"] = 1
        return post


class VkWall(VkProfiles):
    """The community's wall posts and wall.get."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.wall: list[WallPost] = []  # in the order the test made them
        self._post_ids = itertools.count(1)

    def wall_post(
        self,
        date: datetime | int,
        text: str = "",
        *,
        likes: int = 0,
        comments: int = 0,
        reposts: int = 0,
        views: int = 0,
        pinned: bool = False,
        from_id: int | None = None,
    ) -> WallPost:
        """A post published at `date` (an aware datetime or unixtime) on the community's wall,
        by the community unless from_id names a user. pinned=True unpins the post pinned before."""
        if isinstance(date, datetime):
            if date.tzinfo is None:
                raise ValueError("give the post's date with its time zone (datetime(..., tzinfo=UTC))")
            date = int(date.timestamp())
        if min(likes, comments, reposts, views) < 0:
            raise ValueError("a post's counters are not negative")
        post = WallPost(
            id=next(self._post_ids),
            owner_id=-self.group_id,
            from_id=-self.group_id if from_id is None else from_id,
            date=date,
            text=text,
            likes=likes,
            comments=comments,
            reposts=reposts,
            views=views,
        )
        self.wall.append(post)
        if pinned:
            self.pin_post(post)
        return post

    def pin_post(self, post: WallPost | None) -> None:
        """Pin this post (None: unpin the wall); a wall has one pinned post at most."""
        for other in self.wall:
            other.is_pinned = other is post

    def _wall_shown(self, filter_name: str) -> list[WallPost]:
        """The posts wall.get lists for the filter, in its order: the pinned one, then newest first."""
        if filter_name == "owner":
            posts = [post for post in self.wall if post.from_id == post.owner_id]
        elif filter_name == "others":
            posts = [post for post in self.wall if post.from_id != post.owner_id]
        elif filter_name == "all":
            posts = list(self.wall)
        else:
            posts = []  # postponed, suggests, archived, donut: the emulator holds none
        return sorted(posts, key=lambda post: (post.is_pinned, post.date, post.id), reverse=True)

    def _check_wall_owner(self, params: dict[str, Any]) -> None:
        """owner_id (VK reads it before domain) or domain must name the community's wall."""
        community = -self.group_id
        if "owner_id" in params:
            owner_id = params["owner_id"]
            if owner_id == self.group_id:
                raise param_error(f"owner_id {owner_id} is a user's wall: a community's wall is minus its id, {community}")
            if owner_id != community:
                raise param_error(f"owner_id {owner_id}: the emulator holds only the community's wall, {community}")
            return
        if "domain" in params:
            domain = str(params["domain"])
            if domain not in (self.screen_name, f"club{self.group_id}", f"public{self.group_id}"):
                raise param_error(f"domain {domain!r}: the emulator holds only the community's wall, {self.screen_name}")
            return
        raise param_error("owner_id or domain is required: a service key has no wall of its own")

    @endpoint("wall.get")
    async def _wall_get(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_wall_owner(params)
        posts = self._wall_shown(params.get("filter", "all"))
        offset = params.get("offset", 0)
        page = posts[offset : offset + params.get("count", DEFAULT_COUNT)]
        answer: dict[str, Any] = {"count": len(posts), "items": [post.raw for post in page]}
        if params.get("extended"):
            fields = {str(field) for field in params.get("fields", [])}
            authors = dict.fromkeys(post.from_id for post in page if post.from_id > 0)
            known = [self._users[author] for author in authors if author in self._users]
            answer["profiles"] = [self._user_object(user, fields) for user in known]
            answer["groups"] = [self._group_object()]
        return answer
