"""Dialogue handlers: one Router per feature, written once for every platform."""

from __future__ import annotations

from aiogram import Router

from handlers import broadcasts, fallback, invites, linking, membership, menu, onboarding, staff


def build_routers() -> list[Router]:
    """Fresh routers (a Router can join only one Dispatcher); the fallback router goes last."""
    return [onboarding.build_router(), linking.build_router(), invites.build_router(), staff.build_router(), menu.build_router(), broadcasts.build_router(), membership.build_router(), fallback.build_router()]
